package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * "Killed in state X", one row per crash point of the update: the on-disk state a killed agent
 * leaves is constructed (files in the slots plus state.json), the store is opened as at the next
 * start, and the row says what must be running then. Every row ends with a working model whenever
 * one was installed before.
 */
class ModelStoreCrashTest {
    static final byte[] V0 = "model v0".getBytes(StandardCharsets.UTF_8);
    static final byte[] V1 = "model v1".getBytes(StandardCharsets.UTF_8);
    static final byte[] V2 = "model v2".getBytes(StandardCharsets.UTF_8);
    static final ModelRef M0 = ref(0, V0);
    static final ModelRef M1 = ref(1, V1);
    static final ModelRef M2 = ref(2, V2);

    static ModelRef ref(long v, byte[] bytes) {
        return ref("clf", v, bytes);
    }

    static ModelRef ref(String name, long v, byte[] bytes) {
        return new ModelRef(name, Math.max(1, v), Hashing.sha256Hex(bytes));
    }

    @FunctionalInterface
    interface Disk {
        void build(Path dir) throws IOException;
    }

    record Row(String killedIn, Disk disk, ModelRef active, ModelRef standby, Phase phase, DeviceEvent.Type note,
               ReasonCode noteReason) {
        @Override
        public String toString() {
            return killedIn;
        }
    }

    static void slot(Path dir, String slot, String file, byte[] bytes) throws IOException {
        Path p = dir.resolve("slots").resolve(slot).resolve(file);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
    }

    static void state(Path dir, StoreState s) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("state.json"), ModelStore.toJson(s));
    }

    static StoreState st(Slot activeSlot, ModelRef active, ModelRef standby, Phase phase, ModelRef staged) {
        return new StoreState(StoreState.FORMAT, activeSlot, active, standby, phase, "dep-x", staged,
                phase == Phase.ACTIVATED_UNCOMMITTED);
    }

    static Stream<Row> rows() {
        return rows(CLF);
    }

    /** One model's versions: the bytes of v0..v2 and their refs under the model's name. */
    record Fixture(String name, byte[] v0, byte[] v1, byte[] v2) {
        ModelRef m0() {
            return ref(name, 0, v0);
        }

        ModelRef m1() {
            return ref(name, 1, v1);
        }

        ModelRef m2() {
            return ref(name, 2, v2);
        }
    }

    static final Fixture CLF = new Fixture("clf", V0, V1, V2);

    /** The crash points of one model's update, for the model of {@code f}. */
    static Stream<Row> rows(Fixture f) {
        return Stream.of(
                new Row("never installed", d -> { }, null, null, Phase.IDLE, null, null),
                new Row("downloading the first model", d -> slot(d, "a", ModelStore.DOWNLOAD_FILE, f.v1()),
                        null, null, Phase.IDLE, null, null),
                new Row("downloading an update", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", ModelStore.DOWNLOAD_FILE, f.v2());
                    state(d, st(Slot.A, f.m1(), null, Phase.COMMITTED, null));
                }, f.m1(), null, Phase.COMMITTED, null, null),
                new Row("staged (verified, not activated)", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", f.v0());
                    slot(d, "b", ModelStore.STAGED_FILE, f.v2());
                    state(d, st(Slot.A, f.m1(), f.m0(), Phase.STAGED, f.m2()));
                }, f.m1(), f.m0(), Phase.IDLE, DeviceEvent.Type.DEPLOY_FAILED, ReasonCode.UNKNOWN),
                new Row("between the activation rename and the state write", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", f.v2()); // staged.onnx already renamed over the old fallback
                    state(d, st(Slot.A, f.m1(), f.m0(), Phase.STAGED, f.m2()));
                }, f.m1(), null, Phase.IDLE, DeviceEvent.Type.DEPLOY_FAILED, ReasonCode.UNKNOWN),
                new Row("health window (activated, uncommitted)", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", f.v2());
                    state(d, st(Slot.B, f.m2(), f.m1(), Phase.ACTIVATED_UNCOMMITTED, null));
                }, f.m1(), null, Phase.IDLE, DeviceEvent.Type.ROLLED_BACK, ReasonCode.UNKNOWN),
                new Row("health window of the first model (no fallback)", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    state(d, st(Slot.A, f.m1(), null, Phase.ACTIVATED_UNCOMMITTED, null));
                }, f.m1(), null, Phase.IDLE, DeviceEvent.Type.DEPLOY_FAILED, ReasonCode.NO_FALLBACK),
                new Row("health window, fallback file damaged", d -> {
                    slot(d, "a", "model.onnx", "garbage".getBytes(StandardCharsets.UTF_8));
                    slot(d, "b", "model.onnx", f.v2());
                    state(d, st(Slot.B, f.m2(), f.m1(), Phase.ACTIVATED_UNCOMMITTED, null));
                }, f.m2(), null, Phase.IDLE, DeviceEvent.Type.DEPLOY_FAILED, ReasonCode.NO_FALLBACK),
                new Row("committed", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", f.v2());
                    state(d, st(Slot.B, f.m2(), f.m1(), Phase.COMMITTED, null));
                }, f.m2(), f.m1(), Phase.COMMITTED, null, null),
                new Row("rollback, after the state write and before the file delete", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", f.v2());
                    state(d, st(Slot.A, f.m1(), null, Phase.IDLE, null));
                }, f.m1(), null, Phase.IDLE, null, null),
                new Row("idle with a corrupt active model and an intact fallback", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    slot(d, "b", "model.onnx", "bit rot".getBytes(StandardCharsets.UTF_8));
                    state(d, st(Slot.B, f.m2(), f.m1(), Phase.COMMITTED, null));
                }, f.m1(), null, Phase.COMMITTED, DeviceEvent.Type.ROLLED_BACK, ReasonCode.HASH_MISMATCH),
                new Row("idle with the active model missing and no fallback", d -> {
                    state(d, st(Slot.A, f.m1(), null, Phase.COMMITTED, null));
                }, null, null, Phase.IDLE, DeviceEvent.Type.DEPLOY_FAILED, ReasonCode.HASH_MISMATCH),
                new Row("in the middle of a state write (temp file left)", d -> {
                    slot(d, "a", "model.onnx", f.v1());
                    state(d, st(Slot.A, f.m1(), null, Phase.COMMITTED, null));
                    Files.writeString(d.resolve(".state.json12345.tmp"), "{\"format\":1,\"pha");
                }, f.m1(), null, Phase.COMMITTED, null, null));
    }

    @ParameterizedTest(name = "killed in: {0}")
    @MethodSource("rows")
    void restartAfterBeingKilledLeavesAWorkingModel(Row row, @TempDir Path dir) throws IOException {
        row.disk().build(dir);
        ModelStore store = ModelStore.open(dir);
        StoreState s = store.state();
        assertEquals(row.active(), s.active(), "active");
        assertEquals(row.standby(), s.standby(), "standby");
        assertEquals(row.phase(), s.phase(), "phase");
        assertNull(s.staged());
        if (row.active() != null) {
            assertEquals(row.active().sha256(), Hashing.sha256Hex(store.activeModelPath()), "active file intact");
        } else {
            assertNull(store.activeModelPath());
        }
        if (row.standby() != null) {
            assertEquals(row.standby().sha256(), Hashing.sha256Hex(store.standbyModelPath()), "standby file intact");
        }
        if (row.note() == null) {
            assertEquals(List.of(), store.recoveryNotes());
        } else {
            assertEquals(1, store.recoveryNotes().size(), store.recoveryNotes().toString());
            assertEquals(row.note(), store.recoveryNotes().get(0).type());
            assertEquals(row.noteReason(), store.recoveryNotes().get(0).reason());
        }
        // Nothing but the referenced model files is left in the slots.
        long files;
        try (Stream<Path> all = Files.walk(dir.resolve("slots"))) {
            files = all.filter(Files::isRegularFile).count();
        }
        assertEquals((row.active() == null ? 0 : 1) + (row.standby() == null ? 0 : 1), files, "stray files removed");
        try (Stream<Path> top = Files.list(dir)) {
            assertTrue(top.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp files removed");
        }

        // Recovery is idempotent: a second restart changes nothing and reports nothing.
        ModelStore again = ModelStore.open(dir);
        assertEquals(s, again.state());
        assertEquals(List.of(), again.recoveryNotes());
    }

    @Test
    void unreadableStateFileIsSetAsideAndTheStoreStartsEmpty(@TempDir Path dir) throws IOException {
        slot(dir, "a", "model.onnx", V1);
        Files.writeString(dir.resolve("state.json"), "{\"format\":1,\"activeSl");
        ModelStore store = ModelStore.open(dir);
        assertNull(store.state().active());
        try (Stream<Path> top = Files.list(dir)) {
            assertTrue(top.anyMatch(p -> p.getFileName().toString().startsWith("state.json.corrupt-")));
        }
    }

    /** state.json written before activeUnproven existed: the committed model stays proven, a watch in flight not. */
    @Test
    void aStateFileWithoutTheUnprovenMarkerReadsAsBefore(@TempDir Path dir) throws IOException {
        slot(dir, "a", "model.onnx", V1);
        String legacy = ModelStore.toJson(st(Slot.A, M1, null, Phase.COMMITTED, null))
                .replaceAll(",?\\s*\"activeUnproven\"\\s*:\\s*\\w+", "");
        assertFalse(legacy.contains("activeUnproven"), legacy);
        Files.writeString(dir.resolve("state.json"), legacy);
        ModelStore committed = ModelStore.open(dir);
        assertEquals(M1, committed.state().active());
        assertFalse(committed.state().activeUnproven());

        // killed in the health window of a first model (no fallback): kept, and known not to have passed
        Files.writeString(dir.resolve("state.json"), legacy.replace("\"COMMITTED\"", "\"ACTIVATED_UNCOMMITTED\""));
        ModelStore watched = ModelStore.open(dir);
        assertEquals(M1, watched.state().active());
        assertEquals(Phase.IDLE, watched.state().phase());
        assertTrue(watched.state().activeUnproven());
    }

    @Test
    void theFullUpdateCycleSurvivesARestartAfterEachStep(@TempDir Path dir) throws IOException {
        ModelStore s = ModelStore.open(dir);
        Files.write(s.downloadFile(), V1);
        s.stage(M1, "d1");
        s = ModelStore.open(dir);
        assertEquals(Phase.IDLE, s.state().phase(), "a restart while staged discards the candidate");
        assertNull(s.state().active());
        assertFalse(Files.exists(s.stagedFile()));

        Files.write(s.downloadFile(), V1);
        s.stage(M1, "d1");
        s.activateStaged();
        s.commit();
        assertEquals(M1, ModelStore.open(dir).state().active());

        s = ModelStore.open(dir);
        Files.write(s.downloadFile(), V2);
        s.stage(M2, "d2");
        s.activateStaged();
        assertEquals(Slot.B, s.state().activeSlot());
        assertEquals(M1, s.state().standby());
        // Power cut in the health window.
        ModelStore afterCut = ModelStore.open(dir);
        assertEquals(M1, afterCut.state().active());
        assertEquals(Slot.A, afterCut.state().activeSlot());
        assertFalse(Files.exists(dir.resolve("slots/b/model.onnx")));

        // The same update again, committed this time, then an operator rollback and a restart.
        Files.write(afterCut.downloadFile(), V2);
        afterCut.stage(M2, "d3");
        afterCut.activateStaged();
        afterCut.commit();
        afterCut.rollback(true);
        ModelStore last = ModelStore.open(dir);
        assertEquals(M1, last.state().active());
        assertEquals(M2, last.state().standby());
        assertNotNull(last.standbyModelPath());
        assertEquals(M2.sha256(), Hashing.sha256Hex(last.standbyModelPath()));
    }
}
