package io.edgefleet.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Turns layered string settings into an {@link AgentConfig}. Every key has one canonical name
 * (e.g. {@code telemetryWindowSeconds}) used in the properties file, spelled
 * {@code EDGEFLEET_AGENT_TELEMETRY_WINDOW_SECONDS} in the environment and
 * {@code --telemetry-window-seconds} on the command line. Later layers win: file, then environment,
 * then flags.
 */
public final class ConfigLoader {
    public static final String ENV_PREFIX = "EDGEFLEET_AGENT_";

    private static final Map<String, BiConsumer<AgentConfig.Builder, String>> SETTERS = new LinkedHashMap<>();

    static {
        SETTERS.put("deviceId", AgentConfig.Builder::deviceId);
        SETTERS.put("classId", AgentConfig.Builder::classId);
        SETTERS.put("mqttUrl", AgentConfig.Builder::mqttUrl);
        SETTERS.put("username", AgentConfig.Builder::username);
        SETTERS.put("password", AgentConfig.Builder::password);
        SETTERS.put("serverKeys", (b, v) -> b.serverKeys(Arrays.stream(v.split("[,\\s]+"))
                .filter(s -> !s.isBlank()).toList()));
        SETTERS.put("dataDir", (b, v) -> b.dataDir(Path.of(v)));
        SETTERS.put("telemetryWindowSeconds", (b, v) -> b.telemetryWindowSeconds(parseInt("telemetryWindowSeconds", v)));
        SETTERS.put("inferenceIntervalMs", (b, v) -> b.inferenceIntervalMs(parseLong("inferenceIntervalMs", v)));
        SETTERS.put("intraOpThreads", (b, v) -> b.intraOpThreads(parseInt("intraOpThreads", v)));
        SETTERS.put("input", AgentConfig.Builder::input);
        SETTERS.put("speedFactor", (b, v) -> b.speedFactor(parseDouble("speedFactor", v)));
        SETTERS.put("idleWatts", (b, v) -> b.idleWatts(parseDouble("idleWatts", v)));
        SETTERS.put("activeWatts", (b, v) -> b.activeWatts(parseDouble("activeWatts", v)));
        SETTERS.put("downloadTimeoutSeconds", (b, v) -> b.downloadTimeoutSeconds(parseInt("downloadTimeoutSeconds", v)));
        SETTERS.put("telemetryBufferMax", (b, v) -> b.telemetryBufferMax(parseInt("telemetryBufferMax", v)));
        SETTERS.put("sessionExpirySeconds", (b, v) -> b.sessionExpirySeconds(parseLong("sessionExpirySeconds", v)));
        SETTERS.put("sysfsRoot", (b, v) -> b.sysfsRoot(Path.of(v)));
        SETTERS.put("driftSelfReferenceSamples", (b, v) -> b.driftSelfReferenceSamples(parseInt("driftSelfReferenceSamples", v)));
        SETTERS.put("driftMinWindowSamples", (b, v) -> b.driftMinWindowSamples(parseInt("driftMinWindowSamples", v)));
        SETTERS.put("servingEnabled", (b, v) -> b.servingEnabled(parseBoolean("servingEnabled", v)));
        SETTERS.put("servingHost", AgentConfig.Builder::servingHost);
        SETTERS.put("servingPort", (b, v) -> b.servingPort(parseInt("servingPort", v)));
        SETTERS.put("servingMaxBodyBytes", (b, v) -> b.servingMaxBodyBytes(parseLong("servingMaxBodyBytes", v)));
        SETTERS.put("servingThreads", (b, v) -> b.servingThreads(parseInt("servingThreads", v)));
        SETTERS.put("mqttCaFile", (b, v) -> b.mqttCaFile(v.isBlank() ? null : Path.of(v.trim())));
        SETTERS.put("degradationCalmWindows", (b, v) -> b.degradationCalmWindows(parseInt("degradationCalmWindows", v)));
        SETTERS.put("cascadeThreshold", (b, v) -> b.cascadeThreshold(parseDouble("cascadeThreshold", v)));
        SETTERS.put("degradationPressureMode", (b, v) -> {
            switch (v.trim()) {
                case "light" -> b.degradationPressureMode(io.edgefleet.agent.degrade.Mode.LIGHT);
                case "cascade" -> b.degradationPressureMode(io.edgefleet.agent.degrade.Mode.CASCADE);
                default -> throw new ConfigException("degradationPressureMode: '" + v + "' must be light or cascade");
            }
        });
        SETTERS.put("degradationP95Ms", (b, v) -> b.degradationP95Ms(v.isBlank() ? null : parseDouble("degradationP95Ms", v)));
        SETTERS.put("degradationThermal", (b, v) -> b.degradationThermal(parseBoolean("degradationThermal", v)));
        SETTERS.put("mqttClient", (b, v) -> {
            try {
                b.mqttClient(io.edgefleet.agent.mqtt.MqttTransport.Kind.parse(v));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
        });
    }

    private ConfigLoader() {
    }

    public static List<String> keys() {
        return List.copyOf(SETTERS.keySet());
    }

    /** {@code telemetryWindowSeconds} → {@code EDGEFLEET_AGENT_TELEMETRY_WINDOW_SECONDS}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /** {@code telemetryWindowSeconds} → {@code --telemetry-window-seconds}. */
    public static String flagName(String key) {
        return "--" + key.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Reads a properties file; an unknown key is an error because a typo would otherwise be ignored silently. */
    public static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage(), e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        TreeSet<String> unknown = new TreeSet<>();
        for (String name : p.stringPropertyNames()) {
            if (SETTERS.containsKey(name)) {
                out.put(name, p.getProperty(name).trim());
            } else {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ConfigException("config file " + file + " has unknown keys " + unknown + "; known keys are " + keys());
        }
        return out;
    }

    /** Picks the {@code EDGEFLEET_AGENT_*} variables that name a key; others (e.g. JVM options) are left alone. */
    public static Map<String, String> fromEnv(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : SETTERS.keySet()) {
            String v = env.get(envName(key));
            if (v != null && !v.isBlank()) {
                out.put(key, v.trim());
            }
        }
        return out;
    }

    /** Applies the layers in order (later wins) over the defaults and validates the result. */
    @SafeVarargs
    public static AgentConfig resolve(Map<String, String>... layers) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (Map<String, String> layer : layers) {
            layer.forEach((k, v) -> {
                if (v != null) {
                    merged.put(k, v);
                }
            });
        }
        AgentConfig.Builder b = AgentConfig.builder();
        merged.forEach((k, v) -> {
            BiConsumer<AgentConfig.Builder, String> setter = SETTERS.get(k);
            if (setter == null) {
                throw new ConfigException("unknown setting '" + k + "'; known settings are " + keys());
            }
            setter.accept(b, v);
        });
        return b.build();
    }

    private static int parseInt(String key, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": '" + v + "' is not an integer");
        }
    }

    private static long parseLong(String key, String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": '" + v + "' is not an integer");
        }
    }

    private static boolean parseBoolean(String key, String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        if (t.equals("true") || t.equals("false")) {
            return t.equals("true");
        }
        throw new ConfigException(key + ": '" + v + "' is neither true nor false");
    }

    private static double parseDouble(String key, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": '" + v + "' is not a number");
        }
    }
}
