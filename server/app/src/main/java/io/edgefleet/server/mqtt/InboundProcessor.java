package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.device.DeviceEventLookup;
import io.edgefleet.server.device.DeviceStatusIngest;
import io.edgefleet.server.mqtt.InboundDispatcher.Inbound;
import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.telemetry.TelemetryAcks;
import io.edgefleet.server.telemetry.TelemetryIngest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Decodes, checks and applies a batch of inbound device messages. A payload that does not decode,
 * does not validate, or names another device than its topic is counted and dropped with a
 * (rate-limited) warning; a telemetry window or event already stored (same device and message id)
 * is counted as a duplicate; everything else is applied in arrival order, consecutive telemetry
 * windows in one transaction. Returns the messages that could not be committed: the caller leaves
 * those unacknowledged so the broker delivers them again.
 */
@ApplicationScoped
public class InboundProcessor {
    private static final Logger LOG = Logger.getLogger(InboundProcessor.class);
    private static final int DEDUP_CAPACITY = 100_000;

    @Inject
    IngestStats stats;

    @Inject
    DeviceStatusIngest statusIngest;

    @Inject
    TelemetryIngest telemetryIngest;

    @Inject
    TelemetryAcks telemetryAcks;

    @Inject
    DeviceEventLookup eventLookup;

    @Inject
    RolloutService rollouts;

    @Inject
    io.edgefleet.server.benchmark.BenchmarkService benchmarks;

    @Inject
    io.edgefleet.server.capture.CaptureService captures;

    private final JsonCodec codec = new JsonCodec();
    /** Capture uploads carry a base64 .npz: their own, larger bound (edgefleet.capture.max-message-bytes). */
    private final JsonCodec captureCodec = new JsonCodec(io.edgefleet.server.capture.CaptureService.MAX_MESSAGE_BYTES);
    /** Status messages only: telemetry and events are de-duplicated by the database. */
    private final MessageDeduplicator statusDedup = new MessageDeduplicator(DEDUP_CAPACITY);
    private final RateLimitedLog malformedLog = new RateLimitedLog(LOG, 10_000);
    private final RateLimitedLog unknownLog = new RateLimitedLog(LOG, 10_000);

    private record Decoded(Inbound in, Message message) {
    }

    public Set<Inbound> process(List<Inbound> batch) {
        Set<Inbound> unfinished = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Decoded> telemetry = new ArrayList<>();
        for (Inbound in : batch) {
            Decoded d = decode(in);
            if (d == null) {
                continue;
            }
            if (in.kind() == Topics.Kind.TELEMETRY) {
                telemetry.add(d);
                continue;
            }
            flushTelemetry(telemetry, unfinished);
            if (!apply(d)) {
                unfinished.add(in);
            }
        }
        flushTelemetry(telemetry, unfinished);
        return unfinished;
    }

    private Decoded decode(Inbound in) {
        Message m;
        try {
            m = switch (in.kind()) {
                case STATUS -> codec.decode(in.payload(), DeviceStatus.class);
                case EVENTS -> codec.decode(in.payload(), DeviceEvent.class);
                case TELEMETRY -> codec.decode(in.payload(), TelemetryWindow.class);
                case BENCHMARK -> codec.decode(in.payload(), io.edgefleet.protocol.BenchmarkReport.class);
                case CAPTURE -> captureCodec.decode(in.payload(), io.edgefleet.protocol.CaptureUpload.class);
                default -> throw new IllegalStateException("not an inbound kind: " + in.kind());
            };
            String claimed = deviceOf(m);
            if (!in.deviceId().equals(claimed)) {
                throw new ProtocolException(ReasonCode.INVALID_FIELD,
                        "payload names device '" + claimed + "' but was published on the topic of '" + in.deviceId() + "'");
            }
        } catch (ProtocolException e) {
            stats.malformed(in.kind());
            malformedLog.warn("dropped a malformed " + in.kind() + " message from device " + in.deviceId() + " ("
                    + e.reason() + "): " + e.getMessage());
            return null;
        }
        if (in.kind() == Topics.Kind.STATUS && !statusDedup.firstTime(in.deviceId(), m.id())) {
            stats.duplicate();
            return null;
        }
        return new Decoded(in, m);
    }

    /** True when the message is done with (applied, judged stale, unknown device, duplicate). */
    private boolean apply(Decoded d) {
        long receivedAt = d.in().receivedAt();
        try {
            if (d.message() instanceof DeviceStatus s) {
                switch (statusIngest.apply(s, receivedAt, d.in().retained())) {
                    case UNKNOWN_DEVICE -> unknown(Topics.Kind.STATUS, s.deviceId());
                    case STALE -> stats.staleStatus();
                    case APPLIED -> stats.statusApplied();
                    case CAME_ONLINE -> {
                        stats.statusApplied();
                        rollouts.deviceCameOnline(s.deviceId());
                    }
                }
            } else if (d.message() instanceof DeviceEvent e) {
                if (eventLookup.exists(e.deviceId(), e.id())) {
                    stats.eventDuplicate();
                } else if (rollouts.onDeviceEvent(e, receivedAt)) {
                    stats.eventStored();
                } else {
                    unknown(Topics.Kind.EVENTS, e.deviceId());
                }
            } else if (d.message() instanceof io.edgefleet.protocol.BenchmarkReport r) {
                benchmarks.onReport(r, receivedAt);
            } else if (d.message() instanceof io.edgefleet.protocol.CaptureUpload u) {
                captures.onUpload(u, receivedAt);
            } else {
                throw new IllegalStateException("unexpected message " + d.message().getClass());
            }
            return true;
        } catch (RuntimeException e) {
            if (d.message() instanceof DeviceEvent && isUniqueViolation(e)) {
                // Another replica stored the same event between the look-up and the insert.
                stats.eventDuplicate();
                return true;
            }
            stats.processingError();
            if (d.message() instanceof DeviceStatus) {
                statusDedup.forget(d.in().deviceId(), d.message().id());
            }
            LOG.errorf(e, "cannot apply %s message %s; left unacknowledged", d.in().kind(), d.message().id());
            return false;
        }
    }

    private void flushTelemetry(List<Decoded> windows, Set<Inbound> unfinished) {
        if (windows.isEmpty()) {
            return;
        }
        try {
            if (!storeTelemetry(windows)) {
                // Find the window that broke the batch: store one by one, so one bad row costs only itself.
                for (Decoded d : windows) {
                    if (!storeTelemetry(List.of(d))) {
                        stats.processingError();
                        unfinished.add(d.in());
                    }
                }
            }
        } finally {
            windows.clear();
        }
    }

    /** Stores windows in one transaction (retried once, for a race with another replica); false when it failed. */
    private boolean storeTelemetry(List<Decoded> windows) {
        List<TelemetryWindow> ws = new ArrayList<>(windows.size());
        long receivedAt = 0;
        for (Decoded d : windows) {
            ws.add((TelemetryWindow) d.message());
            receivedAt = Math.max(receivedAt, d.in().receivedAt());
        }
        RuntimeException failure = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                TelemetryIngest.Result r = telemetryIngest.store(ws, receivedAt);
                stats.telemetryStored(r.stored());
                stats.duplicates(r.duplicates());
                r.unknownDevices().forEach(u -> unknown(Topics.Kind.TELEMETRY, u));
                telemetryAcks.committed(r.committed());
                return true;
            } catch (RuntimeException e) {
                failure = e;
                if (!isUniqueViolation(e)) {
                    break;
                }
            }
        }
        LOG.warnf("telemetry batch of %d not stored: %s", ws.size(), failure.toString());
        return false;
    }

    /** A unique-constraint violation (SQLState 23505 on PostgreSQL and H2), anywhere in the cause chain. */
    static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
            if (t instanceof org.hibernate.exception.ConstraintViolationException cv
                    && cv.getSQLException() != null && "23505".equals(cv.getSQLException().getSQLState())) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private void unknown(Topics.Kind kind, String deviceId) {
        stats.unknownDevice(kind);
        unknownLog.warn("dropped a " + kind + " message from unknown device '" + deviceId + "'");
    }

    private static String deviceOf(Message m) {
        if (m instanceof DeviceStatus s) {
            return s.deviceId();
        }
        if (m instanceof DeviceEvent e) {
            return e.deviceId();
        }
        if (m instanceof TelemetryWindow t) {
            return t.deviceId();
        }
        if (m instanceof io.edgefleet.protocol.BenchmarkReport r) {
            return r.deviceId();
        }
        if (m instanceof io.edgefleet.protocol.CaptureUpload u) {
            return u.deviceId();
        }
        return null;
    }
}
