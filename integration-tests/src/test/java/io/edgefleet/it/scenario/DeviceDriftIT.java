package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.inference.InferenceFaults;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Drift and energy end to end: the packaged server, a real broker, two real agents on the same model. One
 * agent's inputs shift once it has its self-reference; the drift score in the stored telemetry rises for it and
 * stays low for the other, and every stored window names its energy source.
 */
class DeviceDriftIT {
    static final String CLASS = "it-drift";
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static Fleet fleet;
    static Api api;
    static final List<Agent> started = new ArrayList<>();

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("drift");
        api = fleet.api();
    }

    @AfterAll
    static void stopFleet() {
        started.forEach(Agent::stop);
        if (fleet != null) {
            fleet.close();
        }
    }

    /** Float inputs shifted by 3 once {@code shifting} is set. */
    static final class Shift implements InferenceFaults {
        volatile boolean shifting;

        @Override
        public boolean transformsInputs() {
            return shifting;
        }

        @Override
        public float[] input(String name, float[] values) {
            float[] out = values.clone();
            for (int i = 0; i < out.length; i++) {
                out[i] += 3f;
            }
            return out;
        }
    }

    private static Agent start(Fleet.Device d, InferenceFaults faults) {
        AgentConfig c = fleet.agentConfig(d).telemetryWindowSeconds(1).inferenceIntervalMs(10)
                .driftSelfReferenceSamples(50).driftMinWindowSamples(20).build();
        try {
            Agent a = new Agent(c, OrtModelRunner.forInput(1, "synthetic", faults));
            a.start();
            started.add(a);
            return a;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<JsonNode> windows(String device) {
        List<JsonNode> out = new ArrayList<>();
        api.get("/api/v1/devices/" + device + "/telemetry?limit=500").expect(200).forEach(out::add);
        return out;
    }

    @Test
    void aDriftingDeviceRaisesItsStoredDriftScoreAndAnUndriftedOneStaysLow() {
        api.createDeviceClass(CLASS, 500.0);
        List<Fleet.Device> devices = fleet.register(CLASS, "it-drift-1", "it-drift-2");
        Shift shift = new Shift();
        start(devices.get(0), shift);
        start(devices.get(1), InferenceFaults.NONE);
        long version = api.uploadModel("it-drift-model", TestModels.mlp(21).bytes()).path("version").asLong();
        api.deployToClass("it-drift-model", version, CLASS, null);

        // both have a self-reference and report drift for the model
        for (Fleet.Device d : devices) {
            Await.until(TIMEOUT, d.id() + " reports drift against its self-reference", () -> windows(d.id()).stream()
                    .anyMatch(w -> "self".equals(w.path("driftDetail").path("reference").asText())), () -> "");
        }
        shift.shifting = true;
        Await.until(TIMEOUT, "the drifting device's stored drift crosses the alert threshold", () -> windows("it-drift-1")
                .stream().anyMatch(w -> w.path("drift").asDouble(0) >= 0.2), () -> windows("it-drift-1").toString());

        // the undrifted device scores its windows on its own clock: wait for a few of them (the drifting one can cross
        // in its first shifted window, before the other has closed a second scored window)
        Await.until(TIMEOUT, "the undrifted device reports three scored windows", () -> windows("it-drift-2").stream()
                .filter(w -> w.has("drift")).count() >= 3, () -> windows("it-drift-2").toString());
        List<JsonNode> calm = windows("it-drift-2").stream().filter(w -> w.has("drift")).toList();
        long alarms = calm.stream().filter(w -> w.path("drift").asDouble() >= 0.2).count();
        assertTrue(alarms == 0, alarms + " of " + calm.size() + " undrifted windows alerted: " + calm);
        for (Fleet.Device d : devices) {
            for (JsonNode w : windows(d.id())) {
                assertTrue(w.hasNonNull("energySource"), "every stored window names its energy source: " + w);
            }
        }
    }
}
