package io.edgefleet.engine.pipeline;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a pass did to one node, for the report.
 *
 * @param pass the pass that decided
 * @param node node name (or {@code OpType(output)} for unnamed nodes, see {@link io.edgefleet.engine.onnx.Graph#label})
 * @param opType the node's op type before the pass
 * @param action what happened, e.g. "int8-per-channel", "kept-float", "fp16"
 * @param reason why, in a few words (may be empty)
 * @param metrics numbers behind the decision (e.g. "sensitivity", "scale", "weightElements"), sorted by key
 */
public record LayerDecision(String pass, String node, String opType, String action, String reason,
        SortedMap<String, Double> metrics) {
    public LayerDecision {
        reason = reason == null ? "" : reason;
        metrics = Collections.unmodifiableSortedMap(new TreeMap<>(metrics == null ? java.util.Map.of() : metrics));
    }
}
