package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Hashing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The crash table for two models updated at once: the agent is killed with model "clf" in one state of
 * its update and model "enc" in another, for every pair of rows of {@link ModelStoreCrashTest}. After the
 * restart each model must be exactly where its own row says (a working committed model whenever one was
 * installed), whatever the other one was doing. The single-model layout of earlier agents, killed in
 * every state, must migrate to the per-model layout with the same outcome.
 */
class TwoModelCrashTest {
    static final ModelStoreCrashTest.Fixture ENC = new ModelStoreCrashTest.Fixture("enc",
            "encoder v0".getBytes(StandardCharsets.UTF_8), "encoder v1".getBytes(StandardCharsets.UTF_8),
            "encoder v2".getBytes(StandardCharsets.UTF_8));

    static Stream<Arguments> pairs() {
        List<ModelStoreCrashTest.Row> clf = ModelStoreCrashTest.rows(ModelStoreCrashTest.CLF).toList();
        List<ModelStoreCrashTest.Row> enc = rowsOf(ENC);
        return clf.stream().flatMap(a -> enc.stream().map(b -> Arguments.of(a, b)));
    }

    static List<ModelStoreCrashTest.Row> rowsOf(ModelStoreCrashTest.Fixture f) {
        return ModelStoreCrashTest.rows(f).toList();
    }

    @ParameterizedTest(name = "clf killed in: {0} / enc killed in: {1}")
    @MethodSource("pairs")
    void bothModelsRecoverIndependently(ModelStoreCrashTest.Row clf, ModelStoreCrashTest.Row enc, @TempDir Path dir)
            throws IOException {
        Path models = dir.resolve(ModelStores.MODELS_DIR);
        clf.disk().build(models.resolve("clf"));
        enc.disk().build(models.resolve("enc"));
        Files.createDirectories(models.resolve("clf"));
        Files.createDirectories(models.resolve("enc"));

        ModelStores stores = ModelStores.open(dir);
        expect(clf, stores.get("clf"));
        expect(enc, stores.get("enc"));
        long notes = (clf.note() == null ? 0 : 1) + (enc.note() == null ? 0 : 1);
        assertEquals(notes, stores.recoveryNotes().size(), stores.recoveryNotes().toString());

        ModelStores again = ModelStores.open(dir);
        assertEquals(stores.get("clf").state(), again.get("clf").state());
        assertEquals(stores.get("enc").state(), again.get("enc").state());
        assertEquals(List.of(), again.recoveryNotes(), "recovery is idempotent");
    }

    /** An earlier agent's single-model data dir, killed in every state, then started by this agent. */
    @ParameterizedTest(name = "single-model agent killed in: {0}")
    @MethodSource("io.edgefleet.agent.store.ModelStoreCrashTest#rows")
    void anUpgradedAgentKeepsItsModel(ModelStoreCrashTest.Row row, @TempDir Path dir) throws IOException {
        row.disk().build(dir);
        ModelStores stores = ModelStores.open(dir);
        assertFalse(Files.exists(dir.resolve("state.json")), "the single-model state moved");
        assertFalse(Files.exists(dir.resolve("slots")), "the single-model slots moved");
        ModelStore clf = stores.get("clf");
        if (row.active() == null && row.standby() == null && clf == null) {
            return; // nothing was installed, nothing to keep
        }
        assertNotNull(clf, "the model keeps its name: " + stores.all().keySet());
        expect(row, clf);
    }

    @Test
    void aMigrationKilledBetweenMovingTheSlotsAndTheStateIsFinishedAtTheNextStart(@TempDir Path dir) throws IOException {
        // Committed clf v2 with v1 as fallback, in the single-model layout...
        ModelStoreCrashTest.Row committed = ModelStoreCrashTest.rows().filter(r -> r.killedIn().equals("committed"))
                .findFirst().orElseThrow();
        committed.disk().build(dir);
        // ...killed after the slots moved under models/clf and before the state followed.
        Files.createDirectories(dir.resolve("models/clf"));
        Files.move(dir.resolve("slots"), dir.resolve("models/clf/slots"));

        ModelStores stores = ModelStores.open(dir);
        expect(committed, stores.get("clf"));
        assertFalse(Files.exists(dir.resolve("state.json")));
    }

    @Test
    void anEmptySingleModelStateLeavesNothingBehind(@TempDir Path dir) throws IOException {
        ModelStoreCrashTest.state(dir, StoreState.empty());
        Files.createDirectories(dir.resolve("slots/a"));
        ModelStores stores = ModelStores.open(dir);
        assertTrue(stores.all().isEmpty());
        assertFalse(Files.exists(dir.resolve("state.json")));
        assertFalse(Files.exists(dir.resolve("slots")));
    }

    private static void expect(ModelStoreCrashTest.Row row, ModelStore store) throws IOException {
        StoreState s = store.state();
        assertEquals(row.active(), s.active(), row + ": active");
        assertEquals(row.standby(), s.standby(), row + ": standby");
        assertEquals(row.phase(), s.phase(), row + ": phase");
        assertNull(s.staged());
        if (row.active() != null) {
            assertEquals(row.active().sha256(), Hashing.sha256Hex(store.activeModelPath()), row + ": active file intact");
        }
        if (row.standby() != null) {
            assertEquals(row.standby().sha256(), Hashing.sha256Hex(store.standbyModelPath()), row + ": standby file intact");
        }
    }
}
