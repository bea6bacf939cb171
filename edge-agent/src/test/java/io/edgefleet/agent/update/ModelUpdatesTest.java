package io.edgefleet.agent.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.store.ModelStores;
import io.edgefleet.agent.store.Phase;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.Artifacts.Artifact;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ManualTimers;
import io.edgefleet.agent.testing.RecordingSink;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two models on one device, each with its own slots, download, health watch, commit and rollback. */
class ModelUpdatesTest {
    static final String CLASS = "gw";
    static final HealthPolicy POLICY = new HealthPolicy(25.0, 0.05, 2, 5);

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final FakeRunner runner = new FakeRunner();
    final FakeLink link = new FakeLink();
    final RecordingSink sink = new RecordingSink();
    final ManualTimers timers = new ManualTimers();
    /** What each model's slot runs, as its ModelSwitch put it into service. */
    final Map<String, ModelRef> running = new HashMap<>();
    final Map<String, LoadedModel> loaded = new HashMap<>();
    ModelStores stores;
    ModelUpdates updates;

    @BeforeEach
    void setUp() throws Exception {
        open();
    }

    private void open() throws Exception {
        stores = ModelStores.open(dir);
        updates = new ModelUpdates("dev-1", this::manager, sink);
        for (String name : stores.all().keySet()) {
            updates.add(name, manager(name));
        }
    }

    private UpdateManager manager(String name) throws java.io.IOException {
        ModelSwitch sw = (model, ref) -> {
            LoadedModel old = loaded.put(name, model);
            if (old != null) {
                old.close();
            }
            running.put(name, ref);
        };
        return new UpdateManager("dev-1", CLASS, 60_000, stores.getOrCreate(name), runner,
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, sink, sw, timers);
    }

    private Artifact artifact(String name, long version, Map<String, String> spec) {
        return server.make(CLASS, name, version, FakeRunner.model(name + "-" + version, spec, 5000));
    }

    /** Both downloads in flight at once: manifests first, then the chunks of the two interleaved. */
    private void deliverInterleaved(Artifact a, Artifact b) {
        updates.onArtifactMessage(a.manifestTopic(), a.manifestJson());
        updates.onArtifactMessage(b.manifestTopic(), b.manifestJson());
        int n = Math.max(a.chunks().size(), b.chunks().size());
        for (int i = 0; i < n; i++) {
            if (i < a.chunks().size()) {
                updates.onArtifactMessage(a.chunkTopic(i), a.chunks().get(i));
            }
            if (i < b.chunks().size()) {
                updates.onArtifactMessage(b.chunkTopic(i), b.chunks().get(i));
            }
        }
    }

    private static TelemetryWindow window(ModelRef m, double p95) {
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), 1000, "dev-1", 1, 1, 2, m, 100, 0,
                new LatencyStats(p95 / 2, p95, p95, p95, p95 / 2), 1.0, null, 0, false);
    }

    private DeviceEvent last(Type type, String model) {
        DeviceEvent found = null;
        for (DeviceEvent e : sink.events) {
            if (e.type() == type && e.model() != null && e.model().model().equals(model)) {
                found = e;
            }
        }
        return found;
    }

    /** Installs v1 of both models at once and commits them. */
    private Artifact[] installBoth() {
        Artifact clf = artifact("clf", 1, Map.of());
        Artifact enc = artifact("enc", 1, Map.of());
        updates.onDeploy(clf.deploy("dep-clf1", POLICY));
        updates.onDeploy(enc.deploy("dep-enc1", POLICY));
        assertTrue(updates.get("clf").downloading() && updates.get("enc").downloading(), "both download at once");
        deliverInterleaved(clf, enc);
        for (int i = 0; i < 2; i++) {
            updates.onWindow(window(clf.model(), 5));
            updates.onWindow(window(enc.model(), 5));
        }
        assertEquals(Phase.COMMITTED, stores.get("clf").state().phase(), sink.types().toString());
        assertEquals(Phase.COMMITTED, stores.get("enc").state().phase(), sink.types().toString());
        return new Artifact[] {clf, enc};
    }

    @Test
    void twoModelsUpdateAtOnceAndEachIsJudgedOnItsOwnWindows() throws Exception {
        Artifact[] v1 = installBoth();
        assertEquals(v1[0].model(), running.get("clf"));
        assertEquals(v1[1].model(), running.get("enc"));
        assertTrue(dir.resolve("models/clf/slots").toFile().isDirectory() && dir.resolve("models/enc/slots").toFile().isDirectory());

        Artifact clf2 = artifact("clf", 2, Map.of());
        Artifact enc2 = artifact("enc", 2, Map.of());
        sink.clear();
        updates.onDeploy(clf2.deploy("dep-clf2", POLICY));
        updates.onDeploy(enc2.deploy("dep-enc2", POLICY));
        deliverInterleaved(clf2, enc2);
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, stores.get("clf").state().phase());
        assertEquals(Phase.ACTIVATED_UNCOMMITTED, stores.get("enc").state().phase());

        // clf2 is healthy; enc2 breaches its latency SLO (two windows in a row). Each window counts only for its own
        // model.
        updates.onWindow(window(clf2.model(), 5));
        updates.onWindow(window(enc2.model(), 90));
        updates.onWindow(window(enc2.model(), 90));
        updates.onWindow(window(clf2.model(), 5));

        assertEquals(Phase.COMMITTED, stores.get("clf").state().phase());
        assertEquals(clf2.model(), stores.get("clf").state().active());
        assertEquals(v1[0].model(), stores.get("clf").state().standby());
        assertEquals("dep-clf2", last(Type.COMMITTED, "clf").deploymentId());

        DeviceEvent rb = last(Type.ROLLED_BACK, "enc");
        assertEquals("dep-enc2", rb.deploymentId());
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, rb.reason());
        assertEquals(v1[1].model(), stores.get("enc").state().active());
        assertEquals(v1[1].model(), running.get("enc"));
        assertEquals(clf2.model(), running.get("clf"), "the other model kept its new version");

        // Each model's state survives a restart on its own.
        open();
        assertEquals(clf2.model(), stores.get("clf").state().active());
        assertEquals(v1[1].model(), stores.get("enc").state().active());
    }

    @Test
    void aRollbackGoesToTheModelOfItsDeployment() throws Exception {
        installBoth();
        Artifact clf2 = artifact("clf", 2, Map.of());
        Artifact enc2 = artifact("enc", 2, Map.of());
        updates.onDeploy(clf2.deploy("dep-clf2", POLICY));
        updates.onDeploy(enc2.deploy("dep-enc2", POLICY));
        deliverInterleaved(clf2, enc2);
        for (int i = 0; i < 2; i++) {
            updates.onWindow(window(clf2.model(), 5));
            updates.onWindow(window(enc2.model(), 5));
        }
        sink.clear();

        // Both have a fallback: a rollback naming no known deployment cannot be attributed.
        updates.onRollback(Command.rollback("dep-unknown", "which one?"));
        assertEquals(Type.COMMAND_REJECTED, sink.last().type());
        assertEquals(ReasonCode.INVALID_FIELD, sink.last().reason());
        assertEquals(clf2.model(), stores.get("clf").state().active());
        assertEquals(enc2.model(), stores.get("enc").state().active());

        updates.onRollback(Command.rollback("dep-enc2", "operator"));
        DeviceEvent rb = sink.last();
        assertEquals(Type.ROLLED_BACK, rb.type());
        assertEquals(ReasonCode.OPERATOR_REQUEST, rb.reason());
        assertEquals("enc", rb.model().model());
        assertEquals(1, stores.get("enc").state().active().version());
        assertEquals(clf2.model(), stores.get("clf").state().active(), "clf untouched");
    }

    @Test
    void aDeployOfOneModelDoesNotSupersedeTheOthersDownload() {
        Artifact clf = artifact("clf", 1, Map.of());
        Artifact enc = artifact("enc", 1, Map.of());
        updates.onDeploy(clf.deploy("dep-clf1", POLICY));
        updates.onDeploy(enc.deploy("dep-enc1", POLICY));
        assertNull(last(Type.DEPLOY_FAILED, "clf"), sink.types().toString());
        assertEquals(2, sink.events.stream().filter(e -> e.type() == Type.DEPLOY_RECEIVED).count());
    }

    @Test
    void aModelNameThatCannotBeADirectoryIsRefused() {
        Artifact bad = artifact("../etc", 1, Map.of());
        updates.onDeploy(bad.deploy("dep-bad", POLICY));
        assertEquals(Type.DEPLOY_FAILED, sink.last().type());
        assertEquals(ReasonCode.INVALID_FIELD, sink.last().reason());
        assertTrue(stores.all().isEmpty());
    }
}
