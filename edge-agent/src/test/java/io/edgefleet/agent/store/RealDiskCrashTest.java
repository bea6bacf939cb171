package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link BadDiskCrashTest}'s Mender-style table on a real file system instead of the {@code DiskFaults} seam: the
 * agent's data directory is a tiny tmpfs of its own, which is filled until the kernel answers ENOSPC ("full") or
 * remounted read-only (EROFS, "unwritable") in each of the six states of an update. The step fails with the true
 * reason (on a full disk a step that frees space first may succeed instead), the store is dropped there (killed), reopened on the still-bad disk and then on the repaired one, and each
 * time has a working model whose file is intact, and no stray files once writes work.
 *
 * <p>Needs the right to mount a tmpfs (root with CAP_SYS_ADMIN, as on the build machine); elsewhere it is skipped and
 * says so. A permission error (EACCES) cannot be made real here: root is not stopped by file modes; the seam's table
 * covers it.
 */
class RealDiskCrashTest {
    enum RealFault {
        FULL(ReasonCode.STORAGE_FULL),
        READ_ONLY(ReasonCode.STORAGE_READ_ONLY);

        final ReasonCode reason;

        RealFault(ReasonCode reason) {
            this.reason = reason;
        }
    }

    static Stream<Object[]> rows() {
        List<Object[]> all = new ArrayList<>();
        for (BadDiskCrashTest.Row r : BadDiskCrashTest.ROWS) {
            for (RealFault f : RealFault.values()) {
                all.add(new Object[] {r, f});
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{1} while {0}")
    @MethodSource("rows")
    void killedOnARealBadDiskRestartsWithAWorkingModel(BadDiskCrashTest.Row row, RealFault fault, @TempDir Path mount)
            throws Exception {
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.toString()) == 0,
                "cannot mount a tmpfs here (needs CAP_SYS_ADMIN): the real-disk table is skipped");
        Path filler = mount.resolve("filler");
        try {
            Path dir = Files.createDirectory(mount.resolve("agent"));
            ModelStore s = ModelStore.open(dir);
            Files.write(s.downloadFile(), BadDiskCrashTest.V1);
            s.stage(BadDiskCrashTest.M1, "d1");
            s.activateStaged();
            s.commit();
            row.before().run(s);

            if (fault == RealFault.FULL) {
                fill(filler);
            } else {
                assertEquals(0, run("mount", "-o", "remount,ro", mount.toString()), "remount read-only");
            }
            IOException e = null;
            try {
                row.failing().run(s);
            } catch (IOException failed) {
                e = failed;
            }
            if (e == null) {
                // Only a step that frees space before it writes (discarding a candidate) can succeed on a full disk.
                assertEquals(RealFault.FULL, fault, "a read-only file system refuses every step of an update");
            } else {
                assertEquals(fault.reason, StorageErrors.reason(e), "the true reason: " + StorageErrors.describe(e));
            }
            // killed here: the object is dropped, only the files remain

            assertWorking(ModelStore.open(dir), row.working());

            if (fault == RealFault.FULL) {
                Files.delete(filler);
            } else {
                assertEquals(0, run("mount", "-o", "remount,rw", mount.toString()), "remount read-write");
            }
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
        } finally {
            run("umount", "-l", mount.toString());
        }
    }

    /** Writes until the kernel says the file system is full (ENOSPC); a tmpfs of 256 KiB fills in a few writes. */
    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 1024; i++) {
                out.write(block);
                out.flush();
            }
        } catch (IOException full) {
            assertEquals(ReasonCode.STORAGE_FULL, StorageErrors.reason(full), "filling stopped for " + full);
            return;
        }
        throw new AssertionError("4 MiB fit on a 256 KiB tmpfs");
    }

    private static void assertWorking(ModelStore s, ModelRef expected) throws IOException {
        assertEquals(expected, s.state().active(), "active model");
        assertNotNull(s.activeModelPath());
        assertTrue(Files.isRegularFile(s.activeModelPath()));
        assertEquals(expected.sha256(), Hashing.sha256Hex(s.activeModelPath()), "active file intact");
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        if (p.exitValue() != 0) {
            System.out.println(String.join(" ", cmd) + ": " + out.strip());
        }
        return p.exitValue();
    }
}
