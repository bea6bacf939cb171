package io.edgefleet.server.alert;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.edgefleet.server.telemetry.TelemetryView;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class AlertResourceTest {
    private static boolean ready;

    @Inject
    AlertService alerts;

    @Inject
    Session session;

    @Inject
    AlertRuleService ruleService;

    @BeforeEach
    void fleet() {
        if (ready) {
            return;
        }
        ready = true;
        Api.createClass("al-gw");
        Api.registerDevice("al-1", "al-gw");
        Api.registerDevice("al-2", "al-gw");
    }

    @Test
    void builtInRulesFollowTheClassSlos() {
        api().get("/api/v1/alert-rules").then().statusCode(200)
                .body("findAll { it.builtin }.id", hasItems("slo-p95-latency", "error-rate", "slo-energy", "drift",
                        "class-offline", "rollback-rate"))
                .body("find { it.id == 'slo-p95-latency' }.thresholdSource", equalTo("class SLO"))
                .body("find { it.id == 'slo-p95-latency' }.runbookUrl", equalTo("docs/runbooks/EdgefleetLatencySloBreach.md"))
                .body("find { it.id == 'error-rate' }.threshold", equalTo(0.05f));
        api().delete("/api/v1/alert-rules/error-rate").then().statusCode(409).body("error", equalTo("CONFLICT"));
        Map<String, Object> off = new HashMap<>(Map.of("metric", "ERROR_RATE", "threshold", 0.05, "enabled", false));
        json().body(off).put("/api/v1/alert-rules/drift").then().statusCode(200).body("builtin", equalTo(true))
                .body("enabled", equalTo(false)).body("metric", equalTo("ERROR_RATE"));
        json().body(Map.of("metric", "DRIFT_SCORE")).put("/api/v1/alert-rules/drift").then().statusCode(200)
                .body("enabled", equalTo(true));
    }

    @Test
    void badRulesAreRefusedWithTheFieldAndWhy() {
        json().body(Map.of("id", "x1", "metric", "LATENCY_P99")).post("/api/v1/alert-rules").then().statusCode(400)
                .body("error", equalTo("UNKNOWN_METRIC"))
                .body("fields[0].field", equalTo("metric"))
                .body("fields[0].reason", startsWith("unknown metric 'LATENCY_P99'; one of P95_LATENCY_MS"));
        json().body(Map.of("id", "x2", "metric", "ERROR_RATE", "threshold", 1.5)).post("/api/v1/alert-rules").then()
                .statusCode(400).body("error", equalTo("VALIDATION_FAILED")).body("fields[0].field", equalTo("threshold"));
        json().body(Map.of("id", "x3", "metric", "ERROR_RATE", "threshold", 0.1, "classId", "no-class"))
                .post("/api/v1/alert-rules").then().statusCode(400).body("error", equalTo("UNKNOWN_DEVICE_CLASS"))
                .body("fields[0].field", equalTo("classId"));
        json().body(Map.of("id", "x4", "metric", "ERROR_RATE", "lookbackSeconds", 30 * 24 * 3600))
                .post("/api/v1/alert-rules").then().statusCode(400).body("fields[0].field", equalTo("lookbackSeconds"));
        json().body(Map.of("id", "x5", "metric", "ERROR_RATE", "bogus", 1)).post("/api/v1/alert-rules").then()
                .statusCode(400);
        // A metric no telemetry carries yet is a valid rule with no data.
        json().body(Map.of("id", "x6", "metric", "ENERGY_MJ_PER_INFERENCE", "threshold", 3.0)).post("/api/v1/alert-rules")
                .then().statusCode(201);
        json().body(Map.of("id", "x6", "metric", "ERROR_RATE")).post("/api/v1/alert-rules").then().statusCode(409);
        api().delete("/api/v1/alert-rules/x6").then().statusCode(204);
        api().get("/api/v1/alert-rules/x6").then().statusCode(404);
        api().get("/api/v1/alerts?state=LOUD").then().statusCode(400);
    }

    @Test
    void alertFiresOnceActsAndResolves() {
        json().body(Map.of("id", "al-latency", "name", "AlLatency", "metric", "P95_LATENCY_MS", "scope", "VERSION",
                        "classId", "al-gw", "lookbackSeconds", 60, "severity", "critical", "action", "RECOMPRESS"))
                .post("/api/v1/alert-rules").then().statusCode(201).body("threshold", equalTo(null))
                .body("thresholdSource", equalTo("class SLO"));
        long now = System.currentTimeMillis();
        store("al-1", 1, now - 20_000, 100, 55.0);  // above the 40 ms SLO
        store("al-2", 1, now - 15_000, 100, 20.0);

        alerts.evaluate(now);
        JsonPath firing = api().get("/api/v1/alerts?state=FIRING&rule=al-latency").then().statusCode(200).extract().jsonPath();
        assertEquals(1, firing.getList("$").size(), firing.prettify());
        assertEquals(Map.of("alertname", "AlLatency", "severity", "critical", "rule", "al-latency", "class", "al-gw",
                "model", "m", "version", "1"), firing.getMap("[0].labels"));
        assertEquals("docs/runbooks/EdgefleetLatencySloBreach.md", firing.getString("[0].annotations.runbook_url"));
        assertEquals(55.0, firing.getDouble("[0].value"));
        assertEquals(40.0, firing.getDouble("[0].threshold"));
        assertEquals(true, firing.getString("[0].actionResult").startsWith("re-compression requested"));
        api().get("/api/v1/recompression-requests?status=OPEN").then().statusCode(200)
                .body("findAll { it.rule == 'al-latency' }.size()", equalTo(1))
                .body("find { it.rule == 'al-latency' }.modelVersion", equalTo(1))
                .body("find { it.rule == 'al-latency' }.classId", equalTo("al-gw"));

        alerts.evaluate(now + 1000);  // still breached: no second alert, no second action
        assertEquals(1, api().get("/api/v1/alerts?rule=al-latency").jsonPath().getList("$").size());
        api().get("/api/v1/recompression-requests").then().body("findAll { it.rule == 'al-latency' }.size()", equalTo(1));

        alerts.evaluate(now + 120_000);  // the windows left the lookback: no data, resolved
        api().get("/api/v1/alerts?rule=al-latency").then().statusCode(200)
                .body("size()", equalTo(1))
                .body("[0].state", equalTo("RESOLVED"))
                .body("[0].resolvedAt", equalTo(now + 120_000));
        assertEquals(List.of(), api().get("/api/v1/alerts?state=FIRING&rule=al-latency").jsonPath().getList("$"));

        store("al-1", 2, now + 170_000, 100, 60.0);  // breached again: a new alert, the old one stays history
        alerts.evaluate(now + 180_000);
        api().get("/api/v1/alerts?rule=al-latency").then().body("state", equalTo(List.of("FIRING", "RESOLVED")));
        api().delete("/api/v1/alert-rules/al-latency").then().statusCode(204);
        alerts.evaluate(now + 181_000);  // a deleted rule's alerts resolve
        api().get("/api/v1/alerts?rule=al-latency").then().body("state", equalTo(List.of("RESOLVED", "RESOLVED")));
    }

    @Test
    void aFiringAlertIsNotifiedAgainEveryRepeatIntervalWithoutRunningItsActionAgain() {
        Api.createClass("al-rp"); // its own class: its telemetry stays out of the other tests' groups
        Api.registerDevice("al-rp-1", "al-rp");
        json().body(Map.of("id", "al-repeat", "name", "AlRepeat", "metric", "P95_LATENCY_MS", "classId", "al-rp",
                        "threshold", 500, "lookbackSeconds", 60, "action", "RECOMPRESS"))
                .post("/api/v1/alert-rules").then().statusCode(201);
        long now = System.currentTimeMillis();
        long repeat = 4 * 3600_000L; // edgefleet.alerts.repeat-interval's default
        store("al-rp-1", 11, now - 5_000, 100, 900.0);
        assertTrue(alerts.evaluate(now).fired() >= 1, "it fires");
        assertEquals(now, notifiedAt("al-repeat"));
        store("al-rp-1", 12, now + repeat - 2000, 100, 900.0);
        alerts.evaluate(now + repeat - 1000); // still breached, not yet a repeat interval since it was sent
        assertEquals(now, notifiedAt("al-repeat"));
        AlertService.PassResult r = alerts.evaluate(now + repeat);
        assertEquals(true, r.repeated() >= 1, r.toString());
        assertEquals(now + repeat, notifiedAt("al-repeat"), "re-sent a repeat interval after the first notification");
        api().get("/api/v1/alerts?rule=al-repeat").then().body("size()", equalTo(1)).body("[0].state", equalTo("FIRING"))
                .body("[0].firedAt", equalTo(now));
        api().get("/api/v1/recompression-requests").then().body("findAll { it.rule == 'al-repeat' }.size()", equalTo(1));
        api().delete("/api/v1/alert-rules/al-repeat").then().statusCode(204);
        alerts.evaluate(now + repeat + 1000);
        api().get("/api/v1/alerts?rule=al-repeat").then().body("[0].state", equalTo("RESOLVED"));
    }

    @Test
    void rulesFromTheFileReplaceTheirIdsAreReadOnlyOverRestAndGoWhenTheFileDropsThem() throws Exception {
        json().body(Map.of("id", "al-file-1", "metric", "ERROR_RATE", "threshold", 0.3)).post("/api/v1/alert-rules").then()
                .statusCode(201).body("source", equalTo("api"));
        java.nio.file.Path file = java.nio.file.Files.createTempFile("rules", ".yaml");
        java.nio.file.Files.writeString(file, """
                rules:
                  - id: al-file-1
                    metric: ERROR_RATE
                    threshold: 0.1
                  - id: drift
                    metric: DRIFT_SCORE
                    threshold: 0.4
                  - id: al-file-2
                    metric: P95_LATENCY_MS
                    classId: class-made-later
                """);
        try {
            ruleService.loadRulesFile(file.toString());
            // the file wins over the REST rule and the built-in one of the same id; a class not there yet is no refusal
            api().get("/api/v1/alert-rules/al-file-1").then().body("threshold", equalTo(0.1f)).body("source", equalTo("file"));
            api().get("/api/v1/alert-rules/drift").then().body("threshold", equalTo(0.4f)).body("source", equalTo("file"))
                    .body("builtin", equalTo(true));
            api().get("/api/v1/alert-rules").then().body("find { it.id == 'al-file-2' }.source", equalTo("file"));
            json().body(Map.of("metric", "ERROR_RATE", "threshold", 0.2)).put("/api/v1/alert-rules/al-file-1").then()
                    .statusCode(409).body("error", equalTo("CONFLICT"))
                    .body("message", startsWith("alert rule 'al-file-1' comes from edgefleet.alerts.rules-file"));
            api().delete("/api/v1/alert-rules/al-file-2").then().statusCode(409);

            java.nio.file.Files.writeString(file, "rules:\n  - id: al-file-1\n    metric: ERROR_RATE\n    threshold: 0.2\n");
            ruleService.loadRulesFile(file.toString());
            api().get("/api/v1/alert-rules/al-file-1").then().body("threshold", equalTo(0.2f));
            api().get("/api/v1/alert-rules/al-file-2").then().statusCode(404);
            api().get("/api/v1/alert-rules/drift").then().body("source", equalTo("builtin"))
                    .body("metric", equalTo("DRIFT_SCORE")).body("threshold", equalTo(0.2f)); // back to its built-in form
        } finally {
            ruleService.loadRulesFile(null);
            java.nio.file.Files.deleteIfExists(file);
        }
        api().get("/api/v1/alert-rules/al-file-1").then().statusCode(404);
    }

    private Long notifiedAt(String rule) {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select a.notifiedAt from AlertEntity a where a.ruleId = :r order by a.id desc", Long.class)
                .setParameter("r", rule).setMaxResults(1).getSingleResult());
    }

    @Test
    void forDurationKeepsAnAlertPendingFirst() {
        json().body(Map.of("id", "al-errors", "metric", "ERROR_RATE", "threshold", 0.2, "classId", "al-gw",
                "scope", "CLASS", "forSeconds", 30, "lookbackSeconds", 600)).post("/api/v1/alert-rules").then().statusCode(201);
        long now = System.currentTimeMillis() + 3_600_000;  // clear of the other test's windows
        storeErrors("al-2", 10, now - 1000, 100, 50);
        alerts.evaluate(now);
        api().get("/api/v1/alerts?rule=al-errors").then().body("state", equalTo(List.of("PENDING")))
                .body("[0].labels", equalTo(Map.of("alertname", "EdgefleetErrorRateHigh", "severity", "warning",
                        "rule", "al-errors", "class", "al-gw")));
        alerts.evaluate(now + 29_000);
        api().get("/api/v1/alerts?rule=al-errors").then().body("state", equalTo(List.of("PENDING")));
        alerts.evaluate(now + 30_000);
        api().get("/api/v1/alerts?rule=al-errors").then().body("state", equalTo(List.of("FIRING")))
                .body("[0].activeAt", equalTo(now));
        api().delete("/api/v1/alert-rules/al-errors").then().statusCode(204);
        alerts.evaluate(now + 31_000);
    }

    private void store(String device, long seq, long end, long inferences, double p95) {
        persist(new TelemetryWindow(1, device + "-" + seq + "-" + end, end, device, seq, end - 10_000, end,
                new ModelRef("m", 1, "0".repeat(64)), inferences, 0,
                new LatencyStats(p95 / 2, p95, p95, p95, p95 / 2), null, null, 0, false));
    }

    private void storeErrors(String device, long seq, long end, long inferences, long errors) {
        persist(new TelemetryWindow(1, device + "-" + seq + "-" + end, end, device, seq, end - 10_000, end,
                new ModelRef("m", 1, "0".repeat(64)), inferences, errors,
                new LatencyStats(1, 1, 1, 1, 1), null, null, 0, false));
    }

    private void persist(TelemetryWindow w) {
        QuarkusTransaction.requiringNew().run(() -> session.persist(TelemetryView.toEntity(w, w.windowEnd())));
    }
}
