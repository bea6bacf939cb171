package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.onnx.OnnxModel;
import java.util.List;
import java.util.Objects;

/**
 * Builds a recipe's deliberately crude reference: the same family of compression at the same target, without the
 * care the recipe takes (no recalibration, no data-aware choices, coarser scales). The job evaluates it next to the
 * variant on the same validation data, so a report shows how much the careful path buys and keeps that figure for
 * later decisions. Implementations must be deterministic (the report body is) and must not need more data than the
 * recipe itself.
 */
@FunctionalInterface
public interface AggressiveReference {

    /**
     * @param base the model the job started from
     * @param variant what the recipe's passes produced; a reference that matches an achieved figure (sparsity, ranks)
     *     reads it from here
     * @param variantDecisions the per-layer decisions of the recipe's passes
     * @param ctx the job's parameters and calibration data; decisions and notes recorded on it are not reported
     */
    Built build(OnnxModel base, OnnxModel variant, List<LayerDecision> variantDecisions, PassContext ctx);

    /**
     * @param model the reference, or null when it could not be built
     * @param description one line: what the reference is, or why there is none
     */
    record Built(OnnxModel model, String description) {
        public Built {
            Objects.requireNonNull(description, "description");
        }

        public static Built of(OnnxModel model, String description) {
            return new Built(Objects.requireNonNull(model, "model"), description);
        }

        /** No reference, and why (e.g. nothing in the model the recipe family can touch). */
        public static Built none(String why) {
            return new Built(null, why);
        }
    }
}
