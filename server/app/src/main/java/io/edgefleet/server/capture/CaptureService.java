package io.edgefleet.server.capture;

import io.edgefleet.protocol.CaptureUpload;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.capture.CaptureDtos.CaptureRequest;
import io.edgefleet.server.capture.CaptureDtos.CaptureView;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.mqtt.MqttGateway;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Opt-in raw-input capture (issue 12.4, promise 9). Off for every device until an operator opts it in; the opt-in
 * reaches the agent as a signed CONFIG command ({@code captureRate}, {@code captureMaxSamples},
 * {@code captureMaxBytes}). Uploads are stored as datasets named {@code capture/<classId>/<modelName>/<yyyyMMddHHmmss>}
 * only while the device is opted in and within its bounds; anything else is dropped, counted and logged, so no raw
 * input is kept without the opt-in even from an agent that ignores it.
 */
@ApplicationScoped
public class CaptureService {
    private static final Logger LOG = Logger.getLogger(CaptureService.class);
    /** Largest capture message (JSON with a base64 .npz). The agent sends at most 1 MiB of raw input per upload. */
    public static final int MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
    static final int DEFAULT_MAX_SAMPLES = 1000;
    static final long DEFAULT_MAX_BYTES = 16L * 1024 * 1024;
    static final long MAX_BYTES_LIMIT = 256L * 1024 * 1024;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    @Inject
    Session session;

    @Inject
    DatasetService datasets;

    @Inject
    MqttGateway gateway;

    private final AtomicLong refused = new AtomicLong();

    public CaptureView set(String deviceId, CaptureRequest req) {
        if (req == null || req.enabled() == null) {
            throw ApiException.invalid("'enabled' is required");
        }
        boolean on = req.enabled();
        double rate = req.rate() == null ? (on ? Double.NaN : 0) : req.rate();
        if (on && !(rate > 0 && rate <= 1)) {
            throw ApiException.invalid("rate must be in (0, 1] when capture is enabled");
        }
        int maxSamples = req.maxSamples() == null ? DEFAULT_MAX_SAMPLES : req.maxSamples();
        if (maxSamples < 1 || maxSamples > 100_000) {
            throw ApiException.invalid("maxSamples must be in [1, 100000]");
        }
        long maxBytes = req.maxBytes() == null ? DEFAULT_MAX_BYTES : req.maxBytes();
        if (maxBytes < 1024 || maxBytes > MAX_BYTES_LIMIT) {
            throw ApiException.invalid("maxBytes must be in [1024, " + MAX_BYTES_LIMIT + "]");
        }
        QuarkusTransaction.requiringNew().run(() -> {
            if (!Topics.isId(deviceId) || session.find(DeviceEntity.class, deviceId) == null) {
                throw ApiException.notFound("device", deviceId);
            }
        });
        if (!gateway.isConnected()) {
            throw new ApiException(ErrorCode.BROKER_UNAVAILABLE,
                    "the server is not connected to the MQTT broker; nothing was changed, try again shortly");
        }
        Command cmd = Command.config(Map.of("captureRate", Double.toString(on ? rate : 0),
                "captureMaxSamples", Integer.toString(maxSamples), "captureMaxBytes", Long.toString(maxBytes)));
        // Recorded before it is sent: a device that receives the command can only ever be opted in with a row saying so.
        QuarkusTransaction.requiringNew().run(() -> {
            DeviceCaptureEntity e = session.find(DeviceCaptureEntity.class, deviceId);
            boolean fresh = e == null;
            if (fresh) {
                e = new DeviceCaptureEntity();
                e.deviceId = deviceId;
            }
            if (fresh || !e.enabled || e.maxSamples != maxSamples || e.maxBytes != maxBytes) {
                e.samplesReceived = 0; // a new opt-in starts a new budget
                e.bytesReceived = 0;
            }
            e.enabled = on;
            e.rate = on ? rate : 0;
            e.maxSamples = maxSamples;
            e.maxBytes = maxBytes;
            e.updatedAt = System.currentTimeMillis();
            if (fresh) {
                session.persist(e);
            }
        });
        gateway.publishCommand(deviceId, cmd);
        LOG.infof("capture on device %s %s (rate %s, at most %d samples / %d bytes); command %s", deviceId,
                on ? "enabled" : "disabled", rate, maxSamples, maxBytes, cmd.id());
        CaptureView v = get(deviceId);
        return new CaptureView(v.deviceId(), v.enabled(), v.rate(), v.maxSamples(), v.maxBytes(), v.samplesReceived(),
                v.bytesReceived(), cmd.id(), v.datasets());
    }

    public CaptureView get(String deviceId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            DeviceEntity d = Topics.isId(deviceId) ? session.find(DeviceEntity.class, deviceId) : null;
            if (d == null) {
                throw ApiException.notFound("device", deviceId);
            }
            DeviceCaptureEntity e = session.find(DeviceCaptureEntity.class, deviceId);
            List<String> names = session.createSelectionQuery("select d.name from DatasetEntity d where d.name like :p"
                            + " order by d.name desc", String.class)
                    .setParameter("p", "capture/" + d.classId + "/%").setMaxResults(100).getResultList();
            if (e == null) {
                return new CaptureView(deviceId, false, 0, 0, 0, 0, 0, null, names);
            }
            return new CaptureView(deviceId, e.enabled, e.rate, e.maxSamples, e.maxBytes, e.samplesReceived,
                    e.bytesReceived, null, names);
        });
    }

    /** Uploads refused since start (no opt-in, over the bound, unreadable). */
    public long refusedUploads() {
        return refused.get();
    }

    /** A capture upload from the device's topic; stored as a dataset only under a live opt-in and within bounds. */
    public synchronized void onUpload(CaptureUpload u, long receivedAt) {
        byte[] npz;
        try {
            npz = Base64.getDecoder().decode(u.npz());
        } catch (IllegalArgumentException e) {
            refuse(u, "its npz field is not base64");
            return;
        }
        String classId = QuarkusTransaction.requiringNew().call(() -> {
            DeviceEntity d = session.find(DeviceEntity.class, u.deviceId());
            DeviceCaptureEntity c = session.find(DeviceCaptureEntity.class, u.deviceId());
            if (d == null || c == null || !c.enabled) {
                return null;
            }
            if (c.samplesReceived + u.samples() > c.maxSamples || c.bytesReceived + npz.length > c.maxBytes) {
                return "";
            }
            return d.classId;
        });
        if (classId == null) {
            refuse(u, "the device is not opted in to capture");
            return;
        }
        if (classId.isEmpty()) {
            refuse(u, "it would exceed the device's capture bound");
            return;
        }
        String base = "capture/" + classId + "/" + u.model().model() + "/" + STAMP.format(Instant.ofEpochMilli(receivedAt));
        String name = base;
        for (int i = 1; datasetExists(name); i++) {
            name = base + "-" + i;
        }
        try {
            datasets.registerCaptured(name, npz);
        } catch (ApiException e) {
            refuse(u, "its data is not a usable dataset: " + e.getMessage());
            return;
        }
        QuarkusTransaction.requiringNew().run(() -> {
            DeviceCaptureEntity c = session.find(DeviceCaptureEntity.class, u.deviceId());
            c.samplesReceived += u.samples();
            c.bytesReceived += npz.length;
        });
        LOG.infof("stored %d captured samples of %s from device %s as dataset %s", u.samples(), u.model().label(),
                u.deviceId(), name);
    }

    private boolean datasetExists(String name) {
        return QuarkusTransaction.requiringNew().call(() -> datasets.find(name) != null);
    }

    private void refuse(CaptureUpload u, String why) {
        refused.incrementAndGet();
        LOG.warnf("dropped a capture upload of %d samples from device %s: %s", u.samples(), u.deviceId(), why);
    }

    /** For tests: every captured dataset name of a class and model. */
    public List<String> datasetNames(String classId, String model) {
        return QuarkusTransaction.requiringNew().call(() -> new ArrayList<>(session.createSelectionQuery(
                        "select d.name from DatasetEntity d where d.name like :p order by d.name", String.class)
                .setParameter("p", "capture/" + classId + "/" + model + "/%").getResultList()));
    }
}
