package io.edgefleet.agent.inference;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** CPU time of the calling thread, for the energy model; 0 when the JVM cannot measure it. */
public final class CpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean SUPPORTED = THREADS.isCurrentThreadCpuTimeSupported() && enable();

    private CpuTime() {
    }

    private static boolean enable() {
        try {
            if (!THREADS.isThreadCpuTimeEnabled()) {
                THREADS.setThreadCpuTimeEnabled(true);
            }
            return true;
        } catch (UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Nanoseconds of CPU time the calling thread has used. */
    public static long currentThread() {
        return SUPPORTED ? THREADS.getCurrentThreadCpuTime() : 0;
    }
}
