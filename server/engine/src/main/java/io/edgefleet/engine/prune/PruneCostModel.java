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
 * Predicts MACs and weight counts after channel pruning without building the model: each layer's cost scales with
 * the fraction of its input channels kept times the fraction of its output channels kept (output only for a
 * depthwise convolution, whose per-channel cost does not depend on the other channels).
 */
final class PruneCostModel {
    private record Layer(String label, long macs, long params, Space in, Space out, boolean depthwise) {
    }

    private final ChannelAnalysis analysis;
    private final List<Layer> layers = new ArrayList<>();
    private final long baseMacs;
    private final long baseParams;

    PruneCostModel(ChannelAnalysis analysis) {
        this.analysis = analysis;
        Graph g = analysis.model().edit();
        long macs = 0;
        long params = 0;
        for (NodeProto n : g.nodes()) {
            long m = ModelCost.macs(g, n, analysis.shapes());
            if (m == 0) {
                continue;
            }
            // Products of two activations (attention) cost MACs but hold no weights.
            boolean constant = n.getInputCount() >= 2 && g.isInitializer(n.getInput(1));
            TensorData w = constant ? g.initializer(n.getInput(1)) : null;
            boolean dw = constant && n.getOpType().equals("Conv") && LinearLayer.intAttr(n, "group", 1) > 1
                    && w.dim(1) == 1;
            Space in = analysis.spaces().get(n.getInput(0));
            Space out = analysis.spaces().get(n.getOutput(0));
            long p = constant ? w.elementCount() : 0;
            layers.add(new Layer(Graph.label(n), m, p, in, out, dw));
            macs += m;
            params += p;
        }
        this.baseMacs = macs;
        this.baseParams = params;
    }

    long baseMacs() {
        return baseMacs;
    }

    long baseParams() {
        return baseParams;
    }

    /** Predicted MACs per sample with {@code keep} channels per group root (absent groups keep all). */
    double macs(Map<Integer, Integer> keep) {
        double total = 0;
        for (Layer l : layers) {
            total += l.macs * scale(l, keep);
        }
        return total;
    }

    double params(Map<Integer, Integer> keep) {
        double total = 0;
        for (Layer l : layers) {
            total += l.params * scale(l, keep);
        }
        return total;
    }

    private double scale(Layer l, Map<Integer, Integer> keep) {
        double fOut = fraction(l.out, keep);
        return l.depthwise ? fOut : fOut * fraction(l.in, keep);
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
