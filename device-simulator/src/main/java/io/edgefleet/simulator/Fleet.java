package io.edgefleet.simulator;

import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.exec.AgentExecutors;
import io.edgefleet.agent.inference.InferenceFaults;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.simulator.fault.FaultPlan;
import io.edgefleet.simulator.fault.ScheduledFaults;
import io.edgefleet.simulator.fault.ThermalPressure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many agents in this JVM, optionally suffering a {@link FaultPlan}. They share one ONNX Runtime environment and
 * one set of {@link AgentExecutors} (a timer, a small work pool, a send pool, the MQTT client's event loop), so
 * the JVM's thread count stays flat as agents are added; each agent keeps its own MQTT session and identity.
 */
public final class Fleet implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Fleet.class.getName());

    /** Device index (its number - 1) to what runs it; several starts may run at once, each under its own index. */
    private final ConcurrentSkipListMap<Integer, Member> members = new ConcurrentSkipListMap<>();
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final FaultPlan plan;
    private final long startMillis = System.currentTimeMillis();
    private final ScheduledExecutorService scheduler;
    private final AgentExecutors executors;

    public Fleet() {
        this(FaultPlan.NONE);
    }

    /** A fleet whose devices suffer {@code plan}, timed from now, on the default shared executors. */
    public Fleet(FaultPlan plan) {
        this(plan, AgentExecutors.shared(DEFAULT_WORK_THREADS, DEFAULT_SEND_THREADS));
    }

    /** Work threads by default: the cores (agent logic and inference are CPU work). */
    public static final int DEFAULT_WORK_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());
    /** Send threads by default: they mostly wait for PUBACKs, so more than the cores. */
    public static final int DEFAULT_SEND_THREADS = 16;

    /** A fleet whose devices suffer {@code plan} and run on {@code executors} (closed with the fleet). */
    public Fleet(FaultPlan plan, AgentExecutors executors) {
        this.plan = plan;
        this.executors = executors;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleet-faults");
            t.setDaemon(true);
            return t;
        });
    }

    /** One device: its configuration, its faults, and the agent that runs it now (a new one after a power cut). */
    private static final class Member {
        final AgentConfig config;
        final InferenceFaults faults;
        volatile Agent agent;

        Member(AgentConfig config, InferenceFaults faults, Agent agent) {
            this.config = config;
            this.faults = faults;
            this.agent = agent;
        }
    }

    /** Starts the next device (index: how many were started before). */
    public void start(AgentConfig config) throws IOException {
        start(nextIndex.getAndIncrement(), config);
    }

    /**
     * Starts device {@code index} (its number - 1: the fault plan selects devices by it). Safe to call from several
     * threads at once for different indexes; {@link #agents()} lists them by index.
     */
    public void start(int index, AgentConfig config) throws IOException {
        if (index < 0 || members.containsKey(index)) {
            throw new IllegalArgumentException("device index " + index + " is negative or taken");
        }
        nextIndex.accumulateAndGet(index + 1, Math::max);
        config = withThermalPressure(index, config);
        InferenceFaults f = new ScheduledFaults(plan, index, startMillis, System::currentTimeMillis);
        Agent a = new Agent(config, OrtModelRunner.forInput(config.intraOpThreads(), config.input(), f), executors);
        a.start();
        members.put(index, new Member(config, f, a));
        FaultPlan.PowerCut cut = plan.powerCut();
        if (cut != null && FaultPlan.selected(cut.share(), index)) {
            long at = Math.max(0, startMillis + (long) (cut.atSeconds() * 1000) - System.currentTimeMillis());
            scheduler.schedule(() -> powerCut(index), at, TimeUnit.MILLISECONDS);
            if (cut.restartAfterSeconds() > 0) {
                scheduler.schedule(() -> restart(index), at + (long) (cut.restartAfterSeconds() * 1000), TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * A device the plan's thermal share selects reads its own fake sysfs tree ({@code <dataDir>/sysfs}) instead of
     * the configured root, heated and cooled on the plan's schedule; any other device is left as configured.
     */
    private AgentConfig withThermalPressure(int index, AgentConfig config) throws IOException {
        FaultPlan.Thermal th = plan.thermal();
        if (th == null || !FaultPlan.selected(th.share(), index)) {
            return config;
        }
        Path root = config.dataDir().resolve("sysfs");
        ThermalPressure zone = ThermalPressure.prepare(root);
        long at = Math.max(0, startMillis + (long) (th.fromSeconds() * 1000) - System.currentTimeMillis());
        scheduler.schedule(() -> thermal(config.deviceId(), zone, true), at, TimeUnit.MILLISECONDS);
        if (th.seconds() > 0) {
            scheduler.schedule(() -> thermal(config.deviceId(), zone, false), at + (long) (th.seconds() * 1000),
                    TimeUnit.MILLISECONDS);
        }
        return config.toBuilder().sysfsRoot(root).build();
    }

    private static void thermal(String deviceId, ThermalPressure zone, boolean hot) {
        try {
            if (hot) {
                zone.heat();
            } else {
                zone.cool();
            }
            LOG.log(System.Logger.Level.INFO, (hot ? "thermal pressure on " : "thermal pressure off on ") + deviceId);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot change the simulated temperature of " + deviceId + ": " + e);
        }
    }

    /** Cuts device {@code index}'s power: no OFFLINE status, no flush; what it wrote to disk stays. */
    public void powerCut(int index) {
        Agent a = members.get(index).agent;
        LOG.log(System.Logger.Level.INFO, "power cut on " + a.deviceId());
        a.kill();
    }

    /** Powers device {@code index} up again with the same configuration and data directory. */
    public void restart(int index) {
        try {
            Member m = members.get(index);
            AgentConfig c = m.config;
            Agent a = new Agent(c, OrtModelRunner.forInput(c.intraOpThreads(), c.input(), m.faults), executors);
            a.start();
            m.agent = a;
            LOG.log(System.Logger.Level.INFO, "power back on " + a.deviceId());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "device " + index + " did not come back after the power cut: " + e);
        }
    }

    /** The running agents, by device index. */
    public List<Agent> agents() {
        return members.values().stream().map(m -> m.agent).toList();
    }

    /** Agents started so far. */
    public int size() {
        return members.size();
    }

    public long connected() {
        return members.values().stream().filter(m -> m.agent.isConnected()).count();
    }

    /** How many agents run each model (label), as seen locally. */
    public Map<String, Integer> running() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Agent a : agents()) {
            ModelRef m = a.runningModel();
            out.merge(m == null ? "no model" : m.label(), 1, Integer::sum);
        }
        return out;
    }

    /** The executors the agents share (for reports: thread counts). */
    public AgentExecutors executors() {
        return executors;
    }

    /** Stops every agent (OFFLINE status, DISCONNECT), a bounded number at a time, then the shared executors. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        // Each stop waits up to a few seconds for its OFFLINE status' PUBACK; a bounded pool keeps ten thousand
        // stops from becoming ten thousand threads.
        List<Agent> agents = agents();
        ExecutorService stoppers = Executors.newFixedThreadPool(Math.min(32, Math.max(1, agents.size())), r -> {
            Thread t = new Thread(r, "fleet-stop");
            t.setDaemon(true);
            return t;
        });
        for (Agent a : agents) {
            stoppers.execute(a::stop);
        }
        stoppers.shutdown();
        try {
            if (!stoppers.awaitTermination(Math.max(15, agents.size() / 50), TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "some agents did not stop in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stoppers.shutdownNow();
        members.clear();
        executors.close();
    }
}
