package io.edgefleet.agent.update;

import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Entry point for everything on {@code devices/{id}/cmd}: decodes, verifies, and dispatches. Every
 * refusal is a COMMAND_REJECTED event with a reason: the codec's for a malformed payload, then
 * COMMAND_UNSIGNED, SIGNATURE_INVALID, COMMAND_FOREIGN, COMMAND_EXPIRED from the signature check
 * (promise 3), and COMMAND_REPLAYED for an id already handled.
 *
 * <p>The rejection names the deployment only when the signature verified: an unverified command's
 * deployment id is whatever its sender wrote, and naming it would let a forger fail a real rollout's
 * target. A replay's rejection names none either, because a QoS 1 redelivery of a command that is
 * running must not fail its target.
 */
public final class CommandProcessor {
    private static final System.Logger LOG = System.getLogger(CommandProcessor.class.getName());

    /** Settings a CONFIG command may change at run time. */
    public static final List<String> RUNTIME_KEYS = List.of("telemetryWindowSeconds", "inferenceIntervalMs",
            "captureRate", "captureMaxSamples", "captureMaxBytes", "mode", "modeModel");

    /** Applies validated runtime settings. */
    public interface RuntimeConfig {
        void telemetryWindowSeconds(int seconds);

        void inferenceIntervalMs(long millis);

        /** The operator's raw-input capture opt-in; rate 0 turns capture off. */
        default void capture(double rate, int maxSamples, long maxBytes) {
            throw new UnsupportedOperationException("this agent does not capture inputs");
        }

        /**
         * Graceful degradation: pins {@code model} (null: every model with a light variant) to {@code mode}
         * ({@code full}, {@code light}, {@code cascade}) or gives it back to the switch policy ({@code auto}).
         *
         * @return why it cannot be applied (nothing changed), or null when applied
         */
        default String degradationMode(String model, String mode) {
            return "this agent does not switch models to a light variant";
        }
    }

    private final String deviceId;
    private final JsonCodec codec;
    private final SeenCommands seen;
    private final ManifestSigner.Verifier verifier;
    private final LongSupplier clock;
    private final Updates updates;
    private final RuntimeConfig config;
    private final EventSink events;
    private volatile java.util.function.Consumer<Command> benchmarks;

    public CommandProcessor(String deviceId, JsonCodec codec, SeenCommands seen, ManifestSigner.Verifier verifier,
                            LongSupplier clock, Updates updates, RuntimeConfig config, EventSink events) {
        this.deviceId = deviceId;
        this.codec = codec;
        this.seen = seen;
        this.verifier = verifier;
        this.clock = clock;
        this.updates = updates;
        this.config = config;
        this.events = events;
    }

    /** Where verified BENCHMARK commands go; without one they are refused (INVALID_FIELD). */
    public void setBenchmarks(java.util.function.Consumer<Command> handler) {
        this.benchmarks = handler;
    }

    public void onCommand(byte[] payload) {
        Command cmd;
        try {
            cmd = codec.decode(payload, Command.class);
        } catch (ProtocolException e) {
            reject(null, e.reason(), e.getMessage());
            return;
        }
        try {
            verifier.verify(cmd, deviceId, clock.getAsLong());
        } catch (ProtocolException e) {
            boolean authentic = e.reason() == ReasonCode.COMMAND_EXPIRED;
            reject(authentic ? cmd.deploymentId() : null, e.reason(), e.getMessage());
            return;
        }
        // Recorded before it runs: a ROLLBACK executed twice would undo itself, so at-most-once wins here.
        try {
            if (!seen.add(cmd.id())) {
                reject(null, ReasonCode.COMMAND_REPLAYED, "command " + cmd.id() + " (" + cmd.type() + ", deployment "
                        + cmd.deploymentId() + ") was already handled; not running it again");
                return;
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot persist command id " + cmd.id() + ": " + e.getMessage());
        }
        switch (cmd.type()) {
            case DEPLOY -> updates.onDeploy(cmd);
            case ROLLBACK -> updates.onRollback(cmd);
            case CONFIG -> applyConfig(cmd);
            case BENCHMARK -> {
                java.util.function.Consumer<Command> b = benchmarks;
                if (b == null) {
                    reject(cmd.deploymentId(), ReasonCode.INVALID_FIELD, "this agent does not run benchmarks");
                } else {
                    b.accept(cmd);
                }
            }
        }
    }

    private void applyConfig(Command cmd) {
        Map<String, String> c = cmd.config();
        TreeSet<String> unknown = new TreeSet<>(c.keySet());
        RUNTIME_KEYS.forEach(unknown::remove);
        if (!unknown.isEmpty()) {
            reject(cmd.deploymentId(), ReasonCode.INVALID_FIELD, "unknown config keys " + unknown + "; supported: " + RUNTIME_KEYS);
            return;
        }
        Integer window = null;
        Long interval = null;
        double[] capture = null;
        try {
            if (c.containsKey("captureRate")) {
                double rate = Double.parseDouble(c.get("captureRate").trim());
                if (!(rate >= 0 && rate <= 1)) {
                    throw new NumberFormatException("captureRate must be in [0, 1]");
                }
                int maxSamples = rate == 0 ? 0 : Integer.parseInt(c.getOrDefault("captureMaxSamples", "").trim());
                long maxBytes = rate == 0 ? 0 : Long.parseLong(c.getOrDefault("captureMaxBytes", "").trim());
                if (rate > 0 && (maxSamples < 1 || maxBytes < 1)) {
                    throw new NumberFormatException("captureMaxSamples and captureMaxBytes must be >= 1");
                }
                capture = new double[] {rate, maxSamples, maxBytes};
            } else if (c.containsKey("captureMaxSamples") || c.containsKey("captureMaxBytes")) {
                throw new NumberFormatException("capture bounds need captureRate");
            }
            if (c.containsKey("telemetryWindowSeconds")) {
                window = Integer.parseInt(c.get("telemetryWindowSeconds").trim());
                if (window < 1 || window > 3600) {
                    throw new NumberFormatException("telemetryWindowSeconds must be in [1, 3600]");
                }
            }
            if (c.containsKey("inferenceIntervalMs")) {
                interval = Long.parseLong(c.get("inferenceIntervalMs").trim());
                if (interval < 1 || interval > 3_600_000) {
                    throw new NumberFormatException("inferenceIntervalMs must be in [1, 3600000]");
                }
            }
            if (c.containsKey("modeModel") && !c.containsKey("mode")) {
                throw new NumberFormatException("modeModel needs mode");
            }
        } catch (NumberFormatException | NullPointerException e) {
            reject(cmd.deploymentId(), ReasonCode.INVALID_FIELD, "bad config value: " + e.getMessage());
            return;
        }
        // Applied first: a mode the agent refuses rejects the whole command before any other setting changes.
        if (c.containsKey("mode")) {
            String refused = config.degradationMode(c.get("modeModel"), c.get("mode"));
            if (refused != null) {
                reject(cmd.deploymentId(), ReasonCode.INVALID_FIELD, "mode refused: " + refused);
                return;
            }
        }
        if (window != null) {
            config.telemetryWindowSeconds(window);
        }
        if (interval != null) {
            config.inferenceIntervalMs(interval);
        }
        if (capture != null) {
            config.capture(capture[0], (int) capture[1], (long) capture[2]);
        }
        LOG.log(System.Logger.Level.INFO, deviceId + ": applied config " + c);
    }

    private void reject(String deploymentId, ReasonCode reason, String detail) {
        LOG.log(System.Logger.Level.WARNING, deviceId + ": command rejected (" + reason + "): " + detail);
        events.event(DeviceEvent.of(deviceId, DeviceEvent.Type.COMMAND_REJECTED, deploymentId, null, reason,
                detail.length() > 4000 ? detail.substring(0, 4000) : detail));
    }
}
