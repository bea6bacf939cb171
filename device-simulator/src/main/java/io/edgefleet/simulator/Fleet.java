package io.edgefleet.simulator;

import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.protocol.ModelRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** Many agents in this JVM (they share one ONNX Runtime environment). */
public final class Fleet implements AutoCloseable {
    private final List<Agent> agents = new CopyOnWriteArrayList<>();

    public void start(AgentConfig config) throws IOException {
        Agent a = new Agent(config);
        a.start();
        agents.add(a);
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
