package io.edgefleet.server.deviceclass;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.deviceclass.DeviceClassDtos.AccuracyBudget;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassRequest;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassView;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.hibernate.Session;

/** Device classes: create, read, update. Ids are immutable because devices and artifact topics refer to them. */
@ApplicationScoped
public class DeviceClassService {
    /** Supported precisions, in the canonical order they are stored and shown in. */
    public static final List<String> PRECISIONS = List.of("fp32", "fp16", "int8");
    /** Applied when a class is created without an accuracy budget: 1 point overall, 2 per cohort. */
    public static final AccuracyBudget DEFAULT_ACCURACY_BUDGET = new AccuracyBudget(1.0, 2.0);

    @Inject
    Session session;

    @Transactional
    public DeviceClassView create(DeviceClassRequest req) {
        if (req.id() == null || req.id().isBlank()) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "field 'id' is required");
        }
        requireId(req.id());
        if (session.find(DeviceClassEntity.class, req.id()) != null) {
            throw new ApiException(ErrorCode.ALREADY_EXISTS, "device class '" + req.id() + "' already exists");
        }
        long now = System.currentTimeMillis();
        DeviceClassEntity e = new DeviceClassEntity();
        e.id = req.id();
        e.createdAt = now;
        apply(e, req, now);
        session.persist(e);
        return DeviceClassView.of(e);
    }

    @Transactional
    public DeviceClassView update(String id, DeviceClassRequest req) {
        if (req.id() != null && !req.id().equals(id)) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED,
                    "field 'id' is immutable: body says '" + req.id() + "' but the path says '" + id + "'");
        }
        DeviceClassEntity e = require(id);
        apply(e, req, System.currentTimeMillis());
        return DeviceClassView.of(e);
    }

    @Transactional
    public DeviceClassView get(String id) {
        return DeviceClassView.of(require(id));
    }

    @Transactional
    public List<DeviceClassView> list() {
        return session.createSelectionQuery("from DeviceClassEntity order by id", DeviceClassEntity.class)
                .getResultList().stream().map(DeviceClassView::of).toList();
    }

    /** Inside a caller's transaction: the class or a 404. */
    public DeviceClassEntity require(String id) {
        DeviceClassEntity e = Topics.isId(id) ? session.find(DeviceClassEntity.class, id) : null;
        if (e == null) {
            throw ApiException.notFound("device class", id);
        }
        return e;
    }

    /** Inside a caller's transaction: the class, or null. */
    public DeviceClassEntity find(String id) {
        return Topics.isId(id) ? session.find(DeviceClassEntity.class, id) : null;
    }

    private static void apply(DeviceClassEntity e, DeviceClassRequest req, long now) {
        e.name = req.name() == null || req.name().isBlank() ? e.id : req.name().trim();
        e.arch = req.arch().trim();
        e.cores = req.cores();
        e.ramMb = req.ramMb();
        e.storageMb = req.storageMb();
        e.precisions = String.join(",", normalizePrecisions(req.precisions()));
        if (req.power() != null) {
            if (req.power().activeWatts() < req.power().idleWatts()) {
                throw new ApiException(ErrorCode.VALIDATION_FAILED, "power.activeWatts (" + req.power().activeWatts()
                        + ") must not be below power.idleWatts (" + req.power().idleWatts() + ")");
            }
            e.idleWatts = req.power().idleWatts();
            e.activeWatts = req.power().activeWatts();
        } else {
            e.idleWatts = null;
            e.activeWatts = null;
        }
        e.sloP95LatencyMs = req.slo().p95LatencyMs();
        e.sloMaxModelBytes = req.slo().maxModelBytes();
        e.sloMaxEnergyMj = req.slo().maxEnergyMj();
        AccuracyBudget budget = req.accuracyBudget() == null ? DEFAULT_ACCURACY_BUDGET : req.accuracyBudget();
        e.accuracyOverallPoints = budget.overallPoints();
        e.accuracyCohortPoints = budget.cohortPoints();
        e.fp16Arithmetic = req.fp16Arithmetic();
        e.latencyScale = req.latencyScale();
        e.updatedAt = now;
    }

    static List<String> normalizePrecisions(List<String> requested) {
        Set<String> wanted = new LinkedHashSet<>();
        for (String p : requested) {
            String n = p.trim().toLowerCase(Locale.ROOT);
            if (!PRECISIONS.contains(n)) {
                throw new ApiException(ErrorCode.VALIDATION_FAILED,
                        "precision '" + p + "' is not supported; use any of " + PRECISIONS);
            }
            wanted.add(n);
        }
        return PRECISIONS.stream().filter(wanted::contains).toList();
    }

    static void requireId(String id) {
        if (!Topics.isId(id)) {
            throw new ApiException(ErrorCode.INVALID_ID, "id '" + id + "' is invalid: use 1-64 characters from"
                    + " A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
    }
}
