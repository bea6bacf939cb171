package io.edgefleet.engine.prune;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.ChannelAnalysis.Segment;
import io.edgefleet.engine.prune.ChannelAnalysis.Space;
import io.edgefleet.engine.recalib.LinearLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Predicts MACs, weight counts or latency after channel pruning without building the model: a layer's cost scales
 * with the fraction of its input channels kept times the fraction of its output channels kept (output only for a
 * depthwise convolution, whose per-channel cost does not depend on the other channels); any other node's time scales
 * with the fraction of the channels it carries. Latency comes from a {@link LatencyProfile} of the unpruned model.
 */
final class PruneCostModel {
    private record Node(String label, long macs, long params, double us, Space in, Space out, boolean layer,
            boolean depthwise) {
    }

    private final ChannelAnalysis analysis;
    private final List<Node> nodes = new ArrayList<>();
    private final double fixedUs;

    PruneCostModel(ChannelAnalysis analysis) {
        this(analysis, null);
    }

    PruneCostModel(ChannelAnalysis analysis, LatencyProfile profile) {
        this.analysis = analysis;
        this.fixedUs = profile == null ? 0 : profile.fixedUs();
        Graph g = analysis.model().edit();
        for (NodeProto n : g.nodes()) {
            String label = Graph.label(n);
            long m = ModelCost.macs(n, analysis.shapes());
            double us = profile == null ? 0 : profile.nodeUs().getOrDefault(label, 0.0);
            if (m == 0 && us == 0) {
                continue;
            }
            // Products of two activations (attention) cost MACs but hold no weights.
            boolean constant = m > 0 && n.getInputCount() >= 2 && g.isInitializer(n.getInput(1));
            TensorData w = constant ? g.initializer(n.getInput(1)) : null;
            boolean dw = constant && n.getOpType().equals("Conv") && LinearLayer.intAttr(n, "group", 1) > 1
                    && w.dim(1) == 1;
            Space in = n.getInputCount() > 0 ? analysis.spaces().get(n.getInput(0)) : null;
            Space out = n.getOutputCount() > 0 ? analysis.spaces().get(n.getOutput(0)) : null;
            nodes.add(new Node(label, m, constant ? w.elementCount() : 0, us, in, out, m > 0, dw));
        }
    }

    double base(BudgetAllocator.Measure measure) {
        return cost(measure, Map.of());
    }

    /** Predicted cost with {@code keep} channels per group root (absent groups keep all). */
    double cost(BudgetAllocator.Measure measure, Map<Integer, Integer> keep) {
        double total = measure == BudgetAllocator.Measure.LATENCY ? fixedUs : 0;
        for (Node n : nodes) {
            double weight = switch (measure) {
                case MACS -> n.macs;
                case PARAMS -> n.params;
                case LATENCY -> n.us;
            };
            if (weight != 0) {
                total += weight * scale(n, keep);
            }
        }
        return total;
    }

    double macs(Map<Integer, Integer> keep) {
        return cost(BudgetAllocator.Measure.MACS, keep);
    }

    private double scale(Node n, Map<Integer, Integer> keep) {
        if (!n.layer) {
            return n.out != null ? fraction(n.out, keep) : fraction(n.in, keep);
        }
        double fOut = fraction(n.out, keep);
        return n.depthwise ? fOut : fOut * fraction(n.in, keep);
    }

    private double fraction(Space s, Map<Integer, Integer> keep) {
        if (s == null) {
            return 1;
        }
        double kept = 0;
        for (Segment seg : s.segments()) {
            Integer k = keep.get(analysis.find(seg.atom()));
            kept += (k == null ? seg.count() : k) * (double) seg.inner();
        }
        return kept / s.width();
    }
}
