package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ManifestSigner;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AgentMainTest {
    static final String KEY = ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic());

    @TempDir
    Path dir;

    record Run(int exit, String err) {
    }

    Run run(Map<String, String> env, String... args) {
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new AgentMain(env, new PrintWriter(err, true))).execute(args);
        return new Run(exit, err.toString());
    }

    @Test
    void missingRequiredSettingsExitWithCode2AndNameTheKey() {
        Run r = run(Map.of(), "--class-id", "gw");
        assertEquals(AgentMain.EXIT_CONFIG, r.exit());
        assertTrue(r.err().contains("bad configuration: deviceId"), r.err());
    }

    @Test
    void badValueFromTheEnvironmentExitsWithCode2() {
        Run r = run(Map.of("EDGEFLEET_AGENT_DEVICE_ID", "d1", "EDGEFLEET_AGENT_CLASS_ID", "gw",
                "EDGEFLEET_AGENT_SERVER_KEYS", KEY, "EDGEFLEET_AGENT_SPEED_FACTOR", "slow"), "--data-dir", dir.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("speedFactor: 'slow' is not a number"), r.err());
    }

    @Test
    void unknownKeyInTheConfigFileExitsWithCode2() throws Exception {
        Path f = dir.resolve("agent.properties");
        Files.writeString(f, "deviceId=d1\nclassID=gw\n");
        Run r = run(Map.of(), "--config", f.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown keys [classID]"), r.err());
    }

    @Test
    void anInputFolderWithoutDataExitsWithCode2() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("npz"));
        Run r = run(Map.of(), "--device-id", "d1", "--class-id", "gw", "--server-keys", KEY, "--data-dir",
                dir.resolve("data").toString(), "--input", empty.toString(), "--mqtt-url", "tcp://127.0.0.1:1");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("contains no .npz files"), r.err());
    }

    @Test
    void aServingPortInUseStopsTheStartWithExitCode1AndSaysWhy() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Run r = run(Map.of(), "--device-id", "d1", "--class-id", "gw", "--server-keys", KEY, "--data-dir",
                    dir.resolve("data").toString(), "--mqtt-url", "tcp://127.0.0.1:1", "--serving-port",
                    Integer.toString(taken.getLocalPort()));
            assertEquals(AgentMain.EXIT_FAILED, r.exit());
            assertTrue(r.err().contains("the inference API cannot listen on 127.0.0.1:" + taken.getLocalPort()), r.err());
        }
    }

    @Test
    void flagsWinOverTheFileAndTheEnvironment() throws Exception {
        Path f = dir.resolve("agent.properties");
        Files.writeString(f, "deviceId=from-file\nclassId=gw\nserverKeys=" + KEY + "\ntelemetryWindowSeconds=30\n");
        AgentMain main = new AgentMain(Map.of("EDGEFLEET_AGENT_TELEMETRY_WINDOW_SECONDS", "20"), new PrintWriter(new StringWriter()));
        new CommandLine(main).parseArgs("--config", f.toString(), "--telemetry-window-seconds", "5", "--device-id", "flag-dev");
        var cfg = main.resolveConfig();
        assertEquals("flag-dev", cfg.deviceId());
        assertEquals(5, cfg.telemetryWindowSeconds());
        assertEquals(Path.of("./agent-data"), cfg.dataDir(), "documented default data dir");
        assertTrue(cfg.servingEnabled(), "the agent process serves the inference API by default");
        assertEquals("127.0.0.1", cfg.servingHost());
    }
}
