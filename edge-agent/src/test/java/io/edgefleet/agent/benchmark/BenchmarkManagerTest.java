package io.edgefleet.agent.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.StoreState;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.Artifacts.Artifact;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ManualTimers;
import io.edgefleet.agent.testing.RecordingSink;
import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.agent.update.CommandProcessor;
import io.edgefleet.agent.update.ModelSwitch;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.protocol.BenchmarkReport;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.PowerModel;
import io.edgefleet.protocol.ReasonCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BENCHMARK on the agent, message by message with a fake runner, link and clock: accepted and measured without
 * touching the A/B slots or the running model; refused when busy, for another class or an impossible batch; failed
 * for a forged manifest, an artifact that does not load, or one that never arrives; never run unsigned.
 */
class BenchmarkManagerTest {
    static final String CLASS = "gw";

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final FakeRunner runner = new FakeRunner();
    final FakeLink link = new FakeLink();
    final RecordingSink sink = new RecordingSink();
    final ManualTimers timers = new ManualTimers();
    final List<BenchmarkReport> reports = new CopyOnWriteArrayList<>();
    final List<Runnable> heldWork = new ArrayList<>();
    final List<ModelRef> activations = new ArrayList<>();
    ModelStore store;
    UpdateManager updates;
    LoadedModel running;

    @BeforeEach
    void setUp() throws Exception {
        store = ModelStore.open(dir.resolve("store"));
        ModelSwitch sw = (model, ref) -> {
            running = model;
            activations.add(ref);
        };
        updates = new UpdateManager("dev-1", CLASS, 60_000, store, runner,
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, sink, sw, timers);
    }

    private BenchmarkManager manager(Executor worker) {
        return manager(worker, 1.0);
    }

    private BenchmarkManager manager(Executor worker, double speedFactor) {
        return new BenchmarkManager("dev-1", CLASS, 30_000, dir.resolve("benchmark"), runner,
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, reports::add, timers, worker,
                () -> updates.downloading() || updates.watching(), () -> new EnergyMeter(null, new PowerModel(1.0, 3.0)),
                speedFactor);
    }

    @Test
    void anEmulatedSlowBoardReportsTheLatencyItsTelemetryWouldShow() {
        // the fake model sleeps 1 ms per run; an agent emulating a board 5x slower counts each run 5x, as its
        // inference loop does for telemetry, so the planner fits the same hardware the telemetry describes
        BenchmarkManager bm = manager(Runnable::run, 5.0);
        Artifact v2 = artifact("m", 2, Map.of("latencyMs", "1"));
        bm.onBenchmark(Command.benchmark("job-slow", v2.ref(), null, 10, 1));
        deliver(v2, bm::onArtifactMessage);
        assertEquals(1, reports.size());
        BenchmarkReport r = reports.get(0);
        assertEquals(BenchmarkReport.Status.COMPLETED, r.status(), r.toString());
        assertTrue(r.latency().p50() >= 5.0, "1 ms runs at speed factor 5 count at least 5 ms: " + r.latency());
    }

    /** Real time for the runs themselves; a sleep only records its deadline and moves the clock there. */
    static final class VirtualPacer implements BenchmarkManager.Pacer {
        final List<Long> wakeUps = new ArrayList<>();
        final List<Long> runStarts = new ArrayList<>();
        long skipped;

        @Override
        public long nanoTime() {
            return System.nanoTime() + skipped;
        }

        @Override
        public void sleepUntil(long deadline) {
            wakeUps.add(deadline);
            long now = nanoTime();
            if (deadline > now) {
                skipped += deadline - now;
            }
        }
    }

    private BenchmarkManager paced(VirtualPacer pacer, long agentIntervalMs, double speedFactor) {
        return new BenchmarkManager("dev-1", CLASS, 30_000, dir.resolve("benchmark"), runner,
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, reports::add, timers, Runnable::run,
                () -> false, () -> new EnergyMeter(null, new PowerModel(1.0, 3.0)), speedFactor, () -> agentIntervalMs,
                pacer);
    }

    @Test
    void aPacedBenchmarkStartsItsRunsTheIntervalApartAsTheInferenceLoopWould() {
        VirtualPacer pacer = new VirtualPacer();
        BenchmarkManager bm = paced(pacer, 50, 1.0);
        Artifact v2 = artifact("m", 2, Map.of());
        bm.onBenchmark(Command.benchmark("job-paced", v2.ref(), null, 12, 1, 20));
        deliver(v2, bm::onArtifactMessage);
        assertEquals(1, reports.size());
        BenchmarkReport r = reports.get(0);
        assertEquals(BenchmarkReport.Status.COMPLETED, r.status(), r.toString());
        assertEquals(12, r.inferences());
        // a wait before every run but the first, each due 20 ms after the one before (a fixed rate, not a fixed
        // pause after each run); the 11 pauses are in the reported wall time
        assertEquals(11, pacer.wakeUps.size(), pacer.wakeUps.toString());
        for (int i = 1; i < pacer.wakeUps.size(); i++) {
            assertEquals(20_000_000L, pacer.wakeUps.get(i) - pacer.wakeUps.get(i - 1), pacer.wakeUps.toString());
        }
        assertTrue(r.seconds() >= 11 * 0.020 - 1e-9, r.toString());
    }

    @Test
    void intervalZeroPacesAtTheAgentsOwnIntervalAndNoIntervalRunsBackToBack() {
        VirtualPacer own = new VirtualPacer();
        BenchmarkManager bm = paced(own, 35, 1.0);
        Artifact v2 = artifact("m", 2, Map.of());
        bm.onBenchmark(Command.benchmark("job-own", v2.ref(), null, 4, 1, 0));
        deliver(v2, bm::onArtifactMessage);
        assertEquals(3, own.wakeUps.size());
        assertEquals(35_000_000L, own.wakeUps.get(2) - own.wakeUps.get(1));

        VirtualPacer none = new VirtualPacer();
        BenchmarkManager old = paced(none, 35, 1.0);
        Artifact v3 = artifact("m", 3, Map.of());
        old.onBenchmark(Command.benchmark("job-b2b", v3.ref(), null, 6, 1));
        deliver(v3, old::onArtifactMessage);
        assertEquals(2, reports.size());
        assertEquals(6, reports.get(1).inferences(), reports.get(1).toString());
        assertEquals(List.of(), none.wakeUps, "a command without an interval never waits between runs");
    }

    @Test
    void aPacedRunSlowerThanTheIntervalIsFollowedAtItsEmulatedEndNotInABurst() {
        // 2 ms real x 20 emulated = 40 ms per run against a 10 ms interval: each next run is due at the previous
        // run's emulated end, so no two runs start closer than 40 ms (the inference loop's rule)
        VirtualPacer pacer = new VirtualPacer();
        BenchmarkManager bm = paced(pacer, 50, 20.0);
        Artifact v2 = artifact("m", 2, Map.of("latencyMs", "2"));
        bm.onBenchmark(Command.benchmark("job-slow-paced", v2.ref(), null, 5, 1, 10));
        deliver(v2, bm::onArtifactMessage);
        assertEquals(BenchmarkReport.Status.COMPLETED, reports.get(0).status(), reports.get(0).toString());
        assertEquals(4, pacer.wakeUps.size());
        for (int i = 1; i < pacer.wakeUps.size(); i++) {
            assertTrue(pacer.wakeUps.get(i) - pacer.wakeUps.get(i - 1) >= 40_000_000L, pacer.wakeUps.toString());
        }
    }

    private Artifact artifact(String name, long version, Map<String, String> spec) {
        return server.make(CLASS, name, version, FakeRunner.model(name + "-" + version, spec, 5000));
    }

    private static void deliver(Artifact a, java.util.function.BiConsumer<String, byte[]> to) {
        to.accept(a.manifestTopic(), a.manifestJson());
        for (int i = 0; i < a.chunks().size(); i++) {
            to.accept(a.chunkTopic(i), a.chunks().get(i));
        }
    }

    /** Deploys and commits v1 through the update manager, so there is an active model and slots to watch. */
    private void activeModel() {
        Artifact v1 = artifact("m", 1, Map.of());
        updates.onDeploy(v1.deploy("dep-1", new HealthPolicy(1000, 1, 1, 1)));
        deliver(v1, updates::onArtifactMessage);
        updates.onWindow(new io.edgefleet.protocol.TelemetryWindow(1, "w", 1, "dev-1", 1, 0, 1, v1.model(), 10, 0,
                new io.edgefleet.protocol.LatencyStats(1, 1, 1, 1, 1), null, null, 0, false));
        assertFalse(updates.watching());
        assertEquals(v1.model(), store.state().active());
    }

    private static List<String> files(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p) + ":" + p.toFile().length()).sorted().toList();
        }
    }

    @Test
    void measuresWithoutTouchingTheSlotsOrTheRunningModel() throws Exception {
        activeModel();
        StoreState before = store.state();
        List<String> storeFiles = files(dir.resolve("store"));
        LoadedModel runningBefore = running;
        BenchmarkManager bm = manager(Runnable::run);
        Artifact v2 = artifact("m", 2, Map.of("latencyMs", "1"));
        bm.onBenchmark(Command.benchmark("job-1", v2.ref(), null, 20, 4));
        assertTrue(link.subscriptions.contains(io.edgefleet.protocol.Topics.artifactFilter(CLASS, v2.model().sha256())));
        deliver(v2, bm::onArtifactMessage);

        assertEquals(1, reports.size());
        BenchmarkReport r = reports.get(0);
        assertEquals(BenchmarkReport.Status.COMPLETED, r.status(), r.toString());
        assertEquals("job-1", r.jobId());
        assertEquals(v2.model(), r.model());
        assertEquals(20L, r.inferences());
        assertEquals(4, r.batch());
        assertTrue(r.latency().p50() >= 1.0, "fake model sleeps 1 ms per run: " + r.latency());
        assertTrue(r.latency().p50() <= r.latency().p95() && r.latency().p95() <= r.latency().p99());
        assertEquals("model-local", r.energySource());
        assertNotNull(r.energyMj());
        r.validate();

        // the A/B slots, their files and the running model are exactly as before; the benchmark session is closed
        assertEquals(before, store.state());
        assertEquals(storeFiles, files(dir.resolve("store")));
        assertEquals(1, activations.size());
        assertEquals(runningBefore, running);
        FakeRunner.FakeModel benched = runner.loaded.get(runner.loaded.size() - 1);
        assertEquals("m-2", benched.name());
        assertTrue(benched.closed);
        assertEquals(20 + BenchmarkManager.WARMUP_RUNS, benched.inferences.get());
        assertFalse(Files.exists(dir.resolve("benchmark/artifact.part")));
        assertFalse(link.subscriptions.contains(io.edgefleet.protocol.Topics.artifactFilter(CLASS, v2.model().sha256())));
        assertFalse(bm.busy());
    }

    @Test
    void refusesWhileBusyForAnotherClassAndForAnImpossibleBatch() {
        BenchmarkManager bm = manager(heldWork::add);
        Artifact a = artifact("m", 3, Map.of());
        bm.onBenchmark(Command.benchmark("job-1", a.ref(), 1, null, null));
        bm.onBenchmark(Command.benchmark("job-2", a.ref(), 1, null, null));
        assertEquals(List.of(ReasonCode.BENCHMARK_BUSY), reports.stream().map(BenchmarkReport::reason).toList());
        assertEquals(BenchmarkReport.Status.REFUSED, reports.get(0).status());
        assertEquals("job-2", reports.get(0).jobId());
        deliver(a, bm::onArtifactMessage);
        assertTrue(bm.busy(), "busy until the timed loop has reported");
        heldWork.remove(0).run();
        assertFalse(bm.busy());
        assertEquals(BenchmarkReport.Status.COMPLETED, reports.get(1).status());

        Artifact other = server.make("pi4", "m", 4, FakeRunner.model("m-4", 100));
        bm.onBenchmark(Command.benchmark("job-3", other.ref(), 1, null, null));
        assertEquals(ReasonCode.INVALID_FIELD, reports.get(2).reason());

        // a model whose input has no dynamic batch axis cannot run a batch of 8
        BenchmarkManager direct = manager(Runnable::run);
        Artifact fixed = artifact("fixed", 1, Map.of("fixedBatch", "1"));
        direct.onBenchmark(Command.benchmark("job-4", fixed.ref(), 1, null, 8));
        deliver(fixed, direct::onArtifactMessage);
        assertEquals(BenchmarkReport.Status.REFUSED, reports.get(3).status());
        assertEquals(ReasonCode.INVALID_FIELD, reports.get(3).reason());
        assertTrue(reports.get(3).detail().contains("batch"), reports.get(3).detail());
    }

    @Test
    void refusesWhileADeployIsUnderway() {
        Artifact v1 = artifact("m", 1, Map.of());
        updates.onDeploy(v1.deploy("dep-1", new HealthPolicy(1000, 1, 1, 1)));
        manager(Runnable::run).onBenchmark(Command.benchmark("job-1", artifact("m", 2, Map.of()).ref(), 1, null, null));
        assertEquals(ReasonCode.BENCHMARK_BUSY, reports.get(0).reason());
    }

    @Test
    void failsOnForgedManifestUnloadableArtifactAndMissingArtifact() {
        BenchmarkManager bm = manager(Runnable::run);
        ManifestSigner forger = new ManifestSigner(ManifestSigner.generateKeyPair().getPrivate(),
                ManifestSigner.generateKeyPair().getPublic());
        Artifact forged = server.make(CLASS, "m", 5, FakeRunner.model("m-5", 3000), forger);
        bm.onBenchmark(Command.benchmark("job-1", forged.ref(), 1, null, null));
        deliver(forged, bm::onArtifactMessage);
        assertEquals(ReasonCode.SIGNATURE_INVALID, reports.get(0).reason());
        assertEquals(BenchmarkReport.Status.FAILED, reports.get(0).status());

        Artifact broken = artifact("m", 6, Map.of("load", "fail"));
        bm.onBenchmark(Command.benchmark("job-2", broken.ref(), 1, null, null));
        deliver(broken, bm::onArtifactMessage);
        assertEquals(ReasonCode.LOAD_FAILED, reports.get(1).reason());

        Artifact never = artifact("m", 7, Map.of());
        bm.onBenchmark(Command.benchmark("job-3", never.ref(), 1, null, null));
        bm.onArtifactMessage(never.manifestTopic(), never.manifestJson());
        timers.advance(30_000);
        assertEquals(ReasonCode.BENCHMARK_OUT_OF_TIME, reports.get(2).reason());
        assertTrue(reports.get(2).detail().contains("0 of"), reports.get(2).detail());
        assertFalse(bm.busy());
        assertEquals(0, activations.size(), "nothing was ever activated");
        assertEquals(null, store.state().active());
    }

    @Test
    void anUnsignedBenchmarkNeverRuns() throws Exception {
        JsonCodec codec = new JsonCodec();
        List<Command> handled = new ArrayList<>();
        CommandProcessor cp = new CommandProcessor("dev-1", codec, new SeenCommands(dir.resolve("seen.json"), 16),
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), System::currentTimeMillis, updates,
                new CommandProcessor.RuntimeConfig() {
                    @Override
                    public void telemetryWindowSeconds(int seconds) {
                    }

                    @Override
                    public void inferenceIntervalMs(long millis) {
                    }
                }, sink);
        cp.setBenchmarks(handled::add);
        Command bench = Command.benchmark("job-1", artifact("m", 1, Map.of()).ref(), 5, null, null);
        cp.onCommand(codec.encode(bench.addressedTo("dev-1", System.currentTimeMillis() + 60_000)));
        assertEquals(List.of(), handled);
        DeviceEvent rejected = sink.events.get(sink.events.size() - 1);
        assertEquals(ReasonCode.COMMAND_UNSIGNED, rejected.reason());

        // a signed one whose fields were changed after signing is refused too
        Command signed = server.sign(bench, "dev-1");
        Command longer = new Command(signed.v(), signed.id(), signed.ts(), signed.type(), signed.deploymentId(),
                signed.artifact(), null, null, null, signed.deviceId(), signed.expiresAt(), signed.keyId(),
                signed.signature(), 600, null, null);
        cp.onCommand(codec.encode(longer));
        assertEquals(ReasonCode.SIGNATURE_INVALID, sink.events.get(sink.events.size() - 1).reason());
        assertEquals(List.of(), handled);

        cp.onCommand(codec.encode(signed));
        assertEquals(1, handled.size());
    }
}
