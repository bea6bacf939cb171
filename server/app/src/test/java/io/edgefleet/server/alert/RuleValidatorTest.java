package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.api.ApiError.FieldError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad rules as a table: the request, the code, the field named and a word of the reason. */
class RuleValidatorTest {
    static final RuleValidator.Lookups DB = new RuleValidator.Lookups() {
        @Override
        public boolean classExists(String id) {
            return id.equals("gw");
        }

        @Override
        public boolean deviceExists(String id) {
            return id.equals("dev-1");
        }

        @Override
        public boolean modelExists(String name, Long version) {
            return name.equals("m") && (version == null || version <= 3);
        }
    };

    static RuleRequest req(String metric, String scope, Double threshold) {
        return new RuleRequest(null, null, metric, scope, null, null, null, null, threshold, null, null, null, null, null,
                null, null, null);
    }

    static RuleRequest with(String field, Object v) {
        return new RuleRequest(null, field.equals("name") ? (String) v : null, "ERROR_RATE", null,
                field.equals("classId") ? (String) v : null, field.equals("modelName") || field.equals("modelVersion") ? "m" : null,
                field.equals("modelVersion") ? (Long) v : null, field.equals("deviceId") ? (String) v : null, 0.1,
                field.equals("minSamples") ? (Long) v : null, field.equals("lookbackSeconds") ? (Long) v : null,
                field.equals("forSeconds") ? (Long) v : null, field.equals("severity") ? (String) v : null,
                field.equals("action") ? (String) v : null, null, null, null);
    }

    static Stream<Arguments> bad() {
        return Stream.of(
                Arguments.of(req("LATENCY", null, null), ErrorCode.UNKNOWN_METRIC, "metric", "unknown metric"),
                Arguments.of(req(null, null, null), ErrorCode.VALIDATION_FAILED, "metric", "required"),
                Arguments.of(req("ERROR_RATE", null, 1.0), ErrorCode.VALIDATION_FAILED, "threshold", "[0, 1)"),
                Arguments.of(req("ERROR_RATE", null, -0.1), ErrorCode.VALIDATION_FAILED, "threshold", "[0, 1)"),
                Arguments.of(req("OFFLINE_SHARE", null, 1.5), ErrorCode.VALIDATION_FAILED, "threshold", "[0, 1)"),
                Arguments.of(req("P95_LATENCY_MS", null, Double.NaN), ErrorCode.VALIDATION_FAILED, "threshold", "finite"),
                Arguments.of(req("P95_LATENCY_MS", null, -1.0), ErrorCode.VALIDATION_FAILED, "threshold", ">= 0"),
                Arguments.of(req("ERROR_RATE", "FLEET", 0.1), ErrorCode.VALIDATION_FAILED, "scope", "unknown scope"),
                Arguments.of(with("classId", "nope"), ErrorCode.UNKNOWN_DEVICE_CLASS, "classId", "does not exist"),
                Arguments.of(with("deviceId", "nope"), ErrorCode.UNKNOWN_DEVICE, "deviceId", "does not exist"),
                Arguments.of(with("modelVersion", 9L), ErrorCode.UNKNOWN_MODEL, "modelVersion", "m:9 does not exist"),
                Arguments.of(with("name", "bad name"), ErrorCode.VALIDATION_FAILED, "name", "alertname"),
                Arguments.of(with("minSamples", -1L), ErrorCode.VALIDATION_FAILED, "minSamples", ">= 0"),
                Arguments.of(with("lookbackSeconds", 0L), ErrorCode.VALIDATION_FAILED, "lookbackSeconds", "raw-retention"),
                Arguments.of(with("lookbackSeconds", 3601L), ErrorCode.VALIDATION_FAILED, "lookbackSeconds", "3600"),
                Arguments.of(with("forSeconds", -5L), ErrorCode.VALIDATION_FAILED, "forSeconds", "between"),
                Arguments.of(with("severity", "page"), ErrorCode.VALIDATION_FAILED, "severity", "CRITICAL, WARNING, INFO"),
                Arguments.of(with("action", "REBOOT"), ErrorCode.VALIDATION_FAILED, "action", "unknown action"),
                Arguments.of(new RuleRequest(null, null, "ERROR_RATE", "CLASS", null, null, null, null, 0.1, null, null, null,
                        null, "RECOMPRESS", null, null, null), ErrorCode.VALIDATION_FAILED, "action", "needs a model"),
                Arguments.of(new RuleRequest(null, null, "OFFLINE_SHARE", "CLASS", null, null, null, null, 0.1, null, null,
                        null, null, "ROLLBACK", null, null, null), ErrorCode.VALIDATION_FAILED, "action", "offline"));
    }

    @ParameterizedTest(name = "{2}: {3}")
    @MethodSource("bad")
    void refusesWithFieldAndReason(RuleRequest r, ErrorCode code, String field, String reason) {
        ApiException e = assertThrows(ApiException.class, () -> RuleValidator.validate("rule-1", r, false, DB, 3600));
        assertEquals(code, e.code(), e.getMessage());
        FieldError f = e.fields().get(0);
        assertEquals(field, f.field(), e.getMessage());
        assertEquals(true, f.reason().contains(reason), f.reason());
    }

    @Test
    void badIdIsRefused() {
        ApiException e = assertThrows(ApiException.class,
                () -> RuleValidator.validate("a/b", req("ERROR_RATE", null, 0.1), false, DB, 3600));
        assertEquals(ErrorCode.INVALID_ID, e.code());
    }

    @Test
    void defaultsFillTheGaps() {
        AlertRule r = RuleValidator.validate("r", req("drift_score", null, null), false, DB, 3600);
        assertEquals(AlertMetric.DRIFT_SCORE, r.metric());
        assertEquals("EdgefleetDriftHigh", r.name());
        assertEquals(AlertScope.VERSION, r.scope());
        assertEquals(Severity.WARNING, r.severity());
        assertEquals(AlertAction.NONE, r.action());
        assertEquals(RuleValidator.DEFAULT_LOOKBACK_SECONDS, r.lookbackSeconds());
        assertEquals(0, r.forSeconds());
        assertEquals(1, r.minSamples());
        assertEquals(true, r.enabled());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        ApiException e = assertThrows(ApiException.class, () -> RuleValidator.validate("r",
                new RuleRequest(null, null, "ERROR_RATE", null, "nope", null, null, null, 2.0, null, null, -1L, null, null,
                        null, null, null), false, DB, 3600));
        assertEquals(3, e.fields().size(), e.getMessage());
    }
}
