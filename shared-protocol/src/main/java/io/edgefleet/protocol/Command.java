package io.edgefleet.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Server to agent on {@code devices/{id}/cmd}.
 *
 * <ul>
 *   <li>DEPLOY: fetch {@code artifact} from its class's artifact topics, verify it against the signed
 *       manifest, stage, activate, watch {@code health}, commit or roll back.</li>
 *   <li>ROLLBACK: go back to the standby (previous) model; {@code reason} says why.</li>
 *   <li>CONFIG: change agent settings, e.g. {@code telemetryWindowSeconds}.</li>
 *   <li>BENCHMARK: fetch {@code artifact} like a deploy, but load it in a separate session without activating it
 *       or touching the A/B slots, run it on synthetic inputs for {@code benchmarkSeconds} and/or
 *       {@code benchmarkRuns} inferences of {@code batch} samples, and answer with a {@link BenchmarkReport}.
 *       With {@code benchmarkIntervalMs} the runs are paced ({@code 0}: the device's own inference interval).
 *       {@code deploymentId} carries the benchmark job's id.</li>
 * </ul>
 *
 * <p>The last four fields make a command signed (promise 3): {@code deviceId} names the one device the
 * command is for, {@code expiresAt} (epoch millis) ends its validity, and {@code keyId}/{@code signature}
 * are an Ed25519 signature by the server's manifest key over {@link #signedBytes()}. They are nullable
 * on the wire so an old server's JSON still parses; the agent refuses a command without them.
 */
public record Command(
        int v,
        String id,
        long ts,
        Type type,
        String deploymentId,
        ArtifactRef artifact,
        HealthPolicy health,
        String reason,
        Map<String, String> config,
        String deviceId,
        Long expiresAt,
        String keyId,
        String signature,
        Integer benchmarkSeconds,
        Integer benchmarkRuns,
        Integer batch,
        ArtifactRef fallback,
        Integer benchmarkIntervalMs) implements Message {

    public enum Type { DEPLOY, ROLLBACK, CONFIG, BENCHMARK }

    /** Longest benchmark a command may ask for, seconds. */
    public static final int MAX_BENCHMARK_SECONDS = 600;
    /** Most timed inferences a benchmark command may ask for. */
    public static final int MAX_BENCHMARK_RUNS = 1_000_000;
    /** Largest batch a benchmark command may ask for. */
    public static final int MAX_BENCHMARK_BATCH = 256;
    /** Longest pause between the starts of two paced benchmark runs, ms. */
    public static final int MAX_BENCHMARK_INTERVAL_MS = 60_000;

    /** The record before the benchmark interval (kept so older callers still compile; JSON without it parses as null). */
    public Command(int v, String id, long ts, Type type, String deploymentId, ArtifactRef artifact, HealthPolicy health,
                   String reason, Map<String, String> config, String deviceId, Long expiresAt, String keyId,
                   String signature, Integer benchmarkSeconds, Integer benchmarkRuns, Integer batch,
                   ArtifactRef fallback) {
        this(v, id, ts, type, deploymentId, artifact, health, reason, config, deviceId, expiresAt, keyId, signature,
                benchmarkSeconds, benchmarkRuns, batch, fallback, null);
    }

    /** The record before the fallback field (kept so older callers still compile; JSON without it parses as null). */
    public Command(int v, String id, long ts, Type type, String deploymentId, ArtifactRef artifact, HealthPolicy health,
                   String reason, Map<String, String> config, String deviceId, Long expiresAt, String keyId,
                   String signature, Integer benchmarkSeconds, Integer benchmarkRuns, Integer batch) {
        this(v, id, ts, type, deploymentId, artifact, health, reason, config, deviceId, expiresAt, keyId, signature,
                benchmarkSeconds, benchmarkRuns, batch, null, null);
    }

    /** The record before the benchmark fields (kept so older callers and JSON without them still work). */
    public Command(int v, String id, long ts, Type type, String deploymentId, ArtifactRef artifact, HealthPolicy health,
                   String reason, Map<String, String> config, String deviceId, Long expiresAt, String keyId,
                   String signature) {
        this(v, id, ts, type, deploymentId, artifact, health, reason, config, deviceId, expiresAt, keyId, signature,
                null, null, null, null, null);
    }

    /**
     * Asks a device to measure an artifact without activating it. At least one of {@code seconds} and {@code runs}
     * is set; when both are, the benchmark ends at whichever comes first.
     */
    public static Command benchmark(String jobId, ArtifactRef artifact, Integer seconds, Integer runs, Integer batch) {
        return benchmark(jobId, artifact, seconds, runs, batch, null);
    }

    /**
     * A benchmark paced like the device's own inference loop: {@code intervalMs} between the starts of two timed runs
     * (0: the device's configured inference interval; null: back to back, as before the field existed), so the
     * device measures the latency of the duty cycle it will run, caches cooled by the pause included.
     */
    public static Command benchmark(String jobId, ArtifactRef artifact, Integer seconds, Integer runs, Integer batch,
                                    Integer intervalMs) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(), Type.BENCHMARK, jobId,
                artifact, null, null, null, null, null, null, null, seconds, runs, batch, null, intervalMs);
    }

    public static Command deploy(String deploymentId, ArtifactRef artifact, HealthPolicy health) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.DEPLOY, deploymentId, artifact, health, null, null, null, null, null, null);
    }

    /**
     * A deploy that also ships a lighter variant of the same model ({@code fallback}, its own signed manifest on
     * the class's artifact topics), which the agent keeps with the main model for graceful degradation.
     */
    public static Command deploy(String deploymentId, ArtifactRef artifact, HealthPolicy health, ArtifactRef fallback) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.DEPLOY, deploymentId, artifact, health, null, null, null, null, null, null, null, null, null,
                fallback);
    }

    public static Command rollback(String deploymentId, String reason) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.ROLLBACK, deploymentId, null, null, reason, null, null, null, null, null);
    }

    /**
     * A rollback under a given command id: a resend of the same rollback keeps its id, so an agent that
     * already ran it does not swap its slots a second time.
     */
    public static Command rollback(String commandId, String deploymentId, String reason) {
        return new Command(Protocol.VERSION, commandId, System.currentTimeMillis(),
                Type.ROLLBACK, deploymentId, null, null, reason, null, null, null, null, null);
    }

    public static Command config(Map<String, String> config) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.CONFIG, null, null, null, null, Map.copyOf(config), null, null, null, null);
    }

    /** This command addressed to one device with an expiry, unsigned (the signer adds key id and signature). */
    public Command addressedTo(String targetDeviceId, long expiresAtMillis) {
        return new Command(v, id, ts, type, deploymentId, artifact, health, reason, config, targetDeviceId,
                expiresAtMillis, null, null, benchmarkSeconds, benchmarkRuns, batch, fallback, benchmarkIntervalMs);
    }

    public Command withSignature(String signingKeyId, String sig) {
        return new Command(v, id, ts, type, deploymentId, artifact, health, reason, config, deviceId, expiresAt,
                signingKeyId, sig, benchmarkSeconds, benchmarkRuns, batch, fallback, benchmarkIntervalMs);
    }

    public boolean signed() {
        return signature != null && keyId != null;
    }

    /**
     * The exact bytes the signature covers: every field but the signature, in a fixed order, each value
     * length-prefixed so that no free text (a reason, a config value) can imitate another field. Spelled
     * out rather than derived from JSON so that no serializer setting can change it.
     */
    public byte[] signedBytes() {
        StringBuilder sb = new StringBuilder("edgefleet-command-v").append(v).append('\n');
        field(sb, id);
        field(sb, Long.toString(ts));
        field(sb, type == null ? null : type.name());
        field(sb, deviceId);
        field(sb, expiresAt == null ? null : expiresAt.toString());
        field(sb, deploymentId);
        if (artifact == null) {
            field(sb, null);
        } else {
            artifactFields(sb, artifact);
        }
        if (health == null) {
            field(sb, null);
        } else {
            field(sb, Double.toString(health.maxP95LatencyMs()));
            field(sb, Double.toString(health.maxErrorRate()));
            field(sb, Integer.toString(health.windows()));
            field(sb, Integer.toString(health.minInferences()));
        }
        field(sb, reason);
        if (config == null) {
            field(sb, null);
        } else {
            field(sb, Integer.toString(config.size()));
            for (Map.Entry<String, String> e : new TreeMap<>(config).entrySet()) {
                field(sb, e.getKey());
                field(sb, e.getValue());
            }
        }
        field(sb, keyId);
        // Added with BENCHMARK: appended only when used, so every older command signs exactly as before.
        if (type == Type.BENCHMARK || benchmarkSeconds != null || benchmarkRuns != null || batch != null) {
            sb.append("benchmark\n");
            field(sb, benchmarkSeconds == null ? null : benchmarkSeconds.toString());
            field(sb, benchmarkRuns == null ? null : benchmarkRuns.toString());
            field(sb, batch == null ? null : batch.toString());
        }
        // Added with graceful degradation: appended only when a deploy ships a fallback, so every other command
        // signs exactly as before and a changed or removed fallback breaks the signature.
        if (fallback != null) {
            sb.append("fallback\n");
            artifactFields(sb, fallback);
        }
        // Added with paced benchmarks: appended only when set, so every other command signs exactly as before and a
        // removed or changed interval breaks the signature.
        if (benchmarkIntervalMs != null) {
            sb.append("interval\n");
            field(sb, benchmarkIntervalMs.toString());
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void artifactFields(StringBuilder sb, ArtifactRef a) {
        field(sb, a.classId());
        field(sb, a.model() == null ? null : a.model().model());
        field(sb, a.model() == null ? null : Long.toString(a.model().version()));
        field(sb, a.model() == null ? null : a.model().sha256());
        field(sb, Long.toString(a.size()));
        field(sb, a.manifestTopic());
    }

    private static void field(StringBuilder sb, String value) {
        if (value == null) {
            sb.append("-\n");
        } else {
            sb.append(value.length()).append(':').append(value).append('\n');
        }
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(type, "type");
        switch (type) {
            case DEPLOY -> {
                Message.requirePresent(deploymentId, "deploymentId");
                Message.requirePresent(artifact, "artifact");
                artifact.validate();
                if (health != null) {
                    health.validate();
                }
            }
            case ROLLBACK -> { }
            case CONFIG -> Message.requirePresent(config, "config");
            case BENCHMARK -> {
                Message.requirePresent(deploymentId, "deploymentId");
                Message.requirePresent(artifact, "artifact");
                artifact.validate();
                Message.require(benchmarkSeconds != null || benchmarkRuns != null, ReasonCode.MISSING_FIELD,
                        "a benchmark needs 'benchmarkSeconds' or 'benchmarkRuns'");
            }
        }
        if (fallback != null) {
            Message.require(type == Type.DEPLOY, ReasonCode.INVALID_FIELD, "field 'fallback' belongs to a DEPLOY only");
            fallback.validate("fallback");
            Message.require(fallback.classId().equals(artifact.classId())
                            && fallback.model().model().equals(artifact.model().model()), ReasonCode.INVALID_FIELD,
                    "field 'fallback' must be a variant of the same model and class as 'artifact'");
            Message.require(!fallback.model().sha256().equals(artifact.model().sha256()), ReasonCode.INVALID_FIELD,
                    "field 'fallback' must be another artifact than 'artifact'");
        }
        if (benchmarkSeconds != null) {
            Message.require(benchmarkSeconds >= 1 && benchmarkSeconds <= MAX_BENCHMARK_SECONDS, ReasonCode.INVALID_FIELD,
                    "field 'benchmarkSeconds' must be in [1, " + MAX_BENCHMARK_SECONDS + "]");
        }
        if (benchmarkRuns != null) {
            Message.require(benchmarkRuns >= 1 && benchmarkRuns <= MAX_BENCHMARK_RUNS, ReasonCode.INVALID_FIELD,
                    "field 'benchmarkRuns' must be in [1, " + MAX_BENCHMARK_RUNS + "]");
        }
        if (batch != null) {
            Message.require(batch >= 1 && batch <= MAX_BENCHMARK_BATCH, ReasonCode.INVALID_FIELD,
                    "field 'batch' must be in [1, " + MAX_BENCHMARK_BATCH + "]");
        }
        if (benchmarkIntervalMs != null) {
            Message.require(type == Type.BENCHMARK, ReasonCode.INVALID_FIELD,
                    "field 'benchmarkIntervalMs' belongs to a BENCHMARK only");
            Message.require(benchmarkIntervalMs >= 0 && benchmarkIntervalMs <= MAX_BENCHMARK_INTERVAL_MS,
                    ReasonCode.INVALID_FIELD, "field 'benchmarkIntervalMs' must be in [0, " + MAX_BENCHMARK_INTERVAL_MS
                            + "]");
        }
        if (deviceId != null) {
            Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        }
        if (signature != null) {
            Message.require(signature.length() <= 256, ReasonCode.INVALID_FIELD, "field 'signature' is longer than 256 chars");
        }
    }
}
