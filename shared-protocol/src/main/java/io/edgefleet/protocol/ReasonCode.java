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
    UNKNOWN
}
