package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the inbound MQTT pipeline since start, shown by {@code GET /api/v1/stats}. */
@ApplicationScoped
public class IngestStats {
    public static final Topics.Kind[] INBOUND = {Topics.Kind.STATUS, Topics.Kind.EVENTS, Topics.Kind.TELEMETRY};

    private final Map<Topics.Kind, LongAdder> received = counters();
    private final Map<Topics.Kind, LongAdder> malformed = counters();
    private final Map<Topics.Kind, LongAdder> unknownDevice = counters();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder telemetryStored = new LongAdder();
    private final LongAdder eventsStored = new LongAdder();
    private final LongAdder statusApplied = new LongAdder();
    private final LongAdder staleStatus = new LongAdder();
    private final LongAdder overloadDropped = new LongAdder();
    private final LongAdder processingErrors = new LongAdder();
    private final LongAdder foreignTopics = new LongAdder();

    private static Map<Topics.Kind, LongAdder> counters() {
        Map<Topics.Kind, LongAdder> m = new EnumMap<>(Topics.Kind.class);
        for (Topics.Kind k : INBOUND) {
            m.put(k, new LongAdder());
        }
        return m;
    }

    public void received(Topics.Kind kind) {
        received.get(kind).increment();
    }

    public void malformed(Topics.Kind kind) {
        malformed.get(kind).increment();
    }

    public void unknownDevice(Topics.Kind kind) {
        unknownDevice.get(kind).increment();
    }

    public void duplicate() {
        duplicates.increment();
    }

    public void telemetryStored(int n) {
        telemetryStored.add(n);
    }

    public void eventStored() {
        eventsStored.increment();
    }

    public void statusApplied() {
        statusApplied.increment();
    }

    public void staleStatus() {
        staleStatus.increment();
    }

    public void overloadDropped() {
        overloadDropped.increment();
    }

    public void processingError() {
        processingErrors.increment();
    }

    public void foreignTopic() {
        foreignTopics.increment();
    }

    public long malformedCount(Topics.Kind kind) {
        return malformed.get(kind).sum();
    }

    public long telemetryStoredCount() {
        return telemetryStored.sum();
    }

    public Map<String, Object> snapshot(int queued) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("received", perKind(received));
        m.put("malformedDropped", perKind(malformed));
        m.put("unknownDeviceDropped", perKind(unknownDevice));
        m.put("duplicatesDropped", duplicates.sum());
        m.put("statusApplied", statusApplied.sum());
        m.put("staleStatusIgnored", staleStatus.sum());
        m.put("eventsStored", eventsStored.sum());
        m.put("telemetryWindowsStored", telemetryStored.sum());
        m.put("overloadDropped", overloadDropped.sum());
        m.put("processingErrors", processingErrors.sum());
        m.put("foreignTopicsIgnored", foreignTopics.sum());
        m.put("queued", queued);
        return m;
    }

    private static Map<String, Long> perKind(Map<Topics.Kind, LongAdder> counters) {
        Map<String, Long> m = new LinkedHashMap<>();
        counters.forEach((k, v) -> m.put(k.name().toLowerCase(Locale.ROOT), v.sum()));
        return m;
    }
}
