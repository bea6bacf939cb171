package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.serving.InferInput;
import io.edgefleet.agent.serving.InferRequest;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModeTimes;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graceful degradation in a real agent (ONNX Runtime, MQTT): a deploy that ships a light variant, the answering
 * model switching to it under thermal throttling and latency pressure and back after calm windows, requests in
 * flight never failing, operator mode commands, cascade with its escalations, and the refusals.
 */
class AgentDegradationTest {
    static final String DEV = "dev-degrade";
    static final String CLASS = "gw";
    static final float[] CONFIDENT = {100f, 100f, 100f, 100f};
    static final float[] UNSURE = {0.01f, 0f, 0f, 0f};

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final JsonCodec codec = new JsonCodec();
    final byte[] fullBytes = TinyOnnx.linear(0f);
    final byte[] lightBytes = TinyOnnx.linear(0.5f);
    TestBroker broker;
    ServerClient srv;
    Agent agent;
    Path sys;

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
        sys = dir.resolve("sys");
        cool();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null) {
            agent.stop();
        }
        srv.close();
        broker.close();
    }

    void zoneTemp(long milliC) throws Exception {
        Path z = sys.resolve("class/thermal/thermal_zone0");
        Files.createDirectories(z);
        Files.writeString(z.resolve("trip_point_0_type"), "passive\n");
        Files.writeString(z.resolve("trip_point_0_temp"), "80000\n");
        Files.writeString(z.resolve("temp"), milliC + "\n");
    }

    void hot() throws Exception {
        zoneTemp(86_000);
    }

    void cool() throws Exception {
        zoneTemp(45_000);
    }

    static float[] direct(byte[] model, float[] x) throws Exception {
        OrtEnvironment env = OrtModelRunner.environment();
        try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, x.length});
             OrtSession.Result r = s.run(Map.of("X", t))) {
            FloatBuffer b = ((OnnxTensor) r.get("Y").orElseThrow()).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    Agent start(AgentConfig.Builder b) throws Exception {
        agent = new Agent(b.deviceId(DEV).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dir.resolve("agent")).telemetryWindowSeconds(1)
                .inferenceIntervalMs(3_600_000).downloadTimeoutSeconds(30).sysfsRoot(sys).build());
        agent.start();
        ServerClient.await(agent::isConnected, 10_000, "agent connected");
        return agent;
    }

    /** Deploys version 1 of {@code name} with version 2 as its light fallback and waits for the commit. */
    void deployWithFallback(String name, byte[] full, byte[] light, HealthPolicy health) throws Exception {
        Artifacts.Artifact main = server.make(CLASS, name, 1, full);
        Artifacts.Artifact fb = server.make(CLASS, name, 2, light);
        srv.publishArtifact(main);
        srv.publishArtifact(fb);
        Command deploy = Command.deploy("dep-" + name, main.ref(), health, fb.ref());
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(deploy, DEV)), false);
        commit("dep-" + name, name);
        assertEquals(fb.model(), agent.lightVariant(name), "the fallback is kept with the committed model");
    }

    /** The health watch judges windows with inferences: call the model until the deployment commits. */
    void commit(String deployment, String name) throws Exception {
        ServerClient.await(() -> agent.inference().isReady(name), 30_000, name + " activated");
        long deadline = System.currentTimeMillis() + 30_000;
        while (srv.events(DEV).stream().noneMatch(e -> e.type() == Type.COMMITTED && deployment.equals(e.deploymentId()))) {
            assertTrue(System.currentTimeMillis() < deadline, deployment + " did not commit: " + srv.events(DEV));
            agent.inference().infer(name, InferRequest.of(InferInput.fp32("X", new long[] {1, 4}, CONFIDENT)));
            Thread.sleep(20);
        }
    }

    void config(Map<String, String> c) throws Exception {
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(Command.config(c), DEV)), false);
    }

    float[] infer(float[] x) throws Exception {
        return agent.inference().infer("linear", InferRequest.of(InferInput.fp32("X", new long[] {1, 4}, x)))
                .output("Y").floats();
    }

    /** Two clients calling the in-process inference API all along; every answer must be the full or the light model's. */
    final class Clients implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong byFull = new AtomicLong();
        final AtomicLong byLight = new AtomicLong();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        final List<Future<?>> running = new ArrayList<>();

        Clients(float[] x) throws Exception {
            float[] full = direct(fullBytes, x);
            float[] light = direct(lightBytes, x);
            for (int t = 0; t < 2; t++) {
                running.add(pool.submit(() -> {
                    while (!stop.get()) {
                        try {
                            float[] y = infer(x);
                            if (Arrays.equals(y, full)) {
                                byFull.incrementAndGet();
                            } else if (Arrays.equals(y, light)) {
                                byLight.incrementAndGet();
                            } else {
                                failures.add("unexpected answer " + Arrays.toString(y));
                            }
                            Thread.sleep(2);
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
    }

    @Test
    void thermalThrottlingSwitchesToTheLightVariantAndBackAfterCalmWindows() throws Exception {
        start(AgentConfig.builder().degradationCalmWindows(3));
        deployWithFallback("linear", fullBytes, lightBytes, new HealthPolicy(1000, 0.05, 1, 0));
        assertEquals("full", agent.degradationMode("linear"));
        assertArrayEquals(direct(fullBytes, CONFIDENT), infer(CONFIDENT), "the full model answers without pressure");

        Clients clients = new Clients(CONFIDENT);
        try (clients) {
            ServerClient.await(() -> clients.byFull.get() > 20, 10_000, "full answers");
            hot();
            ServerClient.await(() -> "light".equals(agent.degradationMode("linear")), 10_000, "switch to light when hot");
            long lightBefore = clients.byLight.get();
            ServerClient.await(() -> clients.byLight.get() > lightBefore + 20, 10_000, "the light variant answers");
            assertArrayEquals(direct(lightBytes, CONFIDENT), infer(CONFIDENT));
            long coolingFrom = System.currentTimeMillis();
            cool();
            ServerClient.await(() -> "full".equals(agent.degradationMode("linear")), 15_000, "back to full when cool");
            // Hysteresis, counted in windows rather than seconds (a loaded machine runs a fixed-rate window timer late
            // and then catches up, so two windows can close well within a second). The sensor is read after each
            // window is cut, on the agent thread, in cut order, and every reading that starts after coolingFrom is
            // calm. With three calm windows needed, the window cut right after the first calm reading starts after
            // coolingFrom and still ends light (a window's mode is taken at its cut, before that cut's reading);
            // going back at the first calm reading would leave every window that starts after coolingFrom full.
            ServerClient.await(() -> srv.telemetry(DEV).stream().anyMatch(w -> w.windowStart() >= coolingFrom
                            && w.modes() != null && "light".equals(w.modes().mode())), 10_000,
                    "hysteresis: a whole window after the cooling still ran light");
            long fullBefore = clients.byFull.get();
            ServerClient.await(() -> clients.byFull.get() > fullBefore + 20, 10_000, "the full model answers again");
        }
        assertTrue(clients.failures.isEmpty(), clients.failures.size() + " requests failed across the switches, first: "
                + clients.failures.peek());

        // Telemetry says how long each mode ran.
        ServerClient.await(() -> srv.telemetry(DEV).stream().anyMatch(w -> w.modes() != null
                && w.modes().lightSeconds() > 0), 10_000, "a window with light time");
        ServerClient.await(() -> lastModes() != null && "full".equals(lastModes().mode())
                && lastModes().fullSeconds() > 0.5, 10_000, "a full window at the end");
        double light = srv.telemetry(DEV).stream().filter(w -> w.modes() != null)
                .mapToDouble(w -> w.modes().lightSeconds()).sum();
        assertTrue(light >= 1.5, "at least the two calm windows ran light: " + light + " s");

        // Each switch is a device event with its reason, for the server to store and show.
        DeviceEvent down = srv.awaitEvent(DEV, e -> e.type() == Type.MODE_CHANGED
                && e.reason() == ReasonCode.THERMAL_THROTTLING, 10_000);
        assertTrue(down.detail().startsWith("full -> light: thermal throttling"), down.detail());
        assertEquals("linear", down.model().model());
        assertNull(down.deploymentId(), "a mode switch moves no rollout");
        DeviceEvent up = srv.awaitEvent(DEV, e -> e.type() == Type.MODE_CHANGED
                && e.reason() == ReasonCode.PRESSURE_ENDED, 10_000);
        assertEquals("light -> full: 3 calm windows", up.detail());
    }

    ModeTimes lastModes() {
        List<TelemetryWindow> ws = srv.telemetry(DEV);
        for (int i = ws.size() - 1; i >= 0; i--) {
            if (ws.get(i).modes() != null) {
                return ws.get(i).modes();
            }
        }
        return null;
    }

    @Test
    void latencyOverTheSloSwitchesToLightAndAnOperatorCommandPinsFull() throws Exception {
        // An SLO no inference can meet: every window with inferences is pressure.
        start(AgentConfig.builder().degradationCalmWindows(2).degradationP95Ms(0.0001));
        deployWithFallback("linear", fullBytes, lightBytes, new HealthPolicy(0, 0.05, 1, 0));
        Clients clients = new Clients(CONFIDENT);
        try (clients) {
            ServerClient.await(() -> "light".equals(agent.degradationMode("linear")), 10_000, "p95 over the SLO");
            config(Map.of("mode", "full", "modeModel", "linear"));
            ServerClient.await(() -> "full".equals(agent.degradationMode("linear")), 10_000, "operator pins full");
            Thread.sleep(2500);
            assertEquals("full", agent.degradationMode("linear"), "a pinned mode ignores the pressure");
            config(Map.of("mode", "auto"));
            ServerClient.await(() -> "light".equals(agent.degradationMode("linear")), 10_000, "auto again: light");
        }
        DeviceEvent slow = srv.awaitEvent(DEV, e -> e.type() == Type.MODE_CHANGED
                && e.reason() == ReasonCode.LATENCY_SLO_BREACH, 10_000);
        assertTrue(slow.detail().startsWith("full -> light: p95 ") && slow.detail().contains("over the SLO 0.00 ms"),
                slow.detail());
        DeviceEvent pinned = srv.awaitEvent(DEV, e -> e.type() == Type.MODE_CHANGED
                && e.reason() == ReasonCode.OPERATOR_REQUEST, 10_000);
        assertEquals("light -> full: operator command full", pinned.detail());
        assertTrue(clients.failures.isEmpty(), "first failure: " + clients.failures.peek());
        assertTrue(clients.byLight.get() > 0 && clients.byFull.get() > 0);
    }

    @Test
    void aPinnedModeSurvivesARestartAndAnUpdateOnTrialIsJudgedOnTheFullModel() throws Exception {
        start(AgentConfig.builder());
        deployWithFallback("linear", fullBytes, lightBytes, new HealthPolicy(1000, 0.05, 1, 0));
        config(Map.of("mode", "light", "modeModel", "linear"));
        ServerClient.await(() -> "light".equals(agent.degradationMode("linear")), 10_000, "pinned light");
        agent.stop();
        // as in AgentMqttTest: a new connection with the same id must not overlap Moquette's handling of the old one
        ServerClient.await(() -> !broker.connected(DEV), 5000, "the broker has ended the stopped agent's connection");

        start(AgentConfig.builder());
        assertEquals("light", agent.degradationMode("linear"), "the pin is on disk, not only in memory");
        assertArrayEquals(direct(lightBytes, CONFIDENT), infer(CONFIDENT));
        Thread.sleep(2500);
        assertEquals("light", agent.degradationMode("linear"), "no pressure, yet the pin holds after the restart");

        // An update arrives while the model runs pinned light: its trial runs on the new full model.
        byte[] full3 = TinyOnnx.linear(0.25f);
        byte[] light4 = TinyOnnx.linear(0.75f);
        Artifacts.Artifact main = server.make(CLASS, "linear", 3, full3);
        Artifacts.Artifact fb = server.make(CLASS, "linear", 4, light4);
        srv.publishArtifact(main);
        srv.publishArtifact(fb);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(Command.deploy("dep-3", main.ref(),
                new HealthPolicy(1000, 0.05, 3, 1), fb.ref()), DEV)), false);
        srv.awaitEvent(DEV, e -> e.type() == Type.ACTIVATED && "dep-3".equals(e.deploymentId()), 30_000);
        float[] byFull3 = direct(full3, CONFIDENT);
        int answered = 0;
        long deadline = System.currentTimeMillis() + 30_000;
        while (srv.events(DEV).stream().noneMatch(e -> e.type() == Type.COMMITTED && "dep-3".equals(e.deploymentId()))) {
            assertTrue(System.currentTimeMillis() < deadline, "dep-3 did not commit: " + srv.events(DEV));
            float[] y = infer(CONFIDENT);
            // still uncommitted after the answer: it was given during the trial (one racing the commit may be light)
            if (agent.state("linear").phase() == io.edgefleet.agent.store.Phase.ACTIVATED_UNCOMMITTED) {
                assertArrayEquals(byFull3, y, "during the health watch the full model on trial answers");
            }
            answered++;
            Thread.sleep(20);
        }
        assertTrue(answered > 10, "the watch saw the full model's latency over " + answered + " requests");
        DeviceEvent trial = srv.awaitEvent(DEV, e -> e.type() == Type.MODE_CHANGED
                && e.reason() == ReasonCode.HEALTH_WATCH, 10_000);
        assertEquals(3, trial.model().version());
        assertTrue(trial.detail().startsWith("light -> full: linear:3"), trial.detail());
        // decided: the pin takes over again, now on the new version's own fallback
        ServerClient.await(() -> "light".equals(agent.degradationMode("linear")), 10_000, "pinned light after commit");
        assertEquals(fb.model(), agent.lightVariant("linear"));
        assertArrayEquals(direct(light4, CONFIDENT), infer(CONFIDENT));

        config(Map.of("mode", "auto", "modeModel", "linear"));
        Path pins = dir.resolve("agent/degradation-modes.properties");
        ServerClient.await(() -> {
            try {
                return !Files.readString(pins).contains("linear");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, 10_000, "auto removes the pin from disk");
    }

    @Test
    void cascadeEscalatesUnsureAnswersToTheFullModel() throws Exception {
        start(AgentConfig.builder().cascadeThreshold(0.8));
        deployWithFallback("linear", fullBytes, lightBytes, new HealthPolicy(1000, 0.05, 1, 0));
        config(Map.of("mode", "cascade"));
        ServerClient.await(() -> "cascade".equals(agent.degradationMode("linear")), 10_000, "cascade");
        // The light model is sure of CONFIDENT (top-1 ~ 1.0): it answers. UNSURE gives near-uniform logits (top-1 ~ 0.37).
        for (int i = 0; i < 30; i++) {
            assertArrayEquals(direct(lightBytes, CONFIDENT), infer(CONFIDENT));
        }
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(direct(fullBytes, UNSURE), infer(UNSURE), "escalated: the full model answers");
        }
        ServerClient.await(() -> srv.telemetry(DEV).stream().filter(w -> w.modes() != null)
                .mapToLong(w -> w.modes().cascadeInferences()).sum() >= 40, 10_000, "cascade windows sent");
        long cascade = 0;
        long escalated = 0;
        for (TelemetryWindow w : srv.telemetry(DEV)) {
            if (w.modes() != null) {
                cascade += w.modes().cascadeInferences();
                escalated += w.modes().escalations();
                if (w.modes().cascadeInferences() > 0) {
                    assertEquals((double) w.modes().escalations() / w.modes().cascadeInferences(),
                            w.modes().escalationRate(), 0.001);
                }
            }
        }
        assertEquals(40, cascade);
        assertEquals(10, escalated);
    }

    @Test
    void refusesCascadeForARegressionModelAndModesForModelsWithoutFallback() throws Exception {
        start(AgentConfig.builder());
        deployWithFallback("reg", TinyOnnx.regression(0f), TinyOnnx.regression(0.1f),
                new HealthPolicy(1000, 0.05, 1, 0));
        config(Map.of("mode", "cascade", "modeModel", "reg"));
        DeviceEvent e = srv.awaitEvent(DEV, x -> x.type() == Type.COMMAND_REJECTED, 10_000);
        assertEquals(ReasonCode.INVALID_FIELD, e.reason());
        assertTrue(e.detail().contains("cascade refused for model 'reg'") && e.detail().contains("classification"),
                e.detail());
        assertEquals("full", agent.degradationMode("reg"));

        // light works for any model with a fallback
        config(Map.of("mode", "light", "modeModel", "reg"));
        ServerClient.await(() -> "light".equals(agent.degradationMode("reg")), 10_000, "light");

        // a model deployed without a fallback has no light mode
        Artifacts.Artifact plain = server.make(CLASS, "linear", 1, fullBytes);
        srv.publishArtifact(plain);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(plain.deploy("dep-plain", new HealthPolicy(1000, 0.05, 1, 0)),
                DEV)), false);
        commit("dep-plain", "linear");
        assertNull(agent.lightVariant("linear"));
        config(Map.of("mode", "light", "modeModel", "linear"));
        DeviceEvent e2 = srv.awaitEvent(DEV, x -> x.type() == Type.COMMAND_REJECTED && x.detail().contains("'linear'"),
                10_000);
        assertTrue(e2.detail().contains("no light variant"), e2.detail());
        config(Map.of("mode", "sideways"));
        DeviceEvent e3 = srv.awaitEvent(DEV, x -> x.type() == Type.COMMAND_REJECTED && x.detail().contains("sideways"),
                10_000);
        assertEquals(ReasonCode.INVALID_FIELD, e3.reason());
    }

    @Test
    void aFallbackThatFailsItsHashFailsTheDeployAndKeepsNoFile() throws Exception {
        start(AgentConfig.builder());
        Artifacts.Artifact main = server.make(CLASS, "linear", 1, fullBytes);
        Artifacts.Artifact fb = server.make(CLASS, "linear", 2, lightBytes);
        srv.publishArtifact(main);
        // the fallback's manifest is signed by a key the agent does not pin
        Artifacts other = new Artifacts();
        srv.publishArtifact(other.make(CLASS, "linear", 2, lightBytes));
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(Command.deploy("dep-bad", main.ref(),
                new HealthPolicy(1000, 0.05, 1, 0), fb.ref()), DEV)), false);
        DeviceEvent e = srv.awaitEvent(DEV, x -> x.type() == Type.DEPLOY_FAILED, 30_000);
        assertEquals(ReasonCode.SIGNATURE_INVALID, e.reason());
        assertEquals(main.model(), e.model(), "the event names the deployment's model");
        assertTrue(e.detail().startsWith("fallback linear:2"), e.detail());
        assertNull(agent.runningModels().get("linear"), "the main model never went into service");
    }
}
