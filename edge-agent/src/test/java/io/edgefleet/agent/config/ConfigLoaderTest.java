package io.edgefleet.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ManifestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    static final String KEY = ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic());
    static final String KEY2 = ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic());

    @TempDir
    Path dir;

    Map<String, String> minimal() {
        return Map.of("deviceId", "dev-1", "classId", "gw", "serverKeys", KEY, "dataDir", dir.toString());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        AgentConfig c = ConfigLoader.resolve(minimal());
        assertEquals(10, c.telemetryWindowSeconds());
        assertEquals(50, c.inferenceIntervalMs());
        assertEquals(1, c.intraOpThreads());
        assertTrue(c.syntheticInput());
        assertEquals(1.0, c.speedFactor());
        assertEquals(120, c.downloadTimeoutSeconds());
        assertEquals(10_000, c.telemetryBufferMax());
        assertEquals("dev-1", c.username(), "username defaults to the device id");
        assertEquals("tcp://127.0.0.1:1883", c.mqttUrl());
    }

    @Test
    void fileThenEnvironmentThenFlagsWithLaterLayersWinning() throws Exception {
        Path f = dir.resolve("agent.properties");
        Files.writeString(f, "deviceId=from-file\nclassId=gw\nserverKeys=" + KEY + "\ndataDir=" + dir
                + "\ntelemetryWindowSeconds=30\ninferenceIntervalMs=70\nspeedFactor=2.5\n");
        Map<String, String> env = ConfigLoader.fromEnv(Map.of(
                "EDGEFLEET_AGENT_TELEMETRY_WINDOW_SECONDS", "20",
                "EDGEFLEET_AGENT_INFERENCE_INTERVAL_MS", "60",
                "EDGEFLEET_AGENT_OPTS", "-Xmx64m",
                "PATH", "/usr/bin"));
        Map<String, String> flags = new java.util.HashMap<>();
        flags.put("inferenceIntervalMs", "40");
        flags.put("deviceId", null); // an option not given on the command line
        AgentConfig c = ConfigLoader.resolve(ConfigLoader.readFile(f), env, flags);
        assertEquals("from-file", c.deviceId());
        assertEquals(20, c.telemetryWindowSeconds(), "env over file");
        assertEquals(40, c.inferenceIntervalMs(), "flag over env");
        assertEquals(2.5, c.speedFactor(), "file over default");
    }

    @Test
    void namesAreDerivedFromTheKey() {
        assertEquals("EDGEFLEET_AGENT_TELEMETRY_BUFFER_MAX", ConfigLoader.envName("telemetryBufferMax"));
        assertEquals("--intra-op-threads", ConfigLoader.flagName("intraOpThreads"));
        assertEquals("EDGEFLEET_AGENT_MQTT_URL", ConfigLoader.envName("mqttUrl"));
    }

    @Test
    void twoKeysAreAcceptedForRotationAndAThirdIsNot() {
        Map<String, String> m = new java.util.HashMap<>(minimal());
        m.put("serverKeys", KEY + ", " + KEY2);
        assertEquals(2, ConfigLoader.resolve(m).pinnedKeys().size());
        m.put("serverKeys", KEY + "," + KEY2 + "," + KEY);
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.resolve(m)).getMessage().startsWith("serverKeys"));
    }

    @Test
    void unknownKeysInTheFileAreErrorsNotSilentlyIgnored() throws Exception {
        Path f = dir.resolve("agent.properties");
        Files.writeString(f, "deviceId=d\ntelemetryWindowSecs=5\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.readFile(f));
        assertTrue(e.getMessage().contains("telemetryWindowSecs"), e.getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.readFile(dir.resolve("missing.properties")))
                .getMessage().contains("does not exist"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "deviceId|dev/1|deviceId",
            "classId|''|classId",
            "mqttUrl|http://broker:80|mqttUrl",
            "mqttUrl|tcp//nohost|mqttUrl",
            "serverKeys|bm90IGEga2V5|serverKeys",
            "telemetryWindowSeconds|0|telemetryWindowSeconds",
            "telemetryWindowSeconds|ten|telemetryWindowSeconds",
            "inferenceIntervalMs|-5|inferenceIntervalMs",
            "intraOpThreads|0|intraOpThreads",
            "speedFactor|0.5|speedFactor",
            "speedFactor|NaN|speedFactor",
            "activeWatts|-1|activeWatts",
            "downloadTimeoutSeconds|0|downloadTimeoutSeconds",
            "telemetryBufferMax|0|telemetryBufferMax",
            "input|/no/such/folder|input"})
    void badValuesFailWithTheKeyInTheMessage(String key, String value, String expectedKey) {
        Map<String, String> m = new java.util.HashMap<>(minimal());
        m.put(key, value);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(m));
        assertTrue(e.getMessage().startsWith(expectedKey + ":"), e.getMessage());
    }

    @Test
    void requiredKeysAreNamedWhenMissing() {
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.resolve(Map.of("classId", "gw")))
                .getMessage().startsWith("deviceId"));
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.resolve(Map.of("deviceId", "d", "classId", "gw")))
                .getMessage().startsWith("serverKeys"));
    }

    @Test
    void servingKeysHaveSafeDefaultsAndAreChecked() {
        AgentConfig c = ConfigLoader.resolve(minimal());
        assertFalse(c.servingEnabled(), "off for library use; AgentMain turns it on");
        assertEquals("127.0.0.1", c.servingHost(), "loopback unless the operator says otherwise");
        assertEquals(8000, c.servingPort());
        assertEquals(4L * 1024 * 1024, c.servingMaxBodyBytes());
        assertEquals(2, c.servingThreads());
        Map<String, String> m = new java.util.HashMap<>(minimal());
        m.putAll(ConfigLoader.fromEnv(Map.of("EDGEFLEET_AGENT_SERVING_ENABLED", "TRUE", "EDGEFLEET_AGENT_SERVING_PORT", "0",
                "EDGEFLEET_AGENT_SERVING_HOST", "0.0.0.0", "EDGEFLEET_AGENT_SERVING_MAX_BODY_BYTES", "65536",
                "EDGEFLEET_AGENT_SERVING_THREADS", "4")));
        AgentConfig set = ConfigLoader.resolve(m);
        assertTrue(set.servingEnabled());
        assertEquals(0, set.servingPort());
        assertEquals("0.0.0.0", set.servingHost());
        assertEquals(65_536, set.servingMaxBodyBytes());
        assertEquals(4, set.servingThreads());
        for (String[] bad : new String[][] {{"servingEnabled", "yes", "neither true nor false"},
                {"servingPort", "65536", "must be in [0, 65535]"}, {"servingThreads", "0", "must be in [1, 64]"},
                {"servingMaxBodyBytes", "10", "must be in [1024, 1073741824]"}, {"servingHost", " ", "is required"}}) {
            Map<String, String> b = new java.util.HashMap<>(minimal());
            b.put(bad[0], bad[1]);
            String msg = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(b)).getMessage();
            assertTrue(msg.startsWith(bad[0] + ":") && msg.contains(bad[2]), msg);
        }
    }

    @Test
    void thePasswordNeverAppearsInToString() {
        Map<String, String> m = new java.util.HashMap<>(minimal());
        m.put("password", "s3cr3t-pw");
        AgentConfig c = ConfigLoader.resolve(m);
        assertEquals("s3cr3t-pw", c.password());
        assertFalse(c.toString().contains("s3cr3t-pw"));
    }

    @Test
    void theShippedExampleFileUsesOnlyKnownKeysAndCompletesWithTheRequiredOnes() {
        Map<String, String> example = ConfigLoader.readFile(Path.of("agent.properties.example"));
        assertTrue(example.keySet().containsAll(List.of("deviceId", "classId", "mqttUrl", "serverKeys", "dataDir")));
        AgentConfig c = ConfigLoader.resolve(example, Map.of("serverKeys", KEY, "dataDir", dir.toString()));
        assertEquals("gw-0001", c.deviceId());
    }

    @Test
    void everyKeyHasAMatchingFlagInAgentMain() {
        List<String> flags = new picocli.CommandLine(new io.edgefleet.agent.AgentMain()).getCommandSpec().options().stream()
                .flatMap(o -> java.util.Arrays.stream(o.names())).toList();
        for (String key : ConfigLoader.keys()) {
            assertTrue(flags.contains(ConfigLoader.flagName(key)), "no flag for " + key);
        }
    }
}
