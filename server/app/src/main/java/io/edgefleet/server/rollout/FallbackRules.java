package io.edgefleet.server.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.model.ModelVersionEntity;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Which version a deployment may ship as its light fallback (docs/degradation.md). A fallback must be
 * <ul>
 *   <li>a version of the same model that exists;</li>
 *   <li>of the same lineage: the main version and the fallback go back through their parents to the same upload;</li>
 *   <li>gated: made by the compression engine, which registers a variant only when it passed the accuracy gate
 *       (an upload has no parent and passed no gate);</li>
 *   <li>smaller than the main version, and not slower by the planner's measured device p95 when both are known.</li>
 * </ul>
 * Anything else is refused with a 400 naming {@code fallback.version} and the reason.
 */
final class FallbackRules {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FallbackRules() {
    }

    static ModelVersionEntity check(ModelVersionEntity main, ModelVersionEntity fallback,
                                    LongFunction<ModelVersionEntity> version, Function<String, Double> planP95) {
        if (fallback == null) {
            throw refuse(ErrorCode.UNKNOWN_MODEL, "model '" + main.name + "' has no such version");
        }
        if (fallback.version == main.version || fallback.sha256.equals(main.sha256)) {
            throw refuse(ErrorCode.VALIDATION_FAILED, "the fallback must be another variant than the deployed version "
                    + main.version);
        }
        if (fallback.parentVersion == null) {
            throw refuse(ErrorCode.VALIDATION_FAILED, "version " + fallback.version + " is an upload, not a variant that"
                    + " passed the accuracy gate; make one with a compression job or a plan");
        }
        long mainRoot = root(main, version);
        long fallbackRoot = root(fallback, version);
        if (mainRoot != fallbackRoot) {
            throw refuse(ErrorCode.VALIDATION_FAILED, "version " + fallback.version + " derives from upload "
                    + fallbackRoot + " but version " + main.version + " from upload " + mainRoot
                    + "; a fallback must be a variant of the same model");
        }
        if (fallback.size >= main.size) {
            throw refuse(ErrorCode.VALIDATION_FAILED, "version " + fallback.version + " is " + fallback.size
                    + " bytes, not lighter than version " + main.version + " (" + main.size + " bytes)");
        }
        Double mainP95 = planP95.apply(main.sha256);
        Double fallbackP95 = planP95.apply(fallback.sha256);
        if (mainP95 != null && fallbackP95 != null && fallbackP95 > mainP95) {
            throw refuse(ErrorCode.VALIDATION_FAILED, "version " + fallback.version + " is slower than version "
                    + main.version + " by the plan's numbers (device p95 " + fallbackP95 + " ms > " + mainP95 + " ms)");
        }
        return fallback;
    }

    /** The upload a version descends from (its own number when it is one); a broken chain ends where it breaks. */
    private static long root(ModelVersionEntity v, LongFunction<ModelVersionEntity> version) {
        Set<Long> seen = new HashSet<>();
        ModelVersionEntity cur = v;
        while (cur.parentVersion != null && seen.add(cur.version)) {
            ModelVersionEntity parent = version.apply(cur.parentVersion);
            if (parent == null) {
                return cur.parentVersion;
            }
            cur = parent;
        }
        return cur.version;
    }

    /** {@code deviceP95Ms} of a lineage row's metrics JSON, or null. */
    static Double deviceP95(String metrics) {
        if (metrics == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(metrics).path("deviceP95Ms");
            return n.isNumber() ? n.asDouble() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static ApiException refuse(ErrorCode code, String message) {
        return new ApiException(code, "fallback.version: " + message,
                List.of(new ApiError.FieldError("fallback.version", message)), null);
    }
}
