package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QNodes.attr;
import static io.edgefleet.engine.quantize.QNodes.intAttr;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Optional;
import java.util.Set;

/**
 * Raises a model's default-domain opset (e.g. to 21 for block-wise int4 DequantizeLinear), rewriting the ops whose
 * signature changed on the way: attributes that became inputs (Squeeze/Unsqueeze/ReduceSum axes at 13, the other
 * Reduce* axes at 18, Split sizes at 13 and its output count at 18), and the Softmax family, whose axis meaning
 * changed at 13 (kept exact with a Flatten/Reshape pair where it matters). Ops whose meaning changed in a way that
 * cannot be rewritten blindly are refused with a reason rather than silently changed.
 */
final class OpsetUpgrade {
    private static final Set<String> REDUCE_18 = Set.of("ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
            "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare");
    private static final Set<String> SOFTMAX_13 = Set.of("Softmax", "LogSoftmax", "Hardmax");
    private static final Set<String> REFUSED = Set.of("Upsample", "GroupNormalization", "Scan");

    private OpsetUpgrade() {
    }

    /** Why the model cannot be raised to {@code target}, or empty when it can. */
    static Optional<String> blocker(OnnxModel model, int target) {
        int from = model.opsetVersion();
        if (from < 11) {
            return Optional.of("model opset " + from + " is below 11");
        }
        if (from >= target) {
            return Optional.empty();
        }
        return blocker(model.proto().getGraph(), from);
    }

    /** Rank of each Softmax-family input in the main graph, as ONNX Runtime infers it (absent when unknown). */
    private static java.util.Map<String, Integer> softmaxRanks(OnnxModel model) {
        java.util.Set<String> inputs = new java.util.LinkedHashSet<>();
        for (NodeProto n : model.proto().getGraph().getNodeList()) {
            if (SOFTMAX_13.contains(n.getOpType()) && n.getInputCount() > 0) {
                inputs.add(n.getInput(0));
            }
        }
        return inputs.isEmpty() ? java.util.Map.of() : Fp16Converter.inferRanks(model, inputs);
    }

    private static Optional<String> blocker(ai.onnx.proto.OnnxMl.GraphProto g, int from) {
        for (NodeProto n : g.getNodeList()) {
            if (!QNodes.defaultDomain(n)) {
                continue;
            }
            if (REFUSED.contains(n.getOpType())) {
                return Optional.of(n.getOpType() + " changed meaning between opset " + from + " and 21");
            }
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    Optional<String> b = blocker(a.getG(), from);
                    if (b.isPresent()) {
                        return b;
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The model at opset {@code target} (and an IR version that allows it). */
    static OnnxModel upgrade(OnnxModel model, int target) {
        int from = model.opsetVersion();
        if (from >= target) {
            return model;
        }
        Optional<String> b = blocker(model, target);
        if (b.isPresent()) {
            throw new IllegalArgumentException("cannot raise the opset to " + target + ": " + b.get());
        }
        Graph g = model.edit();
        rewrite(g, from, from < 13 ? softmaxRanks(model) : java.util.Map.of());
        ModelProto.Builder mb = g.toModel().proto().toBuilder();
        for (int i = 0; i < mb.getOpsetImportCount(); i++) {
            OperatorSetIdProto op = mb.getOpsetImport(i);
            if (op.getDomain().isEmpty() || op.getDomain().equals("ai.onnx")) {
                mb.setOpsetImport(i, op.toBuilder().setVersion(target));
            }
        }
        mb.setIrVersion(Math.max(mb.getIrVersion(), 10));
        return OnnxModel.of(mb.build());
    }

    private static void rewrite(Graph g, int from, java.util.Map<String, Integer> ranks) {
        for (NodeProto n : g.nodes()) {
            for (String attrName : Graph.subgraphAttributes(n)) {
                Graph body = g.subgraph(n, attrName);
                rewrite(body, from, java.util.Map.of());
                n = g.setSubgraph(n, attrName, body);
            }
            if (!QNodes.defaultDomain(n)) {
                continue;
            }
            String op = n.getOpType();
            if (from < 13 && SOFTMAX_13.contains(op)) {
                keepCoercedSoftmax(g, n, ranks.get(n.getInput(0)));
                continue;
            }
            boolean axesToInput = (from < 13 && (op.equals("Squeeze") || op.equals("Unsqueeze") || op.equals("ReduceSum")))
                    || (from < 18 && REDUCE_18.contains(op));
            if (axesToInput) {
                n = moveIntsToInput(g, n, "axes", 1);
            }
            if (op.equals("Split")) {
                if (from < 13) {
                    n = moveIntsToInput(g, n, "split", 1);
                }
                if (n.getInputCount() < 2 || n.getInput(1).isEmpty()) {
                    // opset 18 wants the output count spelled out when sizes are not given
                    g.replaceNode(n, n.toBuilder().addAttribute(intAttr("num_outputs", n.getOutputCount())).build());
                }
            }
        }
    }

    /**
     * Before opset 13 the Softmax family coerced its input to 2-D at {@code axis} and normalised over everything from
     * there on; from 13 on it normalises over that one axis. The two agree when the axis is the last one. Otherwise
     * (or when the rank is unknown) the old meaning is spelled out in opset-13 terms, exactly:
     * {@code Reshape(op(Flatten(x, axis), axis=1), Shape(x))}.
     */
    private static void keepCoercedSoftmax(Graph g, NodeProto n, Integer rank) {
        long axis = intAttr(n, "axis", 1);
        if (axis == -1 || (rank != null && axis == rank - 1)) {
            return;
        }
        String x = n.getInput(0);
        String base = Graph.label(n);
        String shape = g.uniqueName(base + "_in_shape");
        String flat = g.uniqueName(base + "_flat");
        String flatOut = g.uniqueName(base + "_flat_out");
        NodeProto shapeNode = QNodes.node("Shape", g.uniqueName(base + "_shape"), java.util.List.of(x),
                java.util.List.of(shape));
        NodeProto flatten = QNodes.node("Flatten", g.uniqueName(base + "_flatten"), java.util.List.of(x),
                java.util.List.of(flat)).toBuilder().addAttribute(intAttr("axis", axis)).build();
        NodeProto.Builder op = n.toBuilder().setInput(0, flat).setOutput(0, flatOut);
        for (int i = 0; i < op.getAttributeCount(); i++) {
            if (op.getAttribute(i).getName().equals("axis")) {
                op.removeAttribute(i);
                break;
            }
        }
        op.addAttribute(intAttr("axis", 1));
        NodeProto reshape = QNodes.node("Reshape", g.uniqueName(base + "_unflatten"), java.util.List.of(flatOut, shape),
                java.util.List.of(n.getOutput(0)));
        g.replaceNode(n, shapeNode, flatten, op.build(), reshape);
    }

    private static NodeProto moveIntsToInput(Graph g, NodeProto n, String name, int index) {
        Optional<AttributeProto> a = attr(n, name);
        if (a.isEmpty()) {
            return n;
        }
        long[] v = a.get().getIntsList().stream().mapToLong(Long::longValue).toArray();
        String init = g.uniqueName(Graph.label(n) + "_" + name);
        g.setInitializer(TensorData.ofInt64(init, new long[] {v.length}, v));
        NodeProto.Builder b = n.toBuilder();
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(name)) {
                b.removeAttribute(i);
                break;
            }
        }
        while (b.getInputCount() < index) {
            b.addInput("");
        }
        if (b.getInputCount() == index) {
            b.addInput(init);
        } else {
            b.setInput(index, init);
        }
        NodeProto out = b.build();
        g.replaceNode(n, out);
        return out;
    }
}
