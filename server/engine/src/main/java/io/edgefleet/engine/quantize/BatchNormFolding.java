package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QNodes.input;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Optional;

/**
 * Folds an inference-mode BatchNormalization into the Conv that feeds it:
 * {@code W' = W * gamma / sqrt(var + eps)} per output channel, {@code b' = (b - mean) * gamma / sqrt(var + eps) + beta}.
 * Quantizing first and normalizing after would quantize the wrong weights and leave a float op between two integer
 * kernels, so the static pass folds before it calibrates.
 */
final class BatchNormFolding {
    private BatchNormFolding() {
    }

    /** Folds every foldable Conv+BatchNormalization pair in the main graph; returns how many were folded. */
    static int fold(Graph g) {
        int folded = 0;
        for (NodeProto bn : g.nodes()) {
            if (!bn.getOpType().equals("BatchNormalization") || !QNodes.defaultDomain(bn) || bn.getOutputCount() != 1) {
                continue;
            }
            Optional<NodeProto> prod = g.producer(input(bn, 0));
            if (prod.isEmpty() || !prod.get().getOpType().equals("Conv") || !QNodes.defaultDomain(prod.get())) {
                continue;
            }
            NodeProto conv = prod.get();
            String convOut = conv.getOutput(0);
            if (g.consumers(convOut).size() != 1 || g.isGraphOutput(convOut)) {
                continue;
            }
            TensorData w = constFloat(g, input(conv, 1));
            TensorData gamma = constFloat(g, input(bn, 1));
            TensorData beta = constFloat(g, input(bn, 2));
            TensorData mean = constFloat(g, input(bn, 3));
            TensorData var = constFloat(g, input(bn, 4));
            String bName = input(conv, 2);
            TensorData b = bName.isEmpty() ? null : constFloat(g, bName);
            if (w == null || gamma == null || beta == null || mean == null || var == null || (!bName.isEmpty() && b == null)) {
                continue;
            }
            int cout = (int) w.dim(0);
            if (gamma.elementCount() != cout || beta.elementCount() != cout || mean.elementCount() != cout
                    || var.elementCount() != cout) {
                continue;
            }
            float eps = QNodes.floatAttr(bn, "epsilon", 1e-5f);
            float[] wf = w.floats().clone();
            float[] bf = new float[cout];
            int per = wf.length / cout;
            for (int c = 0; c < cout; c++) {
                double k = gamma.floats()[c] / Math.sqrt(var.floats()[c] + (double) eps);
                for (int i = c * per; i < (c + 1) * per; i++) {
                    wf[i] = (float) (wf[i] * k);
                }
                double bias = b == null ? 0 : b.floats()[c];
                bf[c] = (float) ((bias - mean.floats()[c]) * k + beta.floats()[c]);
            }
            String wn = g.uniqueName(input(conv, 1) + "_bnfolded");
            String bn2 = g.uniqueName((bName.isEmpty() ? Graph.label(conv) + "_bias" : bName) + "_bnfolded");
            g.setInitializer(TensorData.ofFloats(wn, w.shape(), wf));
            g.setInitializer(TensorData.ofFloats(bn2, new long[] {cout}, bf));
            NodeProto.Builder nb = conv.toBuilder().clearInput().addInput(input(conv, 0)).addInput(wn).addInput(bn2)
                    .setOutput(0, bn.getOutput(0));
            g.removeNode(bn);
            g.replaceNode(conv, nb.build());
            folded++;
        }
        if (folded > 0) {
            g.removeDeadNodes();
        }
        return folded;
    }

    private static TensorData constFloat(Graph g, String name) {
        if (name.isEmpty() || !g.isInitializer(name) || g.isGraphInput(name)) {
            return null;
        }
        TensorData t = g.initializer(name);
        return t.type() == ElemType.FLOAT ? t : null;
    }

}
