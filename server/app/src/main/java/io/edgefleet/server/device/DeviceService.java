package io.edgefleet.server.device;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.Pages;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.device.DeviceDtos.Credentials;
import io.edgefleet.server.device.DeviceDtos.CredentialsRevoked;
import io.edgefleet.server.device.DeviceDtos.CredentialsRotated;
import io.edgefleet.server.device.DeviceDtos.DeviceView;
import io.edgefleet.server.device.DeviceDtos.EventView;
import io.edgefleet.server.device.DeviceDtos.MqttInfo;
import io.edgefleet.server.device.DeviceDtos.RegisterDeviceRequest;
import io.edgefleet.server.device.DeviceDtos.RegisteredDevice;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.mqtt.BrokerInfo;
import io.edgefleet.server.security.CredentialsChanged;
import io.edgefleet.server.security.MosquittoPasswordHash;
import io.edgefleet.server.security.Secrets;
import io.edgefleet.server.security.SigningKeys;
import io.edgefleet.server.telemetry.TelemetryView;
import io.edgefleet.server.telemetry.TelemetryWindowEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hibernate.Session;
import org.hibernate.exception.ConstraintViolationException;

/** Device registry: registration, credentials, queries. */
@ApplicationScoped
public class DeviceService {
    public static final int MAX_PAGE = 1000;

    @Inject
    Session session;

    @Inject
    DeviceClassService classes;

    @Inject
    BrokerInfo broker;

    @Inject
    SigningKeys signingKeys;

    @Inject
    Event<CredentialsChanged> credentialsChanged;

    @Transactional
    public RegisteredDevice register(RegisterDeviceRequest req) {
        requireId(req.id(), "id");
        if (broker.isReservedUsername(req.id())) {
            throw new ApiException(ErrorCode.INVALID_ID, "id '" + req.id() + "' is reserved for the server's own broker user");
        }
        if (classes.find(req.classId()) == null) {
            throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "device class '" + req.classId() + "' does not exist");
        }
        if (session.find(DeviceEntity.class, req.id()) != null) {
            throw new ApiException(ErrorCode.ALREADY_EXISTS, "device '" + req.id() + "' already exists");
        }
        String password = Secrets.randomToken();
        DeviceEntity d = newDevice(req, password, System.currentTimeMillis());
        session.persist(d);
        try {
            session.flush();
        } catch (ConstraintViolationException e) {
            throw new ApiException(ErrorCode.ALREADY_EXISTS, "device '" + req.id() + "' already exists", e);
        }
        return new RegisteredDevice(d.id, d.classId, List.copyOf(d.tags), false, d.createdAt,
                new Credentials(d.id, password), new MqttInfo(broker.advertisedUrl()), signingKeys.publicKeysBase64());
    }

    /** Most devices one bulk registration may carry (each answer carries a password and the server's keys). */
    public static final int MAX_BULK_REGISTRATION = 500;

    /**
     * Registers several devices in one transaction: all of them or, on the first refusal, none (the error names the
     * device). Each device gets what {@link #register} gives it (its own random password, hashed; the answer is the
     * only time it is shown). It exists for fleets enrolled by the thousand: one registration costs about five
     * database round trips, and on a loaded machine those, not CPU, limited a 10,000-device simulator to a few
     * dozen registrations a second (docs/scale.md); here the look-ups are one query each for the whole batch and the
     * inserts go out in JDBC batches.
     */
    @Transactional
    public List<RegisteredDevice> registerAll(List<RegisterDeviceRequest> reqs) {
        if (reqs == null || reqs.isEmpty() || reqs.size() > MAX_BULK_REGISTRATION) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "devices must hold 1 to " + MAX_BULK_REGISTRATION
                    + " registrations, not " + (reqs == null ? 0 : reqs.size()));
        }
        Set<String> ids = new java.util.LinkedHashSet<>();
        Set<String> classIds = new TreeSet<>();
        for (RegisterDeviceRequest req : reqs) {
            if (req == null) {
                throw new ApiException(ErrorCode.VALIDATION_FAILED, "devices must not hold null entries");
            }
            requireId(req.id(), "id");
            if (!ids.add(req.id())) {
                throw new ApiException(ErrorCode.VALIDATION_FAILED, "device '" + req.id() + "' appears twice in the request");
            }
            normalizeTags(req.tags());
            if (req.classId() == null || req.classId().isBlank()) {
                throw new ApiException(ErrorCode.VALIDATION_FAILED, "device '" + req.id() + "' has no classId");
            }
            classIds.add(req.classId());
        }
        Set<String> reserved = broker.reservedAmong(ids);
        if (!reserved.isEmpty()) {
            String id = reserved.iterator().next();
            throw new ApiException(ErrorCode.INVALID_ID, "id '" + id + "' is reserved for the server's own broker user");
        }
        for (String c : classIds) {
            if (classes.find(c) == null) {
                throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "device class '" + c + "' does not exist");
            }
        }
        List<String> taken = session.createSelectionQuery("select d.id from DeviceEntity d where d.id in :ids order by d.id",
                String.class).setParameter("ids", ids).setMaxResults(1).getResultList();
        if (!taken.isEmpty()) {
            throw new ApiException(ErrorCode.ALREADY_EXISTS, "device '" + taken.get(0) + "' already exists");
        }
        long now = System.currentTimeMillis();
        String url = broker.advertisedUrl();
        List<String> keys = signingKeys.publicKeysBase64();
        List<RegisteredDevice> out = new java.util.ArrayList<>(reqs.size());
        for (RegisterDeviceRequest req : reqs) {
            String password = Secrets.randomToken();
            DeviceEntity d = newDevice(req, password, now);
            session.persist(d);
            out.add(new RegisteredDevice(d.id, d.classId, List.copyOf(d.tags), false, d.createdAt,
                    new Credentials(d.id, password), new MqttInfo(url), keys));
        }
        try {
            session.flush();
        } catch (ConstraintViolationException e) {
            // registered by someone else between the look-up and the insert
            throw new ApiException(ErrorCode.ALREADY_EXISTS, "a device of this request was registered concurrently; none"
                    + " of them was registered", e);
        }
        return out;
    }

    @Transactional
    public List<DeviceView> list(String classId, String tag) {
        return list(new DeviceFilter(classId, tag, null, null, null), null, MAX_PAGE).items();
    }

    /** Device list filters; null means "any". */
    public record DeviceFilter(String classId, String tag, Boolean online, String model, Long version) {
    }

    /** One page of devices in id order after {@code cursor}, filtered. */
    @Transactional
    public Pages.Page<DeviceView> list(DeviceFilter f, String cursor, int limit) {
        String after = Pages.key(cursor);
        StringBuilder q = new StringBuilder("select d.id from DeviceEntity d where 1 = 1");
        if (f.classId() != null && !f.classId().isBlank()) {
            q.append(" and d.classId = :classId");
        }
        if (f.tag() != null && !f.tag().isBlank()) {
            q.append(" and :tag member of d.tags");
        }
        if (f.online() != null) {
            q.append(" and d.online = :online");
        }
        // A device matches a model (and version) when any of the models it holds runs it in its active slot.
        boolean byModel = f.model() != null && !f.model().isBlank();
        if (byModel || f.version() != null) {
            q.append(" and exists (select 1 from DeviceEntity x join x.models m where x.id = d.id");
            if (byModel) {
                q.append(" and m.activeModel = :model");
            }
            if (f.version() != null) {
                q.append(" and m.activeVersion = :version");
            }
            q.append(")");
        }
        if (after != null) {
            q.append(" and d.id > :after");
        }
        q.append(" order by d.id");
        var query = session.createSelectionQuery(q.toString(), String.class);
        if (f.classId() != null && !f.classId().isBlank()) {
            query.setParameter("classId", f.classId());
        }
        if (f.tag() != null && !f.tag().isBlank()) {
            query.setParameter("tag", f.tag());
        }
        if (f.online() != null) {
            query.setParameter("online", f.online());
        }
        if (f.model() != null && !f.model().isBlank()) {
            query.setParameter("model", f.model());
        }
        if (f.version() != null) {
            query.setParameter("version", f.version());
        }
        if (after != null) {
            query.setParameter("after", after);
        }
        List<String> ids = query.setMaxResults(limit + 1).getResultList();
        Pages.Page<String> idPage = Pages.of(ids, limit, id -> id);
        if (idPage.items().isEmpty()) {
            return new Pages.Page<>(List.of(), null);
        }
        // Second step with the tags fetched, so the page limit applies to devices, not to device x tag rows.
        List<DeviceView> views = session.createSelectionQuery(
                        "select distinct d from DeviceEntity d left join fetch d.tags where d.id in :ids order by d.id",
                        DeviceEntity.class)
                .setParameter("ids", idPage.items()).getResultList().stream().map(DeviceView::of).toList();
        return new Pages.Page<>(views, idPage.nextCursor());
    }

    @Transactional
    public DeviceView get(String id) {
        return DeviceView.of(require(id));
    }

    @Transactional
    public CredentialsRotated rotateCredentials(String id) {
        DeviceEntity d = require(id);
        String password = Secrets.randomToken();
        d.credentialHash = MosquittoPasswordHash.hash(password);
        d.credentialUpdatedAt = System.currentTimeMillis();
        credentialsChanged.fire(new CredentialsChanged(id, false));
        return new CredentialsRotated(id, new Credentials(id, password));
    }

    @Transactional
    public CredentialsRevoked revokeCredentials(String id) {
        DeviceEntity d = require(id);
        d.credentialHash = null;
        d.credentialUpdatedAt = System.currentTimeMillis();
        credentialsChanged.fire(new CredentialsChanged(id, true));
        return new CredentialsRevoked(id, true);
    }

    @Transactional
    public List<EventView> events(String id, int limit) {
        return events(id, null, limit).items();
    }

    /** Newest first; the cursor continues with older events. */
    @Transactional
    public Pages.Page<EventView> events(String id, String cursor, int limit) {
        require(id);
        Long before = Pages.longKey(cursor);
        List<DeviceEventEntity> rows = session.createSelectionQuery("from DeviceEventEntity where deviceId = :id and id < :before"
                        + " order by id desc", DeviceEventEntity.class)
                .setParameter("id", id).setParameter("before", before == null ? Long.MAX_VALUE : before)
                .setMaxResults(page(limit) + 1).getResultList();
        Pages.Page<DeviceEventEntity> p = Pages.of(rows, limit, e -> Long.toString(e.id));
        return new Pages.Page<>(p.items().stream().map(EventView::of).toList(), p.nextCursor());
    }

    /** Longest window of {@link #modeTimes}: 31 days. */
    public static final long MAX_MODE_WINDOW_MS = 31L * 24 * 3600 * 1000;
    /** Most switches read for one window; a device flapping faster than that is answered with a 400 and a reason. */
    static final int MAX_MODE_EVENTS = 50_000;

    /** Time per degradation mode of each model over {@code [from, to)} (epoch ms), from the stored MODE_CHANGED events. */
    @Transactional
    public DeviceDtos.ModeTimesView modeTimes(String id, long from, long to) {
        require(id);
        if (to <= from || to - from > MAX_MODE_WINDOW_MS) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "the window must be longer than 0 and at most 31 days,"
                    + " not " + (to - from) + " ms");
        }
        List<DeviceEventEntity> inside = session.createSelectionQuery("from DeviceEventEntity where deviceId = :id"
                        + " and type = 'MODE_CHANGED' and ts > :from and ts <= :to order by ts, id", DeviceEventEntity.class)
                .setParameter("id", id).setParameter("from", from).setParameter("to", to)
                .setMaxResults(MAX_MODE_EVENTS + 1).getResultList();
        if (inside.size() > MAX_MODE_EVENTS) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "more than " + MAX_MODE_EVENTS
                    + " mode switches in the window; ask for a shorter one");
        }
        // the mode at the window's start: each model's last switch before it (a device holds a few models)
        List<DeviceEventEntity> before = session.createSelectionQuery("from DeviceEventEntity e where e.deviceId = :id"
                        + " and e.type = 'MODE_CHANGED' and e.ts = (select max(f.ts) from DeviceEventEntity f where"
                        + " f.deviceId = :id and f.type = 'MODE_CHANGED' and f.modelName = e.modelName and f.ts <= :from)"
                        + " order by e.id", DeviceEventEntity.class)
                .setParameter("id", id).setParameter("from", from).getResultList();
        List<ModeTimeline.Switch> switches = new ArrayList<>();
        int skipped = 0;
        for (List<DeviceEventEntity> part : List.of(before, inside)) {
            for (DeviceEventEntity e : part) {
                ModeTimeline.Switch s = ModeTimeline.parse(e.modelName, e.ts, e.detail);
                if (s == null) {
                    skipped++;
                } else {
                    switches.add(s);
                }
            }
        }
        double window = to - from;
        List<DeviceDtos.ModelModeTimes> models = ModeTimeline.over(switches, from, to).stream()
                .map(m -> new DeviceDtos.ModelModeTimes(m.model(), m.modeAtEnd(), m.switches(), m.millis().entrySet().stream()
                        .map(t -> new DeviceDtos.ModeTime(t.getKey(), t.getValue() / 1000.0, t.getValue() / window)).toList()))
                .toList();
        return new DeviceDtos.ModeTimesView(id, from, to, models, skipped);
    }

    @Transactional
    public List<TelemetryView> telemetry(String id, int limit) {
        return telemetry(id, null, limit).items();
    }

    /** Newest first; the cursor continues with older windows. */
    @Transactional
    public Pages.Page<TelemetryView> telemetry(String id, String cursor, int limit) {
        require(id);
        Long before = Pages.longKey(cursor);
        List<TelemetryWindowEntity> rows = session.createSelectionQuery("from TelemetryWindowEntity where deviceId = :id and id < :before"
                        + " order by id desc", TelemetryWindowEntity.class)
                .setParameter("id", id).setParameter("before", before == null ? Long.MAX_VALUE : before)
                .setMaxResults(page(limit) + 1).getResultList();
        Pages.Page<TelemetryWindowEntity> p = Pages.of(rows, limit, e -> Long.toString(e.id));
        return new Pages.Page<>(p.items().stream().map(TelemetryView::of).toList(), p.nextCursor());
    }

    /** Inside a caller's transaction: the device or a 404. */
    public DeviceEntity require(String id) {
        DeviceEntity d = Topics.isId(id) ? session.find(DeviceEntity.class, id) : null;
        if (d == null) {
            throw ApiException.notFound("device", id);
        }
        return d;
    }

    static int page(int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "limit must be between 1 and " + MAX_PAGE);
        }
        return limit;
    }

    static Set<String> normalizeTags(List<String> tags) {
        Set<String> out = new TreeSet<>();
        if (tags != null) {
            for (String t : tags) {
                requireId(t, "tag");
                out.add(t);
            }
        }
        return out;
    }

    static void requireId(String value, String what) {
        if (!Topics.isId(value)) {
            throw new ApiException(ErrorCode.INVALID_ID, what + " '" + value + "' is invalid: use 1-64 characters from"
                    + " A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
    }

    /** A new device of this request, offline, its password stored only as its hash. */
    private DeviceEntity newDevice(RegisterDeviceRequest req, String password, long now) {
        DeviceEntity d = new DeviceEntity();
        d.id = req.id();
        d.classId = req.classId();
        d.tags = normalizeTags(req.tags());
        d.credentialHash = MosquittoPasswordHash.hash(password);
        d.credentialUpdatedAt = now;
        d.online = false;
        d.createdAt = now;
        return d;
    }

}
