package io.edgefleet.engine.eval;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** CPU time of the calling thread, or -1 when the JVM cannot measure it. */
final class ThreadCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean SUPPORTED = supported();

    private ThreadCpu() {
    }

    private static boolean supported() {
        try {
            if (!THREADS.isCurrentThreadCpuTimeSupported()) {
                return false;
            }
            if (!THREADS.isThreadCpuTimeEnabled()) {
                THREADS.setThreadCpuTimeEnabled(true);
            }
            return true;
        } catch (UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Nanoseconds of CPU time the calling thread has used; -1 when unsupported. */
    static long nanos() {
        return SUPPORTED ? THREADS.getCurrentThreadCpuTime() : -1;
    }
}
