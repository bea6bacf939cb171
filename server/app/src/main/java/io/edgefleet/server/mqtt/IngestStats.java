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
    public static final Topics.Kind[] INBOUND = {Topics.Kind.STATUS, Topics.Kind.EVENTS, Topics.Kind.TELEMETRY,
            Topics.Kind.BENCHMARK, Topics.Kind.CAPTURE};

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
    private final LongAdder acked = new LongAdder();
    private final LongAdder leftUnacked = new LongAdder();
    private final LongAdder backpressureWaitMs = new LongAdder();
    private final LongAdder acksSent = new LongAdder();
    private final LongAdder workerRestarts = new LongAdder();
    private final LongAdder eventDuplicates = new LongAdder();
    private final LongAdder devicesSweptOffline = new LongAdder();

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

    public void duplicates(int n) {
        duplicates.add(n);
    }

    public void eventDuplicate() {
        eventDuplicates.increment();
        duplicates.increment();
    }

    /** An inbound MQTT message acknowledged to the broker after what it carried was committed (or judged). */
    public void acked() {
        acked.increment();
    }

    /**
     * Inbound messages left unacknowledged because they could not be committed (or the server stopped): the
     * broker redelivers them on the next connection, and the agent replays what the server did not confirm.
     */
    public void leftUnacked(int n) {
        leftUnacked.add(n);
    }

    public void backpressureWait(long ms) {
        backpressureWaitMs.add(ms);
    }

    public void ackSent() {
        acksSent.increment();
    }

    public void workerRestarted() {
        workerRestarts.increment();
    }

    public void sweptOffline(int n) {
        devicesSweptOffline.add(n);
    }

    public long receivedCount(Topics.Kind kind) {
        return received.get(kind).sum();
    }

    public long duplicatesCount() {
        return duplicates.sum();
    }

    public long overloadDroppedCount() {
        return overloadDropped.sum();
    }

    public long processingErrorsCount() {
        return processingErrors.sum();
    }

    public long ackedCount() {
        return acked.sum();
    }

    public long leftUnackedCount() {
        return leftUnacked.sum();
    }

    public long backpressureWaitMsCount() {
        return backpressureWaitMs.sum();
    }

    public long acksSentCount() {
        return acksSent.sum();
    }

    public long workerRestartsCount() {
        return workerRestarts.sum();
    }

    public long sweptOfflineCount() {
        return devicesSweptOffline.sum();
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
        m.put("mqttAcked", acked.sum());
        m.put("leftUnacked", leftUnacked.sum());
        m.put("backpressureWaitMs", backpressureWaitMs.sum());
        m.put("telemetryAcksSent", acksSent.sum());
        m.put("eventDuplicatesDropped", eventDuplicates.sum());
        m.put("workerRestarts", workerRestarts.sum());
        m.put("devicesSweptOffline", devicesSweptOffline.sum());
        return m;
    }

    private static Map<String, Long> perKind(Map<Topics.Kind, LongAdder> counters) {
        Map<String, Long> m = new LinkedHashMap<>();
        counters.forEach((k, v) -> m.put(k.name().toLowerCase(Locale.ROOT), v.sum()));
        return m;
    }
}
