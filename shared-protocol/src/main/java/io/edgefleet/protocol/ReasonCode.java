package io.edgefleet.protocol;

/**
 * The one vocabulary of failure reasons on the MQTT boundary: carried by device events, and used
 * by the codec to say why a payload was refused.
 */
public enum ReasonCode {
    NONE,
    MALFORMED_PAYLOAD,
    OVERSIZED_PAYLOAD,
    UNSUPPORTED_VERSION,
    MISSING_FIELD,
    INVALID_FIELD,
    HASH_MISMATCH,
    SIGNATURE_INVALID,
    SIZE_MISMATCH,
    DOWNLOAD_TIMEOUT,
    STORAGE_FULL,
    LOAD_FAILED,
    SMOKE_TEST_FAILED,
    LATENCY_SLO_BREACH,
    ERROR_RATE_BREACH,
    DRIFT_BREACH,
    DOWNGRADE_REFUSED,
    OPERATOR_REQUEST,
    NO_FALLBACK,
    /** A command without signature, key id, target device or expiry (promise 3: only signed commands run). */
    COMMAND_UNSIGNED,
    /** A signed command whose expiry has passed on the device's clock. */
    COMMAND_EXPIRED,
    /** A command id the agent has already handled (a redelivery or a replay); it runs at most once. */
    COMMAND_REPLAYED,
    /** A command signed for another device. */
    COMMAND_FOREIGN,
    /** The agent's data directory refused a write: permission denied. */
    STORAGE_DENIED,
    /** The agent's data directory is on a read-only file system. */
    STORAGE_READ_ONLY,
    /** A BENCHMARK command arrived while the agent was already running one, or downloading a deploy. */
    BENCHMARK_BUSY,
    /** A BENCHMARK did not get its artifact, or could not finish, within its time. */
    BENCHMARK_OUT_OF_TIME,
    /** MODE_CHANGED: the CPU is thermally throttled (a passive trip point reached, or cpufreq capped). */
    THERMAL_THROTTLING,
    /** MODE_CHANGED: back to the full model after the configured number of calm windows. */
    PRESSURE_ENDED,
    /** MODE_CHANGED: an update of the model is on trial, and its health watch judges the full model. */
    HEALTH_WATCH,
    UNKNOWN
}
