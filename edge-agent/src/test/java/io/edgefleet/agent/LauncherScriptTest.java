package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's launcher ({@code deploy/systemd/edgefleet-agent.sh}) with a stand-in {@code java} that prints the
 * arguments and environment it was given: which AppCDS flag it passes when (record on the first run, map the
 * archive later, record again when the jar or the JVM is newer, none when turned off), its default flags and
 * {@code MALLOC_ARENA_MAX}, the one-time copy of ONNX Runtime's native libraries, and its refusal of a missing jar.
 * Runs in about two seconds.
 */
class LauncherScriptTest {
    static final Path SCRIPT = Path.of("../deploy/systemd/edgefleet-agent.sh").toAbsolutePath().normalize();

    @TempDir
    Path dir;
    Path java;
    Path libjvm;
    Path jar;
    Path cds;

    @BeforeEach
    void fakeJdk() throws IOException {
        // <dir>/jdk/bin/java and <dir>/jdk/lib/server/libjvm.so, as the launcher finds libjvm from the java binary
        java = dir.resolve("jdk/bin/java");
        libjvm = dir.resolve("jdk/lib/server/libjvm.so");
        Files.createDirectories(java.getParent());
        Files.createDirectories(libjvm.getParent());
        // the copy of ONNX Runtime's libraries: made (or not, when FAIL_NATIVE is set) and reported apart from the agent's run
        Files.writeString(java, "#!/bin/sh\ncase \"$*\" in *NativeLibraries*)\n"
                + "  for a; do d=$a; done\n"
                + "  echo \"NATIVE $d\"\n"
                + "  if [ -n \"${FAIL_NATIVE:-}\" ]; then exit 1; fi\n"
                + "  mkdir -p \"$d\" && echo lib > \"$d/libonnxruntime.so\"; exit 0;;\nesac\n"
                + "echo \"ARGS $*\"\necho \"ARENA ${MALLOC_ARENA_MAX:-unset}\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(libjvm, "jvm");
        jar = dir.resolve("edge-agent.jar");
        Files.writeString(jar, "jar");
        cds = dir.resolve("state/agent-cds.jsa");
        age(libjvm, 3_600);
        age(jar, 3_600);
    }

    static void age(Path p, long secondsAgo) throws IOException {
        Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - secondsAgo * 1000));
    }

    Path nativeDir() {
        return dir.resolve("state/native");
    }

    record Run(int exit, String out) {
        long copies() {
            return out.lines().filter(l -> l.startsWith("NATIVE ")).count();
        }

        String args() {
            return out.lines().filter(l -> l.startsWith("ARGS ")).findFirst().orElse("");
        }
    }

    Run launch(Map<String, String> env, String... agentArgs) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", SCRIPT.toString()));
        cmd.addAll(List.of(agentArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().remove("EDGEFLEET_AGENT_JVM_OPTS");
        pb.environment().remove("EDGEFLEET_AGENT_JVM_EXTRA");
        pb.environment().put("EDGEFLEET_JAVA", java.toString());
        pb.environment().put("EDGEFLEET_AGENT_JAR", jar.toString());
        pb.environment().put("EDGEFLEET_AGENT_CDS", cds.toString());
        pb.environment().put("EDGEFLEET_AGENT_NATIVE", nativeDir().toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out);
    }

    @Test
    void recordsTheArchiveOnTheFirstRunAndMapsItAfter() throws Exception {
        Run first = launch(Map.of(), "--config", "/etc/edgefleet/agent.properties");
        assertEquals(0, first.exit(), first.out());
        assertTrue(first.args().startsWith("ARGS -Xms32m -Xmx128m -Xmn4m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
                + " -XX:+ExitOnOutOfMemoryError -Donnxruntime.native.path=" + nativeDir() + " -XX:ArchiveClassesAtExit="
                + cds), first.out());
        assertEquals(1, first.copies(), "ONNX Runtime's libraries are copied out of the jar at the first start");
        assertTrue(first.args().endsWith("-jar " + jar + " --config /etc/edgefleet/agent.properties"), first.out());
        assertTrue(first.out().contains("ARENA 2"), first.out());
        assertTrue(Files.isDirectory(cds.getParent()), "the archive's folder is made");

        Files.writeString(cds, "archive"); // what the JVM writes when the recording run stops
        Run later = launch(Map.of());
        assertTrue(later.args().contains(" -XX:SharedArchiveFile=" + cds + " "), later.out());
        assertFalse(later.args().contains("ArchiveClassesAtExit"), later.out());
        assertEquals(0, later.copies(), "and not again");
        assertTrue(later.args().contains(" -Donnxruntime.native.path=" + nativeDir() + " "), later.out());
    }

    @Test
    void copiesTheNativeLibrariesAgainForANewJarAndStartsWithoutThemWhenTheCopyFails() throws Exception {
        assertEquals(1, launch(Map.of()).copies());
        age(nativeDir().resolve("libonnxruntime.so"), 60);
        // a new jar a second ago, not "now": the file system stamps the copy with a coarse clock (a few ms), which can
        // read earlier than a precise "now" set a moment before, and the launcher would then take the copy for stale
        age(jar, 1);
        Run newJar = launch(Map.of());
        assertEquals(1, newJar.copies(), newJar.out());
        assertTrue(newJar.args().contains("-Donnxruntime.native.path="), newJar.out());

        age(nativeDir().resolve("libonnxruntime.so"), 60);
        age(jar, 1);
        Run failed = launch(Map.of("FAIL_NATIVE", "yes"));
        assertEquals(0, failed.exit(), failed.out());
        assertEquals(1, failed.copies());
        assertFalse(failed.args().contains("onnxruntime.native.path"), "a stale copy is not used: " + failed.out());
        assertTrue(failed.args().endsWith("-jar " + jar), failed.out());

        Run off = launch(Map.of("EDGEFLEET_AGENT_NATIVE", ""));
        assertEquals(0, off.copies());
        assertFalse(off.args().contains("onnxruntime.native.path"), off.out());
    }

    @Test
    void recordsAgainWhenTheJarOrTheJvmIsNewerThanTheArchive() throws Exception {
        Files.createDirectories(cds.getParent());
        Files.writeString(cds, "archive");
        age(cds, 60);
        assertTrue(launch(Map.of()).args().contains("-XX:SharedArchiveFile=" + cds));

        Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis()));
        Run newJar = launch(Map.of());
        assertTrue(newJar.args().contains("-XX:ArchiveClassesAtExit=" + cds), newJar.out());
        assertFalse(Files.exists(cds), "the stale archive is removed before recording");

        Files.writeString(cds, "archive");
        age(cds, 60);
        age(jar, 3_600);
        Files.setLastModifiedTime(libjvm, FileTime.fromMillis(System.currentTimeMillis()));
        assertTrue(launch(Map.of()).args().contains("-XX:ArchiveClassesAtExit=" + cds), "a JVM update records again");

        // an empty file (a recording cut short) is recorded again too
        Files.writeString(cds, "");
        age(libjvm, 3_600);
        assertTrue(launch(Map.of()).args().contains("-XX:ArchiveClassesAtExit=" + cds));
    }

    @Test
    void theArchiveCanBeTurnedOffAndTheFlagsReplaced() throws Exception {
        Run off = launch(Map.of("EDGEFLEET_AGENT_CDS", "", "EDGEFLEET_AGENT_NATIVE", "", "EDGEFLEET_AGENT_JVM_OPTS", "-Xmx64m",
                "EDGEFLEET_AGENT_JVM_EXTRA", "-Djava.io.tmpdir=/var/tmp/x", "MALLOC_ARENA_MAX", "4"));
        assertEquals("ARGS -Xmx64m -Djava.io.tmpdir=/var/tmp/x -jar " + jar, off.args(), off.out());
        assertTrue(off.out().contains("ARENA 4"), off.out());
    }

    @Test
    void aMissingJarIsAConfigurationError() throws Exception {
        Run r = launch(Map.of("EDGEFLEET_AGENT_JAR", dir.resolve("nope.jar").toString()));
        assertEquals(2, r.exit());
        assertTrue(r.out().contains("cannot read the agent's jar " + dir.resolve("nope.jar")), r.out());
        assertFalse(r.out().contains("ARGS"), r.out());
    }
}
