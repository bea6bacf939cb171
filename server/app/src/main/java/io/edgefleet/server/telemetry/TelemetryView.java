package io.edgefleet.server.telemetry;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.drift.DriftReport;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A telemetry window as the REST API shows it (also stored as a device's {@code lastTelemetry}). */
@Schema(description = "One telemetry window a device sent, as stored.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TelemetryView(
        @Schema(description = "Message id (unique per device).")
        String id,
        @Schema(description = "Sequence number per device.")
        long seq,
        @Schema(description = "Window start, epoch milliseconds.")
        long windowStart,
        @Schema(description = "Window end, epoch milliseconds.")
        long windowEnd,
        @Schema(description = "The model version that served the window; null when none was loaded.")
        ModelRef model,
        @Schema(description = "Inferences in the window (errors included).")
        long inferences,
        @Schema(description = "Failed inferences.")
        long errors,
        @Schema(description = "Latency percentiles; null without inferences.")
        LatencyStats latency,
        @Schema(description = "Energy per inference, millijoules; null when not known.")
        Double energyMj,
        @Schema(description = "Drift score (PSI) of the window; null without a reference profile.")
        Double drift,
        @Schema(description = "Windows the agent had to drop before this one (buffer full).")
        long dropped,
        @Schema(description = "True when it was buffered offline and sent late.")
        boolean replayed,
        @Schema(description = "When the server received it, epoch milliseconds.")
        long receivedAt,
        @Schema(description = "How energyMj was obtained: measured (e.g. RAPL) or estimated from the class "
                + "power figures.")
        String energySource,
        @Schema(description = "Total energy of the window, joules; null when not known.")
        Double energyJoules,
        @Schema(description = "Drift per feature against the reference profile; null without one.")
        DriftReport driftDetail,
        @Schema(description = "Graceful degradation: seconds the model ran full, light and in cascade, the cascade "
                + "escalation rate and the mode at the window's end; null when the model has no light fallback.")
        io.edgefleet.protocol.ModeTimes modes) {

    private static final JsonCodec CODEC = new JsonCodec();

    public static TelemetryView of(TelemetryWindow w, long receivedAt) {
        return new TelemetryView(w.id(), w.seq(), w.windowStart(), w.windowEnd(), w.model(), w.inferences(),
                w.errors(), w.latency(), w.energyMj(), w.drift(), w.dropped(), w.replayed(), receivedAt, w.energySource(),
                w.energyJoules(), w.driftDetail(), w.modes());
    }

    public static TelemetryView of(TelemetryWindowEntity e) {
        ModelRef model = e.modelName == null ? null : new ModelRef(e.modelName, e.modelVersion, e.modelSha256);
        LatencyStats latency = e.latencyP50 == null ? null
                : new LatencyStats(e.latencyP50, e.latencyP95, e.latencyP99, e.latencyMax, e.latencyMean);
        return new TelemetryView(e.messageId, e.seq, e.windowStart, e.windowEnd, model, e.inferences, e.errors,
                latency, e.energyMj, e.drift, e.dropped, e.replayed, e.receivedAt, e.energySource, e.energyJoules,
                driftDetail(e.driftDetail), modes(e));
    }

    private static io.edgefleet.protocol.ModeTimes modes(TelemetryWindowEntity e) {
        if (e.degradationMode == null && e.modeFullSeconds == null) {
            return null;
        }
        return new io.edgefleet.protocol.ModeTimes(nz(e.modeFullSeconds), nz(e.modeLightSeconds), nz(e.modeCascadeSeconds),
                e.cascadeInferences == null ? 0 : e.cascadeInferences,
                e.cascadeEscalations == null ? 0 : e.cascadeEscalations, e.escalationRate, e.degradationMode);
    }

    private static double nz(Double d) {
        return d == null ? 0 : d;
    }

    private static DriftReport driftDetail(String json) {
        if (json == null) {
            return null;
        }
        try {
            return CODEC.mapper().readValue(json, DriftReport.class);
        } catch (java.io.IOException ex) {
            return null; // stored by an older build in another shape: the scalar columns still hold the numbers
        }
    }

    public static TelemetryWindowEntity toEntity(TelemetryWindow w, long receivedAt) {
        TelemetryWindowEntity e = new TelemetryWindowEntity();
        e.deviceId = w.deviceId();
        e.messageId = w.id();
        e.seq = w.seq();
        e.windowStart = w.windowStart();
        e.windowEnd = w.windowEnd();
        if (w.model() != null) {
            e.modelName = w.model().model();
            e.modelVersion = w.model().version();
            e.modelSha256 = w.model().sha256();
        }
        e.inferences = w.inferences();
        e.errors = w.errors();
        if (w.latency() != null) {
            e.latencyP50 = w.latency().p50();
            e.latencyP95 = w.latency().p95();
            e.latencyP99 = w.latency().p99();
            e.latencyMax = w.latency().max();
            e.latencyMean = w.latency().mean();
        }
        e.energyMj = w.energyMj();
        e.drift = w.drift();
        e.dropped = w.dropped();
        e.replayed = w.replayed();
        e.receivedAt = receivedAt;
        e.energySource = w.energySource();
        e.energyJoules = w.energyJoules();
        io.edgefleet.protocol.ModeTimes m = w.modes();
        if (m != null) {
            e.modeFullSeconds = m.fullSeconds();
            e.modeLightSeconds = m.lightSeconds();
            e.modeCascadeSeconds = m.cascadeSeconds();
            e.cascadeInferences = m.cascadeInferences();
            e.cascadeEscalations = m.escalations();
            e.escalationRate = m.escalationRate();
            e.degradationMode = m.mode();
        }
        DriftReport d = w.driftDetail();
        if (d != null) {
            e.driftJs = d.js();
            e.driftConfidenceShift = d.confidenceShift();
            e.driftReference = d.reference();
            try {
                e.driftDetail = CODEC.mapper().writeValueAsString(d);
            } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                throw new IllegalStateException("cannot encode a drift report", ex);
            }
        }
        return e;
    }
}
