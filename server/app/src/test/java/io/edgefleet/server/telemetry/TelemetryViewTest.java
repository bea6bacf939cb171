package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.FeatureDrift;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The energy and drift fields of a window survive storage: the stored row shows what the device sent. */
class TelemetryViewTest {

    @Test
    void energyAndDriftFieldsAreStoredAndShown() {
        DriftReport d = new DriftReport(0.25, 0.18, -0.04, "validation", 200,
                List.of(new FeatureDrift("input.mean", 0.25, 0.18), new FeatureDrift("output.class", 0.01, 0.03)));
        TelemetryWindow w = new TelemetryWindow(1, "m-1", 5, "dev-1", 3, 1000, 11000, new ModelRef("m", 2, "c".repeat(64)),
                200, 0, new LatencyStats(1, 2, 3, 4, 1.5), 0.75, 0.25, 0, false, null, "hwmon", 0.15, d);
        TelemetryWindowEntity e = TelemetryView.toEntity(w, 12000);
        assertEquals("hwmon", e.energySource);
        assertEquals(0.15, e.energyJoules);
        assertEquals(0.18, e.driftJs);
        assertEquals(-0.04, e.driftConfidenceShift);
        assertEquals("validation", e.driftReference);
        assertEquals(TelemetryView.of(w, 12000), TelemetryView.of(e));
    }

    @Test
    void anOldWindowStoresNulls() {
        TelemetryWindow w = new TelemetryWindow(1, "m-2", 5, "dev-1", 3, 1000, 11000, null, 0, 0, null, null, null, 0, false);
        TelemetryWindowEntity e = TelemetryView.toEntity(w, 12000);
        assertNull(e.energySource);
        assertNull(e.driftDetail);
        assertNull(TelemetryView.of(e).driftDetail());
    }
}
