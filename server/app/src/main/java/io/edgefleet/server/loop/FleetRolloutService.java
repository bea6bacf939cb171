package io.edgefleet.server.loop;

import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.loop.LoopDtos.ClassDeployment;
import io.edgefleet.server.loop.LoopDtos.ClassSkipped;
import io.edgefleet.server.loop.LoopDtos.FleetRolloutRequest;
import io.edgefleet.server.loop.LoopDtos.FleetRolloutView;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.planner.ClassVariantEntity;
import io.edgefleet.server.planner.PlanJobEntity;
import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.rollout.DeploymentDtos.DeploymentView;
import io.edgefleet.server.rollout.RolloutPolicy;
import io.edgefleet.server.rollout.RolloutService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * "Deploy this model to the fleet": every device class gets the variant the registry holds for it (planned from the
 * named version), in a deployment of its own with waves; a class without such a variant, or whose deployment is
 * refused, is reported with the reason and gets nothing.
 */
@ApplicationScoped
public class FleetRolloutService {
    private static final Logger LOG = Logger.getLogger(FleetRolloutService.class);

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    RolloutService rollouts;

    private record Target(String classId, ClassVariantEntity variant, String candidate, String skip) {
    }

    public FleetRolloutView create(String model, long version, FleetRolloutRequest req) {
        if (req != null && req.policy() != null) {
            try {
                req.policy().resolved();
            } catch (RolloutPolicy.InvalidPolicyException e) {
                String reason = e.getMessage().substring(e.field().length() + 2);
                throw new ApiException(ErrorCode.VALIDATION_FAILED, e.getMessage(),
                        List.of(new ApiError.FieldError(e.field(), reason)), null);
            }
        }
        List<Target> targets = QuarkusTransaction.requiringNew().call(() -> {
            models.require(model, version);
            List<String> ids;
            if (req != null && req.classIds() != null && !req.classIds().isEmpty()) {
                ids = new ArrayList<>(new LinkedHashSet<>(req.classIds()));
                for (String id : ids) {
                    if (id == null || session.find(DeviceClassEntity.class, id) == null) {
                        String reason = "device class '" + id + "' does not exist";
                        throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "classIds: " + reason,
                                List.of(new ApiError.FieldError("classIds", reason)), null);
                    }
                }
            } else {
                ids = session.createSelectionQuery("select c.id from DeviceClassEntity c order by c.id", String.class)
                        .getResultList();
            }
            List<Target> out = new ArrayList<>();
            for (String id : ids) {
                ClassVariantEntity cv = session.find(ClassVariantEntity.class, ClassVariantEntity.key(model, id));
                if (cv == null) {
                    out.add(new Target(id, null, null, "no variant of '" + model + "' is registered for this class; "
                            + "plan it first (POST /api/v1/models/" + model + "/versions/" + version + "/plans)"));
                    continue;
                }
                PlanJobEntity job = session.find(PlanJobEntity.class, cv.planJobId);
                long planned = job == null ? cv.modelVersion : job.baseVersion;
                if (planned != version && cv.modelVersion != version) {
                    out.add(new Target(id, null, null, "the class's variant (version " + cv.modelVersion
                            + ") was planned from version " + planned + ", not " + version + "; re-plan it"));
                    continue;
                }
                session.detach(cv);
                out.add(new Target(id, cv, job == null ? null : job.choice, null));
            }
            return out;
        });
        List<ClassDeployment> created = new ArrayList<>();
        List<ClassSkipped> skipped = new ArrayList<>();
        for (Target t : targets) {
            if (t.skip() != null) {
                skipped.add(new ClassSkipped(t.classId(), t.skip()));
                continue;
            }
            try {
                DeploymentView d = rollouts.create(new CreateDeploymentRequest(model, t.variant().modelVersion,
                        t.classId(), null, null, null, req == null ? null : req.policy()));
                created.add(new ClassDeployment(t.classId(), t.variant().modelVersion, t.candidate(), d.id(),
                        d.targets() == null ? 0 : d.targets().size()));
            } catch (ApiException e) {
                skipped.add(new ClassSkipped(t.classId(), e.code() + ": " + e.getMessage()));
            }
        }
        if (created.isEmpty()) {
            throw new ApiException(ErrorCode.NO_TARGETS, "nothing deployed: " + String.join("; ",
                    skipped.stream().map(s -> s.classId() + ": " + s.reason()).toList()));
        }
        LOG.infof("Fleet rollout of %s:%d: %d class deployment(s), %d class(es) skipped", model, version,
                created.size(), skipped.size());
        return new FleetRolloutView(model, version, created, skipped);
    }
}
