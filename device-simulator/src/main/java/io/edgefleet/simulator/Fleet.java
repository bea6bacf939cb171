package io.edgefleet.simulator;

import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.inference.InferenceFaults;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.simulator.fault.FaultPlan;
import io.edgefleet.simulator.fault.ScheduledFaults;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Many agents in this JVM (they share one ONNX Runtime environment), optionally suffering a {@link FaultPlan}. */
public final class Fleet implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Fleet.class.getName());

    private final List<Agent> agents = new CopyOnWriteArrayList<>();
    private final List<AgentConfig> configs = new CopyOnWriteArrayList<>();
    private final List<InferenceFaults> faults = new CopyOnWriteArrayList<>();
    private final FaultPlan plan;
    private final long startMillis = System.currentTimeMillis();
    private final ScheduledExecutorService scheduler;

    public Fleet() {
        this(FaultPlan.NONE);
    }

    /** A fleet whose devices suffer {@code plan}, timed from now. */
    public Fleet(FaultPlan plan) {
        this.plan = plan;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleet-faults");
            t.setDaemon(true);
            return t;
        });
    }

    public void start(AgentConfig config) throws IOException {
        int index = agents.size();
        InferenceFaults f = new ScheduledFaults(plan, index, startMillis, System::currentTimeMillis);
        Agent a = new Agent(config, OrtModelRunner.forInput(config.intraOpThreads(), config.input(), f));
        a.start();
        agents.add(a);
        configs.add(config);
        faults.add(f);
        FaultPlan.PowerCut cut = plan.powerCut();
        if (cut != null && FaultPlan.selected(cut.share(), index)) {
            long at = Math.max(0, startMillis + (long) (cut.atSeconds() * 1000) - System.currentTimeMillis());
            scheduler.schedule(() -> powerCut(index), at, TimeUnit.MILLISECONDS);
            if (cut.restartAfterSeconds() > 0) {
                scheduler.schedule(() -> restart(index), at + (long) (cut.restartAfterSeconds() * 1000), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Cuts device {@code index}'s power: no OFFLINE status, no flush; what it wrote to disk stays. */
    public void powerCut(int index) {
        Agent a = agents.get(index);
        LOG.log(System.Logger.Level.INFO, "power cut on " + a.deviceId());
        a.kill();
    }

    /** Powers device {@code index} up again with the same configuration and data directory. */
    public void restart(int index) {
        try {
            AgentConfig c = configs.get(index);
            Agent a = new Agent(c, OrtModelRunner.forInput(c.intraOpThreads(), c.input(), faults.get(index)));
            a.start();
            agents.set(index, a);
            LOG.log(System.Logger.Level.INFO, "power back on " + a.deviceId());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "device " + index + " did not come back after the power cut: " + e);
        }
    }

    public List<Agent> agents() {
        return Collections.unmodifiableList(agents);
    }

    public int size() {
        return agents.size();
    }

    public long connected() {
        return agents.stream().filter(Agent::isConnected).count();
    }

    /** How many agents run each model (label), as seen locally. */
    public Map<String, Integer> running() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Agent a : agents) {
            ModelRef m = a.runningModel();
            out.merge(m == null ? "no model" : m.label(), 1, Integer::sum);
        }
        return out;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        List<Thread> stoppers = new ArrayList<>();
        for (Agent a : agents) {
            Thread t = new Thread(a::stop, "stop-" + a.deviceId());
            t.start();
            stoppers.add(t);
        }
        for (Thread t : stoppers) {
            try {
                t.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        agents.clear();
    }
}
