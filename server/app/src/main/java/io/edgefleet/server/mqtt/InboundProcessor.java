package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.device.DeviceStatusIngest;
import io.edgefleet.server.mqtt.InboundDispatcher.Inbound;
import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.telemetry.TelemetryIngest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Decodes, checks and applies a batch of inbound device messages. A payload that does not decode,
 * does not validate, or names another device than its topic is counted and dropped with a
 * (rate-limited) warning; repeats of a message id are dropped; everything else is applied in
 * arrival order, consecutive telemetry windows in one transaction.
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
    RolloutService rollouts;

    private final JsonCodec codec = new JsonCodec();
    private final MessageDeduplicator dedup = new MessageDeduplicator(DEDUP_CAPACITY);
    private final RateLimitedLog malformedLog = new RateLimitedLog(LOG, 10_000);
    private final RateLimitedLog unknownLog = new RateLimitedLog(LOG, 10_000);

    private record Decoded(Topics.Kind kind, Message message, long receivedAt) {
    }

    public void process(List<Inbound> batch) {
        List<TelemetryWindow> telemetry = new ArrayList<>();
        long telemetryReceivedAt = 0;
        for (Inbound in : batch) {
            Decoded d = decode(in);
            if (d == null) {
                continue;
            }
            if (d.kind() == Topics.Kind.TELEMETRY) {
                telemetry.add((TelemetryWindow) d.message());
                telemetryReceivedAt = d.receivedAt();
                continue;
            }
            flushTelemetry(telemetry, telemetryReceivedAt);
            apply(d);
        }
        flushTelemetry(telemetry, telemetryReceivedAt);
    }

    private Decoded decode(Inbound in) {
        Message m;
        try {
            m = switch (in.kind()) {
                case STATUS -> codec.decode(in.payload(), DeviceStatus.class);
                case EVENTS -> codec.decode(in.payload(), DeviceEvent.class);
                case TELEMETRY -> codec.decode(in.payload(), TelemetryWindow.class);
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
        if (!dedup.firstTime(in.deviceId(), m.id())) {
            stats.duplicate();
            return null;
        }
        return new Decoded(in.kind(), m, in.receivedAt());
    }

    private void apply(Decoded d) {
        try {
            if (d.message() instanceof DeviceStatus s) {
                switch (statusIngest.apply(s, d.receivedAt())) {
                    case UNKNOWN_DEVICE -> unknown(Topics.Kind.STATUS, s.deviceId());
                    case STALE -> stats.staleStatus();
                    case APPLIED -> stats.statusApplied();
                    case CAME_ONLINE -> {
                        stats.statusApplied();
                        rollouts.deviceCameOnline(s.deviceId());
                    }
                }
            } else if (d.message() instanceof DeviceEvent e) {
                if (rollouts.onDeviceEvent(e, d.receivedAt())) {
                    stats.eventStored();
                } else {
                    unknown(Topics.Kind.EVENTS, e.deviceId());
                }
            } else {
                throw new IllegalStateException("unexpected message " + d.message().getClass());
            }
        } catch (RuntimeException e) {
            stats.processingError();
            dedup.forget(deviceOf(d.message()), d.message().id());
            LOG.errorf(e, "cannot apply %s message %s", d.kind(), d.message().id());
        }
    }

    private void flushTelemetry(List<TelemetryWindow> windows, long receivedAt) {
        if (windows.isEmpty()) {
            return;
        }
        try {
            TelemetryIngest.Result r = telemetryIngest.store(windows, receivedAt);
            stats.telemetryStored(r.stored());
            for (String unknown : r.unknownDevices()) {
                unknown(Topics.Kind.TELEMETRY, unknown);
            }
        } catch (RuntimeException batchFailure) {
            // Find the window that broke the batch: store one by one, so one bad row costs only itself.
            LOG.warnf("telemetry batch of %d failed (%s); retrying one by one", windows.size(), batchFailure.toString());
            for (TelemetryWindow w : windows) {
                try {
                    TelemetryIngest.Result r = telemetryIngest.store(List.of(w), receivedAt);
                    stats.telemetryStored(r.stored());
                    r.unknownDevices().forEach(u -> unknown(Topics.Kind.TELEMETRY, u));
                } catch (RuntimeException e) {
                    stats.processingError();
                    dedup.forget(w.deviceId(), w.id());
                    LOG.errorf(e, "cannot store telemetry window %s of device %s", w.id(), w.deviceId());
                }
            }
        } finally {
            windows.clear();
        }
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
        return null;
    }
}
