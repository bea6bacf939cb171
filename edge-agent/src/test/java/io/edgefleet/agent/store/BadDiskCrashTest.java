package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mender-style table for issue 13, finding 5: in every state of an update the data directory turns
 * full, read-only or unwritable; the step fails with the true reason; the agent is killed there; it
 * restarts first on the still-bad disk, then on the repaired one, and each time finds a working model
 * (its file intact, matching its hash) and no stray files once the disk takes writes again.
 */
class BadDiskCrashTest {
    static final byte[] V1 = "model v1".getBytes(StandardCharsets.UTF_8);
    static final byte[] V2 = "model v2".getBytes(StandardCharsets.UTF_8);
    static final ModelRef M1 = new ModelRef("clf", 1, Hashing.sha256Hex(V1));
    static final ModelRef M2 = new ModelRef("clf", 2, Hashing.sha256Hex(V2));

    enum Fault {
        FULL(ReasonCode.STORAGE_FULL, p -> new IOException("No space left on device")),
        READ_ONLY(ReasonCode.STORAGE_READ_ONLY, p -> new FileSystemException(p.toString(), null, "Read-only file system")),
        DENIED(ReasonCode.STORAGE_DENIED, p -> new AccessDeniedException(p.toString()));

        final ReasonCode reason;
        final Function<Path, IOException> error;

        Fault(ReasonCode reason, Function<Path, IOException> error) {
            this.reason = reason;
            this.error = error;
        }
    }

    @FunctionalInterface
    interface Step {
        void run(ModelStore s) throws IOException;
    }

    /** One state of the update: what is done with a good disk, the step the bad disk breaks, and what runs after. */
    record Row(String state, Step before, Step failing, ModelRef working) {
        @Override
        public String toString() {
            return state;
        }
    }

    static void download(ModelStore s, byte[] bytes) throws IOException {
        Files.write(s.downloadFile(), bytes);
    }

    static final List<Row> ROWS = List.of(
            new Row("writing the download", s -> { }, s -> {
                AtomicFiles.checkWrite(s.downloadFile());
                download(s, V2);
            }, M1),
            new Row("staging the verified download", s -> download(s, V2), s -> s.stage(M2, "d2"), M1),
            new Row("discarding a failed candidate", s -> {
                download(s, V2);
                s.stage(M2, "d2");
            }, ModelStore::discardCandidate, M1),
            new Row("activating the staged model", s -> {
                download(s, V2);
                s.stage(M2, "d2");
            }, ModelStore::activateStaged, M1),
            new Row("committing after the health window", s -> {
                download(s, V2);
                s.stage(M2, "d2");
                s.activateStaged();
            }, ModelStore::commit, M1),
            new Row("rolling back a committed model", s -> {
                download(s, V2);
                s.stage(M2, "d2");
                s.activateStaged();
                s.commit();
            }, s -> s.rollback(false), M2));

    static Stream<Object[]> rows() {
        List<Object[]> all = new ArrayList<>();
        for (Row r : ROWS) {
            for (Fault f : Fault.values()) {
                all.add(new Object[] {r, f});
            }
        }
        return all.stream();
    }

    @AfterEach
    void healTheDisk() {
        AtomicFiles.injectFaults(null);
    }

    @ParameterizedTest(name = "{1} while {0}")
    @MethodSource("rows")
    void killedOnABadDiskRestartsWithAWorkingModel(Row row, Fault fault, @TempDir Path dir) throws IOException {
        ModelStore s = ModelStore.open(dir);
        download(s, V1);
        s.stage(M1, "d1");
        s.activateStaged();
        s.commit();
        row.before().run(s);

        AtomicFiles.injectFaults((op, path) -> {
            throw fault.error.apply(path);
        });
        IOException e = assertThrows(IOException.class, () -> row.failing().run(s));
        assertEquals(fault.reason, StorageErrors.reason(e), "the true reason: " + StorageErrors.describe(e));
        // killed here: the object is dropped, only the files remain

        ModelStore onBadDisk = ModelStore.open(dir);
        assertWorking(onBadDisk, row.working());

        AtomicFiles.injectFaults(null);
        ModelStore healed = ModelStore.open(dir);
        assertWorking(healed, row.working());
        long files;
        try (Stream<Path> all = Files.walk(dir.resolve("slots"))) {
            files = all.filter(Files::isRegularFile).count();
        }
        StoreState st = healed.state();
        assertEquals((st.active() == null ? 0 : 1) + (st.standby() == null ? 0 : 1), files,
                "partial downloads and stray files removed once the disk takes writes");
        assertEquals(st, ModelStore.open(dir).state(), "a further restart changes nothing");
    }

    private static void assertWorking(ModelStore s, ModelRef expected) throws IOException {
        assertEquals(expected, s.state().active(), "active model");
        assertNotNull(s.activeModelPath());
        assertTrue(Files.isRegularFile(s.activeModelPath()));
        assertEquals(expected.sha256(), Hashing.sha256Hex(s.activeModelPath()), "active file intact");
    }
}
