package io.edgefleet.server.alert;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
