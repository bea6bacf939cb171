package io.edgefleet.agent.config;

import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.Topics;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Everything one agent needs to run. Built from a properties file, {@code EDGEFLEET_AGENT_*}
 * environment variables and command-line flags by {@link ConfigLoader}, or directly with
 * {@link #builder()} when the agent is used as a library. The canonical constructor validates, so an
 * instance is always usable.
 *
 * @param serverKeys base64 X.509 Ed25519 public keys the agent pins; manifests signed by anything else are refused
 * @param input      {@code synthetic} or a folder of {@code .npz} files to cycle through
 * @param speedFactor after each real inference the agent sleeps (factor - 1) x its duration to emulate a slower board
 * @param sysfsRoot  where the energy sensors are looked up ({@code /sys}; tests point it at a fake tree)
 * @param driftSelfReferenceSamples without a signed reference profile, the first this many inferences of a model
 *                   become its reference
 * @param driftMinWindowSamples drift is reported once this many inferences are binned (fewer are too noisy to mean
 *                              anything); a window with fewer carries them over into the next
 * @param mqttCaFile  PEM file with the CA(s) an {@code ssl://} broker's certificate must chain to; null: the JVM's CAs
 * @param mqttClient  the MQTT client: {@code paho} (default, for a device) or {@code hivemq} (event loop shared by
 *                    every agent of a JVM, for simulators)
 */
public record AgentConfig(
        String deviceId,
        String classId,
        String mqttUrl,
        String username,
        String password,
        List<String> serverKeys,
        Path dataDir,
        int telemetryWindowSeconds,
        long inferenceIntervalMs,
        int intraOpThreads,
        String input,
        double speedFactor,
        double idleWatts,
        double activeWatts,
        int downloadTimeoutSeconds,
        int telemetryBufferMax,
        long sessionExpirySeconds,
        Path sysfsRoot,
        int driftSelfReferenceSamples,
        int driftMinWindowSamples,
        boolean servingEnabled,
        String servingHost,
        int servingPort,
        long servingMaxBodyBytes,
        int servingThreads,
        Path mqttCaFile,
        MqttTransport.Kind mqttClient,
        io.edgefleet.agent.degrade.DegradationSettings degradation) {

    public static final String SYNTHETIC = "synthetic";
    /** Synthetic inputs drawn fresh for every inference (a stream with a distribution, for drift scenarios). */
    public static final String SYNTHETIC_STREAM = "synthetic-stream";

    /** The configuration before graceful degradation: its defaults. */
    public AgentConfig(String deviceId, String classId, String mqttUrl, String username, String password,
                       List<String> serverKeys, Path dataDir, int telemetryWindowSeconds, long inferenceIntervalMs,
                       int intraOpThreads, String input, double speedFactor, double idleWatts, double activeWatts,
                       int downloadTimeoutSeconds, int telemetryBufferMax, long sessionExpirySeconds, Path sysfsRoot,
                       int driftSelfReferenceSamples, int driftMinWindowSamples, boolean servingEnabled,
                       String servingHost, int servingPort, long servingMaxBodyBytes, int servingThreads,
                       Path mqttCaFile, MqttTransport.Kind mqttClient) {
        this(deviceId, classId, mqttUrl, username, password, serverKeys, dataDir, telemetryWindowSeconds,
                inferenceIntervalMs, intraOpThreads, input, speedFactor, idleWatts, activeWatts, downloadTimeoutSeconds,
                telemetryBufferMax, sessionExpirySeconds, sysfsRoot, driftSelfReferenceSamples, driftMinWindowSamples,
                servingEnabled, servingHost, servingPort, servingMaxBodyBytes, servingThreads, mqttCaFile, mqttClient,
                null);
    }

    /** The configuration before {@code mqttClient} existed: Paho. */
    public AgentConfig(String deviceId, String classId, String mqttUrl, String username, String password,
                       List<String> serverKeys, Path dataDir, int telemetryWindowSeconds, long inferenceIntervalMs,
                       int intraOpThreads, String input, double speedFactor, double idleWatts, double activeWatts,
                       int downloadTimeoutSeconds, int telemetryBufferMax, long sessionExpirySeconds, Path sysfsRoot,
                       int driftSelfReferenceSamples, int driftMinWindowSamples, boolean servingEnabled,
                       String servingHost, int servingPort, long servingMaxBodyBytes, int servingThreads,
                       Path mqttCaFile) {
        this(deviceId, classId, mqttUrl, username, password, serverKeys, dataDir, telemetryWindowSeconds,
                inferenceIntervalMs, intraOpThreads, input, speedFactor, idleWatts, activeWatts, downloadTimeoutSeconds,
                telemetryBufferMax, sessionExpirySeconds, sysfsRoot, driftSelfReferenceSamples, driftMinWindowSamples,
                servingEnabled, servingHost, servingPort, servingMaxBodyBytes, servingThreads, mqttCaFile, null);
    }

    public AgentConfig {
        if (mqttClient == null) {
            mqttClient = MqttTransport.Kind.PAHO;
        }
        if (degradation == null) {
            degradation = io.edgefleet.agent.degrade.DegradationSettings.DEFAULTS;
        }
        require(Topics.isId(deviceId), "deviceId", deviceId, "must be 1-64 chars of [A-Za-z0-9._-] starting with a letter or digit");
        require(Topics.isId(classId), "classId", classId, "must be 1-64 chars of [A-Za-z0-9._-] starting with a letter or digit");
        checkMqttUrl(mqttUrl);
        if (username == null || username.isBlank()) {
            username = deviceId;
        }
        password = password == null ? "" : password;
        if (serverKeys == null || serverKeys.isEmpty() || serverKeys.size() > 2) {
            throw new ConfigException("serverKeys: one or two base64 Ed25519 public keys are required (got "
                    + (serverKeys == null ? 0 : serverKeys.size()) + ")");
        }
        serverKeys = List.copyOf(serverKeys);
        for (String k : serverKeys) {
            try {
                ManifestSigner.decodePublic(k);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("serverKeys: '" + abbreviate(k) + "' is " + e.getMessage());
            }
        }
        if (dataDir == null) {
            throw new ConfigException("dataDir: is required");
        }
        require(telemetryWindowSeconds >= 1 && telemetryWindowSeconds <= 3600, "telemetryWindowSeconds",
                telemetryWindowSeconds, "must be in [1, 3600]");
        require(inferenceIntervalMs >= 1 && inferenceIntervalMs <= 3_600_000, "inferenceIntervalMs",
                inferenceIntervalMs, "must be in [1, 3600000]");
        require(intraOpThreads >= 1 && intraOpThreads <= 256, "intraOpThreads", intraOpThreads, "must be in [1, 256]");
        if (input == null || input.isBlank()) {
            input = SYNTHETIC;
        }
        if (!input.equals(SYNTHETIC) && !input.equals(SYNTHETIC_STREAM) && !Files.isDirectory(Path.of(input))) {
            throw new ConfigException("input: '" + input + "' is neither 'synthetic', 'synthetic-stream' nor an existing "
                    + "folder of .npz files");
        }
        require(Double.isFinite(speedFactor) && speedFactor >= 1.0 && speedFactor <= 1000, "speedFactor", speedFactor,
                "must be in [1, 1000] (1 = real speed, 3 = a board three times slower)");
        require(Double.isFinite(idleWatts) && idleWatts >= 0, "idleWatts", idleWatts, "must be >= 0");
        require(Double.isFinite(activeWatts) && activeWatts >= 0, "activeWatts", activeWatts, "must be >= 0");
        require(downloadTimeoutSeconds >= 1 && downloadTimeoutSeconds <= 86_400, "downloadTimeoutSeconds",
                downloadTimeoutSeconds, "must be in [1, 86400]");
        require(telemetryBufferMax >= 1 && telemetryBufferMax <= 10_000_000, "telemetryBufferMax", telemetryBufferMax,
                "must be in [1, 10000000]");
        if (sysfsRoot == null) {
            sysfsRoot = Path.of("/sys");
        }
        require(driftSelfReferenceSamples >= 10 && driftSelfReferenceSamples <= 100_000, "driftSelfReferenceSamples",
                driftSelfReferenceSamples, "must be in [10, 100000]");
        require(driftMinWindowSamples >= 1 && driftMinWindowSamples <= 1_000_000, "driftMinWindowSamples",
                driftMinWindowSamples, "must be in [1, 1000000]");
        require(sessionExpirySeconds >= 0 && sessionExpirySeconds <= 0xFFFFFFFFL, "sessionExpirySeconds",
                sessionExpirySeconds, "must be in [0, 4294967295]");
        if (servingHost == null || servingHost.isBlank()) {
            throw new ConfigException("servingHost: is required when set (default 127.0.0.1, loopback only)");
        }
        servingHost = servingHost.trim();
        require(servingPort >= 0 && servingPort <= 65535, "servingPort", servingPort, "must be in [0, 65535] (0 = any free port)");
        require(servingMaxBodyBytes >= 1024 && servingMaxBodyBytes <= MAX_SERVING_BODY_BYTES, "servingMaxBodyBytes",
                servingMaxBodyBytes, "must be in [1024, " + MAX_SERVING_BODY_BYTES + "]");
        require(servingThreads >= 1 && servingThreads <= 64, "servingThreads", servingThreads, "must be in [1, 64]");
        if (mqttCaFile != null && !Files.isRegularFile(mqttCaFile)) {
            throw new ConfigException("mqttCaFile: '" + mqttCaFile + "' is not a readable file");
        }
    }

    /** Bound of the inference API's body bound: a body is held in one array. */
    public static final long MAX_SERVING_BODY_BYTES = 1L << 30;

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().deviceId(deviceId).classId(classId).mqttUrl(mqttUrl).username(username).password(password)
                .serverKeys(serverKeys).dataDir(dataDir).telemetryWindowSeconds(telemetryWindowSeconds)
                .inferenceIntervalMs(inferenceIntervalMs).intraOpThreads(intraOpThreads).input(input)
                .speedFactor(speedFactor).idleWatts(idleWatts).activeWatts(activeWatts)
                .downloadTimeoutSeconds(downloadTimeoutSeconds).telemetryBufferMax(telemetryBufferMax)
                .sessionExpirySeconds(sessionExpirySeconds).sysfsRoot(sysfsRoot)
                .driftSelfReferenceSamples(driftSelfReferenceSamples).driftMinWindowSamples(driftMinWindowSamples)
                .servingEnabled(servingEnabled).servingHost(servingHost)
                .servingPort(servingPort).servingMaxBodyBytes(servingMaxBodyBytes).servingThreads(servingThreads)
                .mqttCaFile(mqttCaFile).mqttClient(mqttClient)
                .degradationCalmWindows(degradation.calmWindows()).cascadeThreshold(degradation.cascadeThreshold())
                .degradationPressureMode(degradation.pressureMode()).degradationP95Ms(degradation.p95SloMs())
                .degradationThermal(degradation.thermal());
    }

    public List<PublicKey> pinnedKeys() {
        return serverKeys.stream().map(ManifestSigner::decodePublic).toList();
    }

    public boolean syntheticInput() {
        return SYNTHETIC.equals(input) || SYNTHETIC_STREAM.equals(input);
    }

    @Override
    public String toString() {
        // Never print the password.
        return "AgentConfig[deviceId=" + deviceId + ", classId=" + classId + ", mqttUrl=" + mqttUrl + ", username="
                + username + ", dataDir=" + dataDir + ", telemetryWindowSeconds=" + telemetryWindowSeconds
                + ", inferenceIntervalMs=" + inferenceIntervalMs + ", intraOpThreads=" + intraOpThreads + ", input="
                + input + ", speedFactor=" + speedFactor + ", serving="
                + (servingEnabled ? servingHost + ":" + servingPort : "off") + ", mqttClient=" + mqttClient.id() + "]";
    }

    private static void checkMqttUrl(String url) {
        if (url == null || url.isBlank()) {
            throw new ConfigException("mqttUrl: is required, e.g. tcp://broker:1883");
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!List.of("tcp", "ssl", "ws", "wss").contains(scheme) || uri.getHost() == null) {
                throw new ConfigException("mqttUrl: '" + url + "' must look like tcp://host:port (schemes tcp, ssl, ws, wss)");
            }
        } catch (URISyntaxException e) {
            throw new ConfigException("mqttUrl: '" + url + "' is not a URI: " + e.getReason());
        }
    }

    private static void require(boolean ok, String key, Object value, String why) {
        if (!ok) {
            throw new ConfigException(key + ": '" + value + "' " + why);
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() > 16 ? s.substring(0, 16) + "..." : s;
    }

    /** Defaults match the documented ones; {@link #build()} validates. */
    public static final class Builder {
        private String deviceId;
        private String classId;
        private String mqttUrl = "tcp://127.0.0.1:1883";
        private String username;
        private String password;
        private List<String> serverKeys = List.of();
        private Path dataDir;
        private int telemetryWindowSeconds = 10;
        private long inferenceIntervalMs = 50;
        private int intraOpThreads = 1;
        private String input = SYNTHETIC;
        private double speedFactor = 1.0;
        private double idleWatts = 2.0;
        private double activeWatts = 6.0;
        private int downloadTimeoutSeconds = 120;
        private int telemetryBufferMax = 10_000;
        private long sessionExpirySeconds = 7 * 24 * 3600;
        private Path sysfsRoot = Path.of("/sys");
        private int driftSelfReferenceSamples = 200;
        private int driftMinWindowSamples = 200;
        // Off for library use (many agents in one JVM would compete for one port); the agent process turns it on.
        private boolean servingEnabled = false;
        private String servingHost = "127.0.0.1";
        private int servingPort = 8000;
        // A body's values become arrays of up to ~8 bytes per 2 bytes of JSON ("0,"): 4 MiB keeps two concurrent
        // worst-case requests well inside a board's -Xmx128m heap.
        private long servingMaxBodyBytes = 4L * 1024 * 1024;
        private int servingThreads = 2;
        private Path mqttCaFile;
        private MqttTransport.Kind mqttClient = MqttTransport.Kind.PAHO;
        private int degradationCalmWindows = io.edgefleet.agent.degrade.DegradationSettings.DEFAULTS.calmWindows();
        private double cascadeThreshold = io.edgefleet.agent.degrade.DegradationSettings.DEFAULTS.cascadeThreshold();
        private io.edgefleet.agent.degrade.Mode degradationPressureMode = io.edgefleet.agent.degrade.Mode.LIGHT;
        private Double degradationP95Ms;
        private boolean degradationThermal = true;

        public Builder deviceId(String v) { deviceId = v; return this; }
        public Builder classId(String v) { classId = v; return this; }
        public Builder mqttUrl(String v) { mqttUrl = v; return this; }
        public Builder username(String v) { username = v; return this; }
        public Builder password(String v) { password = v; return this; }
        public Builder serverKeys(List<String> v) { serverKeys = Objects.requireNonNull(v); return this; }
        public Builder dataDir(Path v) { dataDir = v; return this; }
        public Builder telemetryWindowSeconds(int v) { telemetryWindowSeconds = v; return this; }
        public Builder inferenceIntervalMs(long v) { inferenceIntervalMs = v; return this; }
        public Builder intraOpThreads(int v) { intraOpThreads = v; return this; }
        public Builder input(String v) { input = v; return this; }
        public Builder speedFactor(double v) { speedFactor = v; return this; }
        public Builder idleWatts(double v) { idleWatts = v; return this; }
        public Builder activeWatts(double v) { activeWatts = v; return this; }
        public Builder downloadTimeoutSeconds(int v) { downloadTimeoutSeconds = v; return this; }
        public Builder telemetryBufferMax(int v) { telemetryBufferMax = v; return this; }
        public Builder sessionExpirySeconds(long v) { sessionExpirySeconds = v; return this; }
        public Builder sysfsRoot(Path v) { sysfsRoot = v; return this; }
        public Builder driftSelfReferenceSamples(int v) { driftSelfReferenceSamples = v; return this; }
        public Builder driftMinWindowSamples(int v) { driftMinWindowSamples = v; return this; }
        public Builder servingEnabled(boolean v) { servingEnabled = v; return this; }
        public Builder servingHost(String v) { servingHost = v; return this; }
        public Builder servingPort(int v) { servingPort = v; return this; }
        public Builder servingMaxBodyBytes(long v) { servingMaxBodyBytes = v; return this; }
        public Builder servingThreads(int v) { servingThreads = v; return this; }
        public Builder mqttCaFile(Path v) { mqttCaFile = v; return this; }
        public Builder mqttClient(MqttTransport.Kind v) { mqttClient = v; return this; }
        public Builder degradationCalmWindows(int v) { degradationCalmWindows = v; return this; }
        public Builder cascadeThreshold(double v) { cascadeThreshold = v; return this; }
        public Builder degradationPressureMode(io.edgefleet.agent.degrade.Mode v) { degradationPressureMode = v; return this; }
        public Builder degradationP95Ms(Double v) { degradationP95Ms = v; return this; }
        public Builder degradationThermal(boolean v) { degradationThermal = v; return this; }

        public AgentConfig build() {
            return new AgentConfig(deviceId, classId, mqttUrl, username, password, serverKeys, dataDir,
                    telemetryWindowSeconds, inferenceIntervalMs, intraOpThreads, input, speedFactor, idleWatts,
                    activeWatts, downloadTimeoutSeconds, telemetryBufferMax, sessionExpirySeconds, sysfsRoot,
                    driftSelfReferenceSamples, driftMinWindowSamples,
                    servingEnabled, servingHost,
                    servingPort, servingMaxBodyBytes, servingThreads, mqttCaFile, mqttClient, degradation());
        }

        private io.edgefleet.agent.degrade.DegradationSettings degradation() {
            try {
                return new io.edgefleet.agent.degrade.DegradationSettings(degradationCalmWindows, cascadeThreshold,
                        degradationPressureMode, degradationP95Ms, degradationThermal);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
        }
    }
}
