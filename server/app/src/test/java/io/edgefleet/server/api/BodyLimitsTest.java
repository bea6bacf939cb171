package io.edgefleet.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The body rules as a table: method, path, headers -> the answer before anything reads the body. */
class BodyLimitsTest {
    private final BodyLimits limits = new BodyLimits(new BodyLimits.Limits(1000, 5000));

    @ParameterizedTest(name = "{0} {1} type={2} length={3} te={4} -> {5}")
    @CsvSource(nullValues = "-", value = {
            // method, path, Content-Type, Content-Length, Transfer-Encoding, expected (OK or error code)
            "GET,    /api/v1/devices,                  -,                        -,       -,       OK",
            "POST,   /q/health,                        -,                        50,      -,       OK",
            "POST,   /api/v1/devices,                  application/json,         999,     -,       OK",
            "POST,   /api/v1/devices,                  application/json,         1000,    -,       OK",
            "POST,   /api/v1/devices,                  application/json,         1001,    -,       PAYLOAD_TOO_LARGE",
            "PUT,    /api/v1/device-classes/pi4,       application/json,         817000000, -,     PAYLOAD_TOO_LARGE",
            "POST,   /api/v1/devices,                  -,                        10,      -,       UNSUPPORTED_MEDIA_TYPE",
            "POST,   /api/v1/devices,                  ' ',                      10,      -,       UNSUPPORTED_MEDIA_TYPE",
            "POST,   /api/v1/devices,                  application/json,         -,       chunked, LENGTH_REQUIRED",
            "POST,   /api/v1/devices,                  application/json,         abc,     -,       VALIDATION_FAILED",
            "POST,   /api/v1/devices,                  application/json,         -1,      -,       VALIDATION_FAILED",
            "POST,   /api/v1/devices/d1/credentials,   -,                        -,       -,       OK",
            "POST,   /api/v1/devices/d1/credentials,   -,                        0,       -,       OK",
            "POST,   /api/v1/devices,                  application/json,         -,       -,       OK",
            "POST,   /api/v1/deployments,              application/json,         4000,    -,       OK",
            "POST,   /api/v1/deployments,              application/json,         5001,    -,       PAYLOAD_TOO_LARGE",
            "POST,   /api/v1/deployments/x/rollback,   application/json,         4000,    -,       PAYLOAD_TOO_LARGE",
            // uploads stream; their own limit (BlobStore) answers 413 from the declared length before reading
            "POST,   /api/v1/models/kws/versions,      application/octet-stream, 900000000, -,     OK",
            "POST,   /api/v1/models/kws/versions,      application/octet-stream, -,       chunked, OK",
            "POST,   /api/v1/models/kws/versions,      -,                        -,       chunked, UNSUPPORTED_MEDIA_TYPE",
            "POST,   /api/v1/datasets/calib,           application/octet-stream, -,       chunked, OK",
            "POST,   /api/v1/datasets/calib,           -,                        200001,  -,       UNSUPPORTED_MEDIA_TYPE",
            "PUT,    /api/v1/models/kws/versions,      application/json,         2000,    -,       PAYLOAD_TOO_LARGE",
    })
    void table(String method, String path, String type, String length, String te, String expected) {
        Optional<BodyLimits.Refusal> r = limits.check(method, path, type, length, te);
        assertEquals(expected, r.map(x -> x.code().name()).orElse("OK"), r.map(BodyLimits.Refusal::message).orElse(""));
    }

    /** HTTP/1.1 without a length or chunked encoding has no body; HTTP/2 may stream one of unknown length. */
    @org.junit.jupiter.api.Test
    void aTypedRequestWithoutALengthIsEmptyOverHttp1AndUnboundedOverHttp2() {
        assertEquals(Optional.empty(), limits.check("POST", "/api/v1/devices", "application/json", null, null, false));
        assertEquals(ErrorCode.LENGTH_REQUIRED,
                limits.check("POST", "/api/v1/devices", "application/json", null, null, true).orElseThrow().code());
        assertEquals(Optional.empty(), limits.check("POST", "/api/v1/devices/d/credentials", null, null, null, true));
    }
}
