package io.edgefleet.agent.exec;

import io.edgefleet.agent.mqtt.HiveMqTransport;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.agent.mqtt.PahoTransport;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads agents run on: one timer (window cuts, inference ticks, connect attempts, health and
 * download timeouts only fire there and hand the work on), a small pool for CPU work (each agent's
 * serial "agent thread" and its inference ticks), a pool for work that waits on the broker (each agent's
 * telemetry sender waits for PUBACKs), and the MQTT client implementations. A standalone agent owns a set
 * of one thread each; the simulator creates one set for all its agents, so its thread count does not grow
 * with the number of agents (with the HiveMQ client, whose event loop is shared too).
 */
public final class AgentExecutors implements AutoCloseable {
    private final ScheduledExecutorService timer;
    private final ExecutorService cpu;
    private final ExecutorService io;
    private final MqttTransport.Factory paho;
    private final MqttTransport.Factory hivemq;
    private final String description;

    private AgentExecutors(ScheduledExecutorService timer, ExecutorService cpu, ExecutorService io, String description) {
        this.timer = timer;
        this.cpu = cpu;
        this.io = io;
        this.paho = PahoTransport.factory();
        this.hivemq = HiveMqTransport.factory();
        this.description = description;
    }

    /** One agent's own set: a timer, one worker, one sender thread (plus the MQTT client's own). */
    public static AgentExecutors standalone() {
        return new AgentExecutors(timer("agent-timer"), Executors.newFixedThreadPool(1, daemon("agent-work")),
                Executors.newFixedThreadPool(1, daemon("agent-send")), "standalone");
    }

    /**
     * A set shared by many agents in one JVM.
     *
     * @param cpuThreads threads for agent logic and inference (about the number of cores)
     * @param ioThreads  threads for telemetry sends, which wait for the broker's PUBACK (more than the cores: they
     *                   mostly wait)
     */
    public static AgentExecutors shared(int cpuThreads, int ioThreads) {
        if (cpuThreads < 1 || ioThreads < 1) {
            throw new IllegalArgumentException("need at least one cpu and one io thread");
        }
        return new AgentExecutors(timer("agents-timer"), Executors.newFixedThreadPool(cpuThreads, daemon("agents-work")),
                Executors.newFixedThreadPool(ioThreads, daemon("agents-send")),
                "shared: " + cpuThreads + " work, " + ioThreads + " send, 1 timer");
    }

    public ScheduledExecutorService timer() {
        return timer;
    }

    public ExecutorService cpu() {
        return cpu;
    }

    public ExecutorService io() {
        return io;
    }

    /** A new serial executor (an agent's "thread") on the CPU pool. */
    public SerialExecutor serialCpu(String name) {
        return new SerialExecutor(name, cpu, timer);
    }

    /** A new serial executor on the pool for work that waits on the broker. */
    public SerialExecutor serialIo(String name) {
        return new SerialExecutor(name, io, timer);
    }

    /** The MQTT client implementation of that kind, on the resources its clients share. */
    public MqttTransport.Factory transports(MqttTransport.Kind kind) {
        return kind == MqttTransport.Kind.HIVEMQ ? hivemq : paho;
    }

    @Override
    public String toString() {
        return description;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        cpu.shutdown();
        io.shutdown();
        try {
            cpu.awaitTermination(2, TimeUnit.SECONDS);
            io.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cpu.shutdownNow();
        io.shutdownNow();
    }

    private static ScheduledExecutorService timer(String name) {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemon(name));
        // Cancelled timeouts (most download and ack timers are) leave the queue at once instead of at their deadline.
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
