package io.edgefleet.server.telemetry;

import static io.edgefleet.server.support.Api.api;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

/** Rollups and retention on H2 through the server (RollupJobPostgresTest runs the same job on PostgreSQL). */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class TelemetryRollupsTest {
    static final long H = RollupJob.HOUR;

    @Inject
    TelemetryRollups rollups;

    @Inject
    Session session;

    @Test
    void hourlyRollupsLateWindowsAndRetention() {
        Api.createClass("ru-gw");
        Api.registerDevice("ru-1", "ru-gw");
        Api.registerDevice("ru-2", "ru-gw");
        long base = System.currentTimeMillis() / H * H;  // the current hour
        long now = base + 10 * 60_000;
        store("ru-1", 1, base - 2 * H + 600_000, now - 1000, 100, 10.0, 2.0);
        store("ru-1", 2, base - 2 * H + 1_200_000, now - 1000, 300, 30.0, 4.0);
        store("ru-2", 1, base - 2 * H + 1_800_000, now - 1000, 50, 5.0, null);
        store("ru-1", 3, base - H + 300_000, now - 1000, 10, 1.0, null);
        store("ru-1", 4, base + 300_000, now - 1000, 10, 1.0, null);       // the current hour: not rolled up yet
        store("ru-1", 0, base - 8 * 24 * H, now - 1000, 10, 1.0, null);    // past the 7-day raw retention

        rollups.run(now);
        JsonPath dev = api().get("/api/v1/telemetry/hourly?deviceId=ru-1").then().statusCode(200).extract().jsonPath();
        assertEquals(2, dev.getList("$").size(), dev.prettify());
        assertEquals(base - 2 * H, dev.getLong("[0].hourStart"));
        assertEquals(2, dev.getInt("[0].windows"));
        assertEquals(400, dev.getInt("[0].inferences"));
        assertEquals(30.0, dev.getDouble("[0].p95LatencyMsMax"));
        assertEquals((2.0 * 100 + 4.0 * 300) / 400, dev.getDouble("[0].energyMjPerInference"), 1e-9);
        assertEquals("m", dev.getString("[0].model"));
        assertEquals(1, dev.getInt("[0].version"));
        assertEquals(base - H, dev.getLong("[1].hourStart"));
        JsonPath cls = api().get("/api/v1/telemetry/hourly?classId=ru-gw").then().statusCode(200).extract().jsonPath();
        assertEquals(2, cls.getInt("[0].devices"));
        assertEquals(3, cls.getInt("[0].windows"));
        assertEquals(450, cls.getInt("[0].inferences"));
        assertEquals(0L, count("select count(t) from TelemetryWindowEntity t where t.deviceId = 'ru-1' and t.seq = 0"),
                "raw windows past retention are deleted");
        assertEquals(4L, count("select count(t) from TelemetryWindowEntity t where t.deviceId = 'ru-1'"));

        // A window replayed late into an hour already rolled up re-computes that hour.
        store("ru-1", 5, base - 2 * H + 2_400_000, now + 60_000, 100, 50.0, null);
        rollups.run(now + 120_000);
        JsonPath again = api().get("/api/v1/telemetry/hourly?deviceId=ru-1&to=" + (base - H)).then().statusCode(200)
                .extract().jsonPath();
        assertEquals(1, again.getList("$").size());
        assertEquals(3, again.getInt("[0].windows"));
        assertEquals(50.0, again.getDouble("[0].p95LatencyMsMax"));

        // Rollups past their own retention go too.
        QuarkusTransaction.requiringNew().run(() -> session.createNativeMutationQuery(
                "INSERT INTO telemetry_hourly_class (class_id, hour_start, model_name, model_version, windows, devices,"
                        + " inferences, errors, energy_mj_total, energy_inferences) VALUES ('ru-gw', " + (base - 500 * 24 * H)
                        + ", 'm', 1, 1, 1, 1, 0, 0, 0)").executeUpdate());
        assertEquals(1, rollups.run(now + 180_000).rollupsDeleted());
        api().get("/api/v1/telemetry/hourly").then().statusCode(400);
    }

    private long count(String hql) {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(hql, Long.class).getSingleResult());
    }

    private void store(String device, long seq, long end, long receivedAt, long inferences, double p95, Double energy) {
        TelemetryWindow w = new TelemetryWindow(1, device + "-" + seq, end, device, seq, end - 10_000, end,
                new ModelRef("m", 1, "0".repeat(64)), inferences, 0, new LatencyStats(p95, p95, p95, p95, p95), energy, null,
                0, false);
        QuarkusTransaction.requiringNew().run(() -> session.persist(TelemetryView.toEntity(w, receivedAt)));
    }

    @Test
    void theHoursNotRolledUpYetComeFromTheRawWindowsWithCurrentTrue() {
        Api.createClass("rpart-gw");
        Api.registerDevice("rpart-1", "rpart-gw");
        Api.registerDevice("rpart-2", "rpart-gw");
        long now = System.currentTimeMillis();
        long hour = now / H * H;
        rollups.run(now); // rolled_to: the current hour; earlier windows (other tests) are rolled up
        store("rpart-1", 1, Math.max(hour, now - 20_000), now - 1000, 100, 10.0, 2.0);
        store("rpart-2", 1, Math.max(hour, now - 10_000), now - 1000, 300, 30.0, null);

        // without current only rolled-up hours: nothing yet
        api().get("/api/v1/telemetry/hourly?classId=rpart-gw").then().statusCode(200).body("size()",
                org.hamcrest.Matchers.equalTo(0));
        JsonPath cls = api().get("/api/v1/telemetry/hourly?classId=rpart-gw&current=true").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(1, cls.getList("$").size(), cls.prettify());
        assertEquals(hour, cls.getLong("[0].hourStart"));
        assertEquals(true, cls.getBoolean("[0].partial"));
        assertEquals(2, cls.getInt("[0].devices"));
        assertEquals(2, cls.getInt("[0].windows"));
        assertEquals(400, cls.getInt("[0].inferences"));
        assertEquals(30.0, cls.getDouble("[0].p95LatencyMsMax"));
        assertEquals(2.0, cls.getDouble("[0].energyMjPerInference"), 1e-9, "energy of the windows that carry it");
        JsonPath dev = api().get("/api/v1/telemetry/hourly?deviceId=rpart-1&current=true").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(1, dev.getList("$").size(), dev.prettify());
        assertEquals(100, dev.getInt("[0].inferences"));
        assertEquals(true, dev.getBoolean("[0].partial"));
        // a range that ends before the current hour leaves it out
        api().get("/api/v1/telemetry/hourly?classId=rpart-gw&current=true&to=" + hour).then().statusCode(200)
                .body("size()", org.hamcrest.Matchers.equalTo(0));
    }
}
