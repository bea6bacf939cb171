package io.edgefleet.server.metrics;

import io.edgefleet.server.mqtt.IngestStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * The MQTT ingest counters of {@link IngestStats} (also on {@code GET /api/v1/stats}) as Prometheus
 * counters, read from its snapshot so a counter it adds or renames never breaks the scrape.
 */
@ApplicationScoped
public class IngestMetrics {
    @Inject
    MeterRegistry registry;

    @Inject
    IngestStats stats;

    void start(@Observes StartupEvent ev) {
        for (String kind : new String[] {"status", "events", "telemetry"}) {
            counter("edgefleet.mqtt.messages.received", "Device messages received, per topic kind", "received", kind,
                    "kind", kind);
            counter("edgefleet.ingest.dropped", "Device messages dropped before they were stored, per reason and topic kind",
                    "malformedDropped", kind, "reason", "malformed", "kind", kind);
            counter("edgefleet.ingest.dropped", "Device messages dropped before they were stored, per reason and topic kind",
                    "unknownDeviceDropped", kind, "reason", "unknown_device", "kind", kind);
        }
        counter("edgefleet.ingest.dropped", "Device messages dropped before they were stored, per reason and topic kind",
                "duplicatesDropped", null, "reason", "duplicate", "kind", "any");
        counter("edgefleet.ingest.dropped", "Device messages dropped before they were stored, per reason and topic kind",
                "overloadDropped", null, "reason", "overload", "kind", "any");
        counter("edgefleet.telemetry.windows.ingested", "Telemetry windows stored", "telemetryWindowsStored", null);
        counter("edgefleet.ingest.processing.errors", "Inbound messages whose processing failed", "processingErrors", null);
    }

    private void counter(String name, String help, String key, String kind, String... tags) {
        FunctionCounter.builder(name, stats, s -> value(s.snapshot(0).get(key), kind)).description(help).tags(tags)
                .register(registry);
    }

    /** A top-level number, or one topic kind's entry of a per-kind map; 0 when the snapshot lacks it. */
    static double value(Object v, String kind) {
        if (kind != null && v instanceof Map<?, ?> m) {
            v = m.get(kind);
        }
        return v instanceof Number n ? n.doubleValue() : 0;
    }
}
