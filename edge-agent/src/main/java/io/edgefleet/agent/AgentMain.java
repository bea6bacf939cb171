package io.edgefleet.agent;

import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.config.ConfigException;
import io.edgefleet.agent.config.ConfigLoader;
import io.edgefleet.protocol.data.NpyFormatException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs one agent until SIGTERM/SIGINT. Settings come from {@code --config file.properties},
 * {@code EDGEFLEET_AGENT_*} environment variables and the flags below, flags winning.
 * Exit codes: 0 stopped normally, 1 failed at run time, 2 bad configuration.
 */
@Command(name = "edgefleet-agent", mixinStandardHelpOptions = true, version = "edgefleet-agent " + Agent.VERSION,
        description = "Edge agent: MQTT session, signed A/B model updates, ONNX Runtime inference, telemetry.",
        sortOptions = false)
public final class AgentMain implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_CONFIG = 2;

    @Option(names = "--config", paramLabel = "FILE", description = "properties file with the keys below in camelCase")
    Path configFile;
    @Option(names = "--device-id") String deviceId;
    @Option(names = "--class-id") String classId;
    @Option(names = "--mqtt-url", description = "e.g. tcp://broker:1883 (default tcp://127.0.0.1:1883)") String mqttUrl;
    @Option(names = "--username", description = "defaults to the device id") String username;
    @Option(names = "--password") String password;
    @Option(names = "--server-keys", description = "one or two base64 Ed25519 public keys, comma-separated") String serverKeys;
    @Option(names = "--data-dir") String dataDir;
    @Option(names = "--telemetry-window-seconds", description = "default 10") String telemetryWindowSeconds;
    @Option(names = "--inference-interval-ms", description = "default 50") String inferenceIntervalMs;
    @Option(names = "--intra-op-threads", description = "default 1") String intraOpThreads;
    @Option(names = "--input", description = "'synthetic' (default) or a folder of .npz files") String input;
    @Option(names = "--speed-factor", description = "emulated slow-down, default 1.0") String speedFactor;
    @Option(names = "--idle-watts", description = "local power model when the manifest has none; default 2.0") String idleWatts;
    @Option(names = "--active-watts", description = "local power model when the manifest has none; default 6.0") String activeWatts;
    @Option(names = "--download-timeout-seconds", description = "default 120") String downloadTimeoutSeconds;
    @Option(names = "--telemetry-buffer-max", description = "windows kept on disk while offline, default 10000") String telemetryBufferMax;
    @Option(names = "--sysfs-root", description = "where RAPL and hwmon energy sensors are looked up, default /sys") String sysfsRoot;
    @Option(names = "--drift-self-reference-samples", description = "inferences taken as drift reference when the"
            + " manifest has no profile, default 200") String driftSelfReferenceSamples;
    @Option(names = "--drift-min-window-samples", description = "drift is reported once this many inferences are"
            + " binned; fewer carry over into the next window, default 200") String driftMinWindowSamples;
    @Option(names = "--session-expiry-seconds", description = "how long the broker keeps queued commands, default 604800") String sessionExpirySeconds;
    @Option(names = "--serving-enabled", description = "inference API for local applications, default true") String servingEnabled;
    @Option(names = "--serving-host", description = "inference API bind address, default 127.0.0.1") String servingHost;
    @Option(names = "--serving-port", description = "inference API port, default 8000; 0 = any free port") String servingPort;
    @Option(names = "--serving-max-body-bytes", description = "larger requests get 413, default 4194304") String servingMaxBodyBytes;
    @Option(names = "--serving-threads", description = "inference API worker threads, default 2") String servingThreads;
    @Option(names = "--mqtt-ca-file", description = "PEM CA file an ssl:// broker's certificate must chain to") String mqttCaFile;
    @Option(names = "--mqtt-client", description = "MQTT client: paho (default) or hivemq") String mqttClient;
    @Option(names = "--degradation-calm-windows", description = "calm telemetry windows before a model running its light"
            + " fallback goes back to full, default 3") String degradationCalmWindows;
    @Option(names = "--degradation-pressure-mode", description = "light (default) or cascade") String degradationPressureMode;
    @Option(names = "--cascade-threshold", description = "light variant's top-1 confidence under which the full model"
            + " answers, default 0.8") String cascadeThreshold;
    @Option(names = "--degradation-p95-ms", description = "p95 over which a window is pressure; default the deploy's"
            + " health policy (class SLO)") String degradationP95Ms;
    @Option(names = "--degradation-thermal", description = "thermal throttling counts as pressure, default true") String degradationThermal;

    private final Map<String, String> env;
    private final PrintWriter err;

    public AgentMain() {
        this(System.getenv(), new PrintWriter(System.err, true));
    }

    AgentMain(Map<String, String> env, PrintWriter err) {
        this.env = env;
        this.err = err;
    }

    public static void main(String[] args) {
        Logs.configure(java.util.logging.Level.INFO);
        System.exit(new CommandLine(new AgentMain()).execute(args));
    }

    /** The configuration these arguments, the environment and the file resolve to; throws ConfigException. */
    AgentConfig resolveConfig() {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("deviceId", deviceId);
        flags.put("classId", classId);
        flags.put("mqttUrl", mqttUrl);
        flags.put("username", username);
        flags.put("password", password);
        flags.put("serverKeys", serverKeys);
        flags.put("dataDir", dataDir);
        flags.put("telemetryWindowSeconds", telemetryWindowSeconds);
        flags.put("inferenceIntervalMs", inferenceIntervalMs);
        flags.put("intraOpThreads", intraOpThreads);
        flags.put("input", input);
        flags.put("speedFactor", speedFactor);
        flags.put("idleWatts", idleWatts);
        flags.put("activeWatts", activeWatts);
        flags.put("downloadTimeoutSeconds", downloadTimeoutSeconds);
        flags.put("telemetryBufferMax", telemetryBufferMax);
        flags.put("sessionExpirySeconds", sessionExpirySeconds);
        flags.put("sysfsRoot", sysfsRoot);
        flags.put("driftSelfReferenceSamples", driftSelfReferenceSamples);
        flags.put("driftMinWindowSamples", driftMinWindowSamples);
        flags.put("servingEnabled", servingEnabled);
        flags.put("servingHost", servingHost);
        flags.put("servingPort", servingPort);
        flags.put("servingMaxBodyBytes", servingMaxBodyBytes);
        flags.put("servingThreads", servingThreads);
        flags.put("mqttCaFile", mqttCaFile);
        flags.put("mqttClient", mqttClient);
        flags.put("degradationCalmWindows", degradationCalmWindows);
        flags.put("degradationPressureMode", degradationPressureMode);
        flags.put("cascadeThreshold", cascadeThreshold);
        flags.put("degradationP95Ms", degradationP95Ms);
        flags.put("degradationThermal", degradationThermal);
        Map<String, String> file = configFile == null ? Map.of() : ConfigLoader.readFile(configFile);
        // The agent process serves the inference API by default (on loopback); library users opt in.
        Map<String, String> defaults = Map.of("dataDir", "./agent-data", "servingEnabled", "true");
        return ConfigLoader.resolve(defaults, file, ConfigLoader.fromEnv(env), flags);
    }

    @Override
    public Integer call() {
        AgentConfig cfg;
        try {
            cfg = resolveConfig();
        } catch (ConfigException e) {
            err.println("edgefleet-agent: bad configuration: " + e.getMessage());
            return EXIT_CONFIG;
        }
        Agent agent = new Agent(cfg);
        try {
            agent.start();
        } catch (NpyFormatException e) {
            err.println("edgefleet-agent: bad configuration: input: " + e.getMessage());
            return EXIT_CONFIG;
        } catch (Exception e) {
            err.println("edgefleet-agent: cannot start: " + e.getMessage());
            agent.kill();
            return EXIT_FAILED;
        }
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.stop();
            done.countDown();
            err.flush();
            // SIGTERM is the normal way to stop an agent (systemd, Kubernetes): report success, not 143.
            Runtime.getRuntime().halt(EXIT_OK);
        }, "agent-shutdown"));
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return EXIT_OK;
    }
}
