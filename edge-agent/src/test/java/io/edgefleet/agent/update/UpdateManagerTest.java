package io.edgefleet.agent.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.Phase;
import io.edgefleet.agent.store.Recovery;
import io.edgefleet.agent.store.StoreState;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.Artifacts.Artifact;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ManualTimers;
import io.edgefleet.agent.testing.RecordingSink;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The update state machine driven message by message, with a fake runner, link and clock. */
class UpdateManagerTest {
    static final String CLASS = "gw";
    static final HealthPolicy POLICY = new HealthPolicy(25.0, 0.05, 2, 5);

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final FakeRunner runner = new FakeRunner();
    final FakeLink link = new FakeLink();
    final RecordingSink sink = new RecordingSink();
    final ManualTimers timers = new ManualTimers();
    final JsonCodec codec = new JsonCodec();
    final List<ModelRef> activations = new ArrayList<>();
    LoadedModel running;
    ModelStore store;
    UpdateManager um;

    @BeforeEach
    void setUp() throws Exception {
        store = ModelStore.open(dir);
        um = newManager();
    }

    private UpdateManager newManager() {
        ModelSwitch sw = (model, ref) -> {
            if (running != null) {
                running.close();
            }
            running = model;
            activations.add(ref);
        };
        return new UpdateManager("dev-1", CLASS, 60_000, store, runner,
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, sink, sw, timers);
    }

    private Artifact artifact(String name, long version, Map<String, String> spec) {
        return server.make(CLASS, name, version, FakeRunner.model(name + "-" + version, spec, 5000));
    }

    private void deliver(Artifact a) {
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        for (int i = 0; i < a.chunks().size(); i++) {
            um.onArtifactMessage(a.chunkTopic(i), a.chunks().get(i));
        }
    }

    private TelemetryWindow window(ModelRef m, long inferences, long errors, double p95) {
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), 1000, "dev-1", 1, 1, 2, m, inferences, errors,
                new LatencyStats(p95 / 2, p95, p95, p95, p95 / 2), 1.0, null, 0, false);
    }

    /** Deploys and commits a model, leaving the sink empty. */
    private Artifact install(String name, long version) {
        Artifact a = artifact(name, version, Map.of());
        um.onDeploy(a.deploy("dep-" + name + version, POLICY));
        deliver(a);
        um.onWindow(window(a.model(), 100, 0, 5));
        um.onWindow(window(a.model(), 100, 0, 5));
        assertEquals(Phase.COMMITTED, store.state().phase(), sink.types().toString());
        sink.clear();
        return a;
    }

    @Test
    void happyPathRunsEveryStepAndCommitsAfterTheHealthWindows() throws Exception {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        assertEquals(Set.of(a.manifestTopic()), link.subscriptions, "the manifest first, chunks after it is verified");
        deliver(a);

        assertEquals(List.of(Type.DEPLOY_RECEIVED, Type.DOWNLOAD_PROGRESS, Type.DOWNLOAD_PROGRESS, Type.DOWNLOAD_PROGRESS,
                Type.DOWNLOADED, Type.VERIFIED, Type.ACTIVATED), sink.types());
        List<Double> progress = sink.events.stream().filter(e -> e.type() == Type.DOWNLOAD_PROGRESS)
                .map(DeviceEvent::progress).toList();
        assertTrue(progress.get(0) >= 0.25 && progress.get(0) < 0.5, progress.toString());
        assertTrue(progress.get(2) >= 0.75 && progress.get(2) < 1.0, progress.toString());
        assertTrue(link.subscriptions.isEmpty(), "artifact topics are unsubscribed after the download");
        assertEquals(List.of(a.model()), activations);
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, store.state().phase());
        assertEquals(a.model(), store.state().active());
        assertTrue(Files.exists(store.activeModelPath()));

        um.onWindow(window(a.model(), 100, 0, 10));
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, store.state().phase(), "one window of two is not enough");
        um.onWindow(window(a.model(), 100, 0, 10));
        assertEquals(Type.COMMITTED, sink.last().type());
        assertEquals("dep-1", sink.last().deploymentId());
        assertEquals(Phase.COMMITTED, store.state().phase());
        assertTrue(sink.statusChanges.get() >= 2, "status republished on activation and commit");
    }

    @Test
    void chunksInAnyOrderWithDuplicatesAndBeforeTheManifestAssembleTheSameFile() throws Exception {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < a.chunks().size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(7));
        // Half of the chunks (and a duplicate) arrive before the manifest, as retained delivery allows.
        int half = order.size() / 2;
        for (int i = 0; i < half; i++) {
            um.onArtifactMessage(a.chunkTopic(order.get(i)), a.chunks().get(order.get(i)));
        }
        um.onArtifactMessage(a.chunkTopic(order.get(0)), a.chunks().get(order.get(0)));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        for (int i = half; i < order.size(); i++) {
            um.onArtifactMessage(a.chunkTopic(order.get(i)), a.chunks().get(order.get(i)));
            um.onArtifactMessage(a.chunkTopic(order.get(i)), a.chunks().get(order.get(i)));
        }
        assertEquals(Type.ACTIVATED, sink.last().type(), sink.types().toString());
        assertEquals(a.model().sha256(), io.edgefleet.protocol.Hashing.sha256Hex(store.activeModelPath()));
    }

    @Test
    void manifestSignedByAnUnpinnedKeyIsRefusedAndNothingIsInstalled() {
        Artifacts impostor = new Artifacts();
        byte[] bytes = FakeRunner.model("evil", 5000);
        Artifact forged = impostor.make(CLASS, "clf", 1, bytes);
        um.onDeploy(forged.deploy("dep-1", POLICY));
        deliver(forged);
        DeviceEvent e = sink.last();
        assertEquals(Type.DEPLOY_FAILED, e.type());
        assertEquals(ReasonCode.SIGNATURE_INVALID, e.reason());
        assertTrue(e.detail().contains("not pinned"), e.detail());
        assertNull(store.state().active());
        assertTrue(activations.isEmpty());
        assertFalse(um.downloading());
        assertTrue(link.subscriptions.isEmpty());
    }

    @Test
    void manifestWithATamperedFieldFailsItsSignature() {
        Artifact a = artifact("clf", 1, Map.of());
        ArtifactManifest m = a.manifest();
        List<String> hashes = new ArrayList<>(m.chunks());
        hashes.set(0, io.edgefleet.protocol.Hashing.sha256Hex("other".getBytes(StandardCharsets.UTF_8)));
        ArtifactManifest tampered = new ArtifactManifest(m.v(), m.id(), m.ts(), m.classId(), m.model(), m.size(), m.chunkSize(), hashes,
                m.keyId(), m.signature());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), codec.encode(tampered));
        assertEquals(ReasonCode.SIGNATURE_INVALID, sink.last().reason());
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
    }

    @Test
    void malformedManifestIsReportedWithTheCodecReason() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), "{not json".getBytes(StandardCharsets.UTF_8));
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, sink.last().reason());
    }

    @Test
    void manifestForAnotherModelThanTheCommandIsRefused() {
        Artifact wanted = artifact("clf", 2, Map.of());
        Artifact other = artifact("clf", 1, Map.of());
        um.onDeploy(wanted.deploy("dep-1", POLICY));
        // The other artifact's signed manifest, replayed on the wanted artifact's topic.
        um.onArtifactMessage(wanted.manifestTopic(), other.manifestJson());
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.HASH_MISMATCH, sink.last().reason());
        assertTrue(sink.last().detail().contains("command asked for"), sink.last().detail());
    }

    @Test
    void aDamagedChunkIsDiscardedReportedAndRefetchedThenTheDownloadCompletes() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        int last = a.chunks().size() - 1;
        for (int i = 0; i < last; i++) {
            um.onArtifactMessage(a.chunkTopic(i), a.chunks().get(i));
        }
        int subscribesBefore = link.subscribeCalls.size();
        byte[] bad = a.chunks().get(last).clone();
        bad[0] ^= 0x55;
        um.onArtifactMessage(a.chunkTopic(last), bad);
        DeviceEvent report = sink.last();
        assertEquals(Type.DOWNLOAD_PROGRESS, report.type());
        assertEquals(ReasonCode.HASH_MISMATCH, report.reason());
        assertTrue(report.detail().contains("chunk " + last), report.detail());
        assertEquals(subscribesBefore + 1, link.subscribeCalls.size(), "the only missing chunk was bad: re-fetch");
        assertEquals(List.of(last), um.missingChunks());

        um.onArtifactMessage(a.chunkTopic(last), a.chunks().get(last));
        assertEquals(Type.ACTIVATED, sink.last().type());
    }

    @Test
    void aChunkThatArrivesDamagedTwiceFailsTheDeployWithHashMismatchAndKeepsTheCurrentModel() {
        Artifact v1 = install("clf", 1);
        Artifact a = artifact("clf", 2, Map.of());
        um.onDeploy(a.deploy("dep-2", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        byte[] bad = a.chunks().get(1).clone();
        bad[10] ^= 1;
        for (int i = 0; i < a.chunks().size(); i++) {
            um.onArtifactMessage(a.chunkTopic(i), i == 1 ? bad : a.chunks().get(i));
        }
        um.onArtifactMessage(a.chunkTopic(1), bad);
        DeviceEvent failed = sink.last();
        assertEquals(Type.DEPLOY_FAILED, failed.type());
        assertEquals(ReasonCode.HASH_MISMATCH, failed.reason());
        assertEquals(v1.model(), store.state().active());
        assertEquals(Phase.COMMITTED, store.state().phase());
        assertFalse(Files.exists(store.downloadFile()), "partial download removed");
        assertEquals(List.of(v1.model()), activations, "no activation of the damaged artifact");
    }

    @Test
    void chunkOutsideTheManifestOrOfTheWrongSizeIsDiscarded() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        um.onArtifactMessage(a.chunkTopic(a.chunks().size() + 3), a.chunks().get(0));
        assertEquals(ReasonCode.INVALID_FIELD, sink.last().reason());
        um.onArtifactMessage(a.chunkTopic(0), new byte[10]);
        assertEquals(ReasonCode.SIZE_MISMATCH, sink.last().reason());
        assertTrue(um.downloading());
    }

    @Test
    void noManifestWithinTheTimeoutFailsWithDownloadTimeout() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        timers.advance(59_000);
        assertTrue(um.downloading());
        assertTrue(link.subscribeCalls.size() > 1, "stalled download re-subscribes to get retained messages again");
        timers.advance(2_000);
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.DOWNLOAD_TIMEOUT, sink.last().reason());
        assertFalse(um.downloading());
        assertEquals(0, timers.pending(), "no timers left behind");
    }

    /** Issue 13, finding 5: a permission error mid-download is reported as one, and the partial file goes. */
    @Test
    void aBadDiskMidDownloadIsReportedForWhatItIsAndThePartialFileIsRemoved() throws Exception {
        Artifact v1 = install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        um.onArtifactMessage(v2.manifestTopic(), v2.manifestJson());
        um.onArtifactMessage(v2.chunkTopic(0), v2.chunks().get(0));
        assertTrue(java.nio.file.Files.size(store.downloadFile()) > 0, "a partial file exists");
        io.edgefleet.agent.store.AtomicFiles.injectFaults((op, p) -> {
            throw new java.nio.file.AccessDeniedException(p.toString());
        });
        try {
            um.onArtifactMessage(v2.chunkTopic(1), v2.chunks().get(1));
            assertEquals(Type.DEPLOY_FAILED, sink.last().type());
            assertEquals(ReasonCode.STORAGE_DENIED, sink.last().reason(), sink.last().detail());
            assertTrue(um.partialDownloadPending(), "the unwritable directory refuses the delete too");
            um.onWindow(window(v1.model(), 100, 0, 5));
            assertTrue(java.nio.file.Files.exists(store.downloadFile()));
        } finally {
            io.edgefleet.agent.store.AtomicFiles.injectFaults(null);
        }
        um.onWindow(window(v1.model(), 100, 0, 5));
        assertFalse(um.partialDownloadPending());
        assertFalse(java.nio.file.Files.exists(store.downloadFile()), "removed once the disk takes writes");
        assertEquals(v1.model(), store.state().active(), "the running model stays");
        assertEquals(List.of(v1.model()), activations);
    }

    /** Issue 13, finding 6: time offline does not count against the download timeout. */
    @Test
    void theDownloadTimeoutCountsOnlyTimeConnected() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        timers.advance(30_000);
        link.connected = false;
        timers.advance(600_000); // ten minutes offline: a healthy device, not a timeout
        assertTrue(um.downloading());
        assertFalse(sink.types().contains(Type.DEPLOY_FAILED), sink.types().toString());
        link.connected = true;
        timers.advance(29_000);
        assertTrue(um.downloading(), "30 s + 29 s connected is still inside 60 s");
        timers.advance(2_000);
        assertEquals(ReasonCode.DOWNLOAD_TIMEOUT, sink.last().reason());
        assertEquals(0, timers.pending(), "no timers left behind");
    }

    @Test
    void timeoutAfterOnlyDamagedCopiesReportsHashMismatch() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        byte[] bad = a.chunks().get(0).clone();
        bad[3] ^= 1;
        um.onArtifactMessage(a.chunkTopic(0), bad);
        timers.advance(61_000);
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.HASH_MISMATCH, sink.last().reason());
    }

    @Test
    void modelThatDoesNotLoadFailsWithLoadFailedAndTheRunningModelStays() {
        Artifact v1 = install("clf", 1);
        Artifact broken = artifact("clf", 2, Map.of("load", "fail"));
        um.onDeploy(broken.deploy("dep-2", POLICY));
        deliver(broken);
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.LOAD_FAILED, sink.last().reason());
        assertEquals(List.of(Type.DEPLOY_RECEIVED, Type.DOWNLOAD_PROGRESS, Type.DOWNLOAD_PROGRESS, Type.DOWNLOAD_PROGRESS,
                Type.DOWNLOADED, Type.VERIFIED, Type.DEPLOY_FAILED), sink.types());
        assertEquals(v1.model(), store.state().active());
        assertFalse(Files.exists(store.stagedFile()));
        assertEquals(List.of(v1.model()), activations);
    }

    @Test
    void modelThatFailsItsSmokeInferenceIsNotActivated() {
        Artifact v1 = install("clf", 1);
        Artifact broken = artifact("clf", 2, Map.of("smoke", "fail"));
        um.onDeploy(broken.deploy("dep-2", POLICY));
        deliver(broken);
        assertEquals(ReasonCode.SMOKE_TEST_FAILED, sink.last().reason());
        assertEquals(v1.model(), store.state().active());
        assertTrue(runner.loaded.get(runner.loaded.size() - 1).closed, "the rejected model's session is closed");
    }

    @Test
    void latencyBreachRollsBackToTheFallbackWithADetailedReason() throws Exception {
        Artifact v1 = install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        deliver(v2);
        assertEquals(v1.model(), store.state().standby());
        um.onWindow(window(v2.model(), 100, 0, 33.0));
        assertTrue(um.watching(), "one window over the SLO is not yet a breach");
        um.onWindow(window(v2.model(), 100, 0, 41.2));
        DeviceEvent rb = sink.last();
        assertEquals(Type.ROLLED_BACK, rb.type());
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, rb.reason());
        assertEquals("p95 41.2 ms > SLO 25.0 ms in window 2 and 33.0 ms in the window before", rb.detail());
        assertEquals(v1.model(), rb.model());
        assertEquals("dep-2", rb.deploymentId());
        assertEquals(v1.model(), store.state().active());
        assertNull(store.state().standby(), "a model that failed its health check never becomes a fallback");
        assertEquals(Phase.IDLE, store.state().phase());
        assertEquals(List.of(v1.model(), v2.model(), v1.model()), activations);
        assertFalse(um.watching());
    }

    @Test
    void errorRateBreachInTheSecondWindowRollsBack() {
        install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        deliver(v2);
        um.onWindow(window(v2.model(), 100, 1, 5));
        um.onWindow(window(v2.model(), 100, 30, 5));
        assertEquals(ReasonCode.ERROR_RATE_BREACH, sink.last().reason());
        assertTrue(sink.last().detail().endsWith("in window 2"), sink.last().detail());
    }

    @Test
    void windowsOfOtherModelsOrWithTooFewInferencesDoNotCount() {
        Artifact v1 = install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        deliver(v2);
        um.onWindow(window(v1.model(), 100, 100, 500)); // the old model's last window
        um.onWindow(window(v2.model(), 3, 3, 500));     // below minInferences
        um.onWindow(window(v2.model(), 100, 0, 5));
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, store.state().phase());
        um.onWindow(window(v2.model(), 100, 0, 5));
        assertEquals(Type.COMMITTED, sink.last().type());
        assertEquals(v1.model(), store.state().standby(), "after a commit the previous model stays as fallback");
    }

    /** A first model (no fallback) deployed, then two windows over the SLO: its watch breaches and it is kept. */
    private Artifact breachWithoutFallback() {
        Artifact v1 = artifact("clf", 1, Map.of());
        um.onDeploy(v1.deploy("dep-1", POLICY));
        deliver(v1);
        um.onWindow(window(v1.model(), 100, 0, 99));
        um.onWindow(window(v1.model(), 100, 0, 99));
        return v1;
    }

    @Test
    void breachWithoutFallbackKeepsTheCandidateAndSaysSo() {
        Artifact v1 = breachWithoutFallback();
        DeviceEvent e = sink.last();
        assertEquals(Type.DEPLOY_FAILED, e.type());
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, e.reason());
        assertTrue(e.detail().contains("no fallback"), e.detail());
        assertEquals(v1.model(), store.state().active());
        assertEquals(Phase.IDLE, store.state().phase());
    }

    @Test
    void aModelKeptAfterAFailedWatchIsWatchedAgainWhenDeployedAgainNotReportedCommitted() throws Exception {
        Artifact v1 = breachWithoutFallback();
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertTrue(store.state().activeUnproven(), "kept, but it failed its watch");
        sink.clear();

        // the operator retries: no download, a new watch under the new deployment's policy
        um.onDeploy(v1.deploy("dep-retry", POLICY));
        assertEquals(List.of(Type.ACTIVATED), sink.types(), "not COMMITTED at once");
        assertTrue(sink.last().detail().contains("watched again, no download"), sink.last().detail());
        assertEquals("dep-retry", sink.last().deploymentId());
        assertFalse(um.downloading());
        assertTrue(link.subscriptions.isEmpty(), "nothing to fetch");
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, store.state().phase());
        assertEquals("dep-retry", store.state().deploymentId());
        assertEquals(List.of(v1.model()), activations, "the running session is not reloaded");
        um.onWindow(window(v1.model(), 100, 0, 99));
        um.onWindow(window(v1.model(), 100, 0, 99));
        assertEquals(Type.DEPLOY_FAILED, sink.last().type(), "still too slow: fails again");
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, sink.last().reason());
        assertEquals("dep-retry", sink.last().deploymentId());
        assertTrue(store.state().activeUnproven());

        // a restart keeps what is known; a later retry on a healthy device commits after its windows
        store = ModelStore.open(dir);
        assertTrue(store.state().activeUnproven(), "persisted");
        um = newManager();
        sink.clear();
        um.onDeploy(v1.deploy("dep-retry-2", POLICY));
        assertEquals(List.of(Type.ACTIVATED), sink.types());
        um.onWindow(window(v1.model(), 100, 0, 5));
        um.onWindow(window(v1.model(), 100, 0, 5));
        assertEquals(Type.COMMITTED, sink.last().type());
        assertEquals("dep-retry-2", sink.last().deploymentId());
        assertEquals(Phase.COMMITTED, store.state().phase());
        assertFalse(store.state().activeUnproven());
        sink.clear();
        um.onDeploy(v1.deploy("dep-again", POLICY));
        assertEquals(List.of(Type.COMMITTED), sink.types(), "a proven model is acknowledged at once, as before");
    }

    @Test
    void aModelActivatedWhenTheAgentStoppedIsWatchedAgainByTheNextDeployOfIt() throws Exception {
        Artifact v1 = artifact("clf", 1, Map.of());
        um.onDeploy(v1.deploy("dep-1", POLICY));
        deliver(v1);
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, store.state().phase());
        // the agent stops mid-watch; recovery keeps the model (no fallback) and still knows it is unproven
        Recovery.Result r = Recovery.recover(store.state(), (slot, model) -> true);
        assertEquals(Phase.IDLE, r.state().phase());
        assertTrue(r.state().activeUnproven());
        assertThrows(IllegalStateException.class, () -> StoreState.empty().rewatched("x"));
    }

    @Test
    void operatorRollbackSwapsAndKeepsTheRolledBackModelAsStandby() {
        Artifact v1 = install("clf", 1);
        Artifact v2 = install("clf", 2);
        um.onRollback(Command.rollback("dep-2", "bad accuracy in the field"));
        DeviceEvent e = sink.last();
        assertEquals(Type.ROLLED_BACK, e.type());
        assertEquals(ReasonCode.OPERATOR_REQUEST, e.reason());
        assertEquals("bad accuracy in the field", e.detail());
        assertEquals(v1.model(), store.state().active());
        assertEquals(v2.model(), store.state().standby());
        assertEquals(v1.model(), activations.get(activations.size() - 1));
    }

    @Test
    void rollbackWithoutFallbackIsRejectedWithNoFallback() {
        um.onRollback(Command.rollback(null, "try"));
        assertEquals(Type.COMMAND_REJECTED, sink.last().type());
        assertEquals(ReasonCode.NO_FALLBACK, sink.last().reason());
        install("clf", 1);
        um.onRollback(Command.rollback(null, "try"));
        assertEquals(ReasonCode.NO_FALLBACK, sink.last().reason());
    }

    @Test
    void operatorRollbackDuringTheHealthWatchEndsTheWatch() {
        Artifact v1 = install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        deliver(v2);
        um.onRollback(Command.rollback("dep-2", "halt"));
        assertFalse(um.watching());
        assertEquals(v1.model(), store.state().active());
        um.onWindow(window(v2.model(), 100, 0, 5));
        um.onWindow(window(v2.model(), 100, 0, 5));
        assertEquals(Type.ROLLED_BACK, sink.last().type(), "no commit after the operator rolled back");
    }

    @Test
    void downgradeIsRefusedAndTheSameModelIsAcknowledged() {
        Artifact v2 = install("clf", 2);
        Artifact v1 = artifact("clf", 1, Map.of());
        um.onDeploy(v1.deploy("dep-old", POLICY));
        assertEquals(ReasonCode.DOWNGRADE_REFUSED, sink.last().reason());
        assertFalse(um.downloading());
        um.onDeploy(v2.deploy("dep-again", POLICY));
        assertEquals(Type.COMMITTED, sink.last().type());
        assertEquals("dep-again", sink.last().deploymentId());
        assertFalse(um.downloading());
    }

    @Test
    void artifactOfAnotherClassIsRefused() {
        Artifact other = server.make("other-class", "clf", 1, FakeRunner.model("x", 2000));
        um.onDeploy(other.deploy("dep-1", POLICY));
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.INVALID_FIELD, sink.last().reason());
        assertTrue(link.subscriptions.isEmpty());
    }

    @Test
    void resentDeployOfTheSameDeploymentIsIgnoredAndANewOneSupersedesTheDownload() {
        Artifact a = artifact("clf", 1, Map.of());
        Artifact b = artifact("clf", 2, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onDeploy(a.deploy("dep-1", POLICY));
        assertEquals(List.of(Type.DEPLOY_RECEIVED), sink.types());
        um.onDeploy(b.deploy("dep-2", POLICY));
        assertEquals(List.of(Type.DEPLOY_RECEIVED, Type.DEPLOY_FAILED, Type.DEPLOY_RECEIVED), sink.types());
        assertTrue(sink.events.get(1).detail().contains("superseded by deployment dep-2"));
        deliver(a); // the old artifact's messages are ignored now
        assertEquals(Type.DEPLOY_RECEIVED, sink.last().type());
        deliver(b);
        assertEquals(Type.ACTIVATED, sink.last().type());
        assertEquals(b.model(), store.state().active());
    }

    @Test
    void deployDuringAHealthWatchWaitsForItsOutcome() {
        install("clf", 1);
        Artifact v2 = artifact("clf", 2, Map.of());
        Artifact v3 = artifact("clf", 3, Map.of());
        um.onDeploy(v2.deploy("dep-2", POLICY));
        deliver(v2);
        um.onDeploy(v3.deploy("dep-3", POLICY));
        assertFalse(um.downloading(), "waits for the watch");
        um.onWindow(window(v2.model(), 100, 0, 5));
        um.onWindow(window(v2.model(), 100, 0, 5));
        assertTrue(um.downloading(), "starts once v2 committed");
        deliver(v3);
        assertEquals(v3.model(), store.state().active());
        assertEquals(v2.model(), store.state().standby());
    }

    @Test
    void emptyRetainedPayloadsAndForeignTopicsAreIgnored() {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), new byte[0]);
        um.onArtifactMessage("edgefleet/v1/classes/gw/artifacts/nonsense", a.manifestJson());
        assertEquals(List.of(Type.DEPLOY_RECEIVED), sink.types());
        assertTrue(um.downloading());
    }

    // ---------------------------------------------------------------- chunk window (issue 11)

    /**
     * Plays a broker holding the artifact retained: every subscription to a topic (each subscribe call, since
     * the agent unsubscribes before asking again) delivers its retained message once, unless the chunk is in
     * {@code lose}. Counts deliveries per chunk index and checks the window bound after each one.
     */
    private Map<Integer, Integer> serve(Artifact a, Set<Integer> lose, int[] served) {
        Map<Integer, Integer> delivered = new java.util.TreeMap<>();
        while (served[0] < link.subscribeCalls.size()) {
            String topic = link.subscribeCalls.get(served[0]++);
            Topics.Parsed p = Topics.parse(topic).orElseThrow();
            if (p.kind() == Topics.Kind.MANIFEST) {
                um.onArtifactMessage(topic, a.manifestJson());
            } else if (!lose.contains(p.chunkIndex())) {
                delivered.merge(p.chunkIndex(), 1, Integer::sum);
                um.onArtifactMessage(topic, a.chunks().get(p.chunkIndex()));
            }
            long chunkTopics = link.subscriptions.stream().filter(t -> t.contains("/chunks/")).count();
            assertTrue(chunkTopics <= UpdateManager.CHUNK_WINDOW, chunkTopics + " chunk topics subscribed at once");
        }
        return delivered;
    }

    @Test
    void chunksAreFetchedThroughABoundedWindowEachDeliveredOnceThenEverythingIsReleased() {
        Artifact a = server.make(CLASS, "clf", 1, FakeRunner.model("clf-1", Map.of(), 60_000));
        int n = a.chunks().size();
        assertTrue(n > 3 * UpdateManager.CHUNK_WINDOW, n + " chunks");
        um.onDeploy(a.deploy("dep-1", POLICY));
        assertEquals(List.of(a.manifestTopic()), link.subscribeCalls, "the manifest first, no chunk yet");
        // The manifest: the first window is one SUBSCRIBE with the lowest CHUNK_WINDOW chunks.
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        List<String> firstWindow = new ArrayList<>();
        for (int i = 0; i < UpdateManager.CHUNK_WINDOW; i++) {
            firstWindow.add(a.chunkTopic(i));
        }
        assertEquals(List.of(firstWindow), link.subscribeBatches);
        assertFalse(link.subscriptions.contains(a.manifestTopic()), "the verified manifest is no longer listened to");
        int[] served = {1};

        Map<Integer, Integer> delivered = serve(a, Set.of(), served);

        assertEquals(Type.ACTIVATED, sink.last().type(), sink.types().toString());
        assertEquals(n, delivered.size(), "every chunk delivered");
        assertTrue(delivered.values().stream().allMatch(c -> c == 1), "no chunk twice: " + delivered);
        assertTrue(link.subscriptions.isEmpty(), "every chunk topic released: " + link.subscriptions);
        assertTrue(link.subscribeBatches.stream().skip(1).allMatch(b -> b.size() >= 1 && b.size() <= UpdateManager.CHUNK_WINDOW));
        assertTrue(link.subscribeBatches.stream().anyMatch(b -> b.size() == UpdateManager.REFILL_BATCH),
                "refills ask for several chunks per SUBSCRIBE");
    }

    @Test
    void aStallReRequestsOnlyTheWindowsMissingChunksAndTheDownloadCompletesWithoutDuplicates() {
        Artifact a = server.make(CLASS, "clf", 1, FakeRunner.model("clf-1", Map.of(), 40_000));
        int n = a.chunks().size();
        um.onDeploy(a.deploy("dep-1", POLICY));
        int[] served = {0};
        // The broker loses chunks 5 and 7 (e.g. dropped from a full queue): the download stalls on them.
        Map<Integer, Integer> first = serve(a, Set.of(5, 7), served);
        assertTrue(um.downloading());
        assertEquals(List.of(5, 7), um.missingChunks().subList(0, 2));
        int batchesBefore = link.subscribeBatches.size();
        timers.advance(20_000); // the first check sees progress, the second a stall
        List<List<String>> asked = link.subscribeBatches.subList(batchesBefore, link.subscribeBatches.size());
        assertEquals(1, asked.size(), asked.toString());
        List<Integer> reRequested = asked.get(0).stream().map(t -> Topics.parse(t).orElseThrow().chunkIndex()).toList();
        assertTrue(reRequested.containsAll(List.of(5, 7)), reRequested.toString());
        for (int i : reRequested) {
            assertFalse(first.containsKey(i), "stored chunk " + i + " asked for again");
        }
        Map<Integer, Integer> second = serve(a, Set.of(), served);
        assertEquals(Type.ACTIVATED, sink.last().type(), sink.types().toString());
        for (int i = 0; i < n; i++) {
            int times = first.getOrDefault(i, 0) + second.getOrDefault(i, 0);
            assertEquals(1, times, "chunk " + i + " delivered " + times + " times");
        }
    }

    @Test
    void noReRequestWhileOfflineOnlyAfterAStallWhileConnected() {
        Artifact a = server.make(CLASS, "clf", 1, FakeRunner.model("clf-1", Map.of(), 40_000));
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        int calls = link.subscribeCalls.size();
        link.connected = false;
        timers.advance(120_000);
        assertEquals(calls, link.subscribeCalls.size(), "offline is no stall: the resumed session delivers the window");
        link.connected = true;
        timers.advance(10_000);
        assertEquals(calls + UpdateManager.CHUNK_WINDOW, link.subscribeCalls.size(), "the window, and only it, again");
    }

    @Test
    void aRestartMidDownloadResumesFromThePartFileAndFetchesOnlyTheMissingChunks() throws Exception {
        Artifact a = server.make(CLASS, "clf", 1, FakeRunner.model("clf-1", Map.of(), 40_000));
        um.onDeploy(a.deploy("dep-1", POLICY));
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        for (int i = 0; i < 10; i++) {
            um.onArtifactMessage(a.chunkTopic(i), a.chunks().get(i));
        }
        // The agent dies while writing chunk 10: half of it reaches the part file.
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(store.downloadFile(),
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(a.chunks().get(10), 0, Artifacts.CHUNK / 2), 10L * Artifacts.CHUNK);
        }
        link.subscriptions.clear();
        link.subscribeCalls.clear();
        link.subscribeBatches.clear();
        sink.clear();

        store = ModelStore.open(dir); // the restart: the recorded download keeps its part file
        um = newManager();
        assertTrue(um.resumeInterruptedDownload());
        assertEquals(List.of(a.manifestTopic()), link.subscribeCalls);
        um.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        assertEquals(Type.DOWNLOAD_PROGRESS, sink.last().type());
        assertTrue(sink.last().detail().contains("10 of " + a.chunks().size() + " chunks kept"), sink.last().detail());
        assertEquals(10, link.subscribeBatches.get(0).stream().mapToInt(t -> Topics.parse(t).orElseThrow().chunkIndex())
                .min().orElseThrow(), "the window starts at the torn chunk");

        Map<Integer, Integer> delivered = serve(a, Set.of(), new int[] {1});
        assertEquals(Type.ACTIVATED, sink.last().type(), sink.types().toString());
        assertEquals(a.model().sha256(), io.edgefleet.protocol.Hashing.sha256Hex(store.activeModelPath()));
        assertTrue(delivered.keySet().stream().allMatch(i -> i >= 10), "kept chunks fetched again: " + delivered.keySet());
        assertEquals(a.chunks().size() - 10, delivered.size());
        assertFalse(Files.exists(store.downloadRecordFile()), "the record goes with the download");
        assertFalse(newManager().resumeInterruptedDownload(), "nothing to resume after it finished");
    }

    @Test
    void aDownloadThatFailsLeavesNothingToResume() throws Exception {
        Artifact a = artifact("clf", 1, Map.of());
        um.onDeploy(a.deploy("dep-1", POLICY));
        assertTrue(Files.exists(store.downloadRecordFile()));
        um.onArtifactMessage(a.manifestTopic(), "{not json".getBytes(StandardCharsets.UTF_8));
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertFalse(Files.exists(store.downloadRecordFile()));
        store = ModelStore.open(dir);
        assertFalse(newManager().resumeInterruptedDownload());
    }
}
