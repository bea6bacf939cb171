package io.edgefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExitCodeTest {

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
            "400, VALIDATION_FAILED, 2",
            "400, MALFORMED_JSON, 2",
            "413, PAYLOAD_TOO_LARGE, 2",
            "400, UNKNOWN_DEVICE_CLASS, 3",
            "400, UNKNOWN_MODEL, 3",
            "404, NOT_FOUND, 3",
            "401, UNAUTHORIZED, 4",
            "403, FORBIDDEN, 4",
            "409, CONFLICT, 5",
            "409, ALREADY_EXISTS, 5",
            "500, INTERNAL_ERROR, 1",
            "503, BROKER_UNAVAILABLE, 1",
            "302, HTTP_302, 1"})
    void httpAnswersMapToTheDocumentedCodes(int status, String code, int exit) {
        assertEquals(exit, ExitCode.forHttp(status, code));
    }
}
