package io.edgefleet.engine.quantize;

import io.edgefleet.engine.eval.OrtRunner;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs float and quantized models side by side in ONNX Runtime for the pass tests. */
final class QTestSupport {
    private QTestSupport() {
    }

    /** Random float feeds for every float input, batch dimension {@code batch}; symbolic dims other than the first = 1. */
    static Map<String, TensorData> randomFeeds(OnnxModel m, int batch, long seed) {
        Map<String, TensorData> feeds = new LinkedHashMap<>();
        int k = 0;
        for (ValueInfo in : m.inputs()) {
            long[] shape = new long[in.rank()];
            for (int i = 0; i < shape.length; i++) {
                ValueInfo.Dim d = in.dims().get(i);
                shape[i] = d.isStatic() ? d.value() : (i == 0 ? batch : 1);
            }
            int n = (int) TensorData.countOf(shape);
            feeds.put(in.name(), TensorData.ofFloats(in.name(), shape, OnnxBuilder.randomNormal(seed + k++, n, 1f)));
        }
        return feeds;
    }

    static List<float[]> run(OnnxModel m, Map<String, TensorData> feeds) throws Exception {
        try (OrtRunner s = OrtRunner.open(m)) {
            List<float[]> out = new ArrayList<>();
            s.run(feeds, m.outputs().stream().map(ValueInfo::name).toList()).values().forEach(t -> out.add(t.floats()));
            return out;
        }
    }

    /** max |a - b| / max |a| over all outputs. */
    static double relativeError(OnnxModel reference, OnnxModel candidate, Map<String, TensorData> feeds) throws Exception {
        List<float[]> a = run(reference, feeds);
        List<float[]> b = run(candidate, feeds);
        assertEquals(a.size(), b.size());
        double maxDiff = 0;
        double maxAbs = 1e-12;
        for (int o = 0; o < a.size(); o++) {
            assertEquals(a.get(o).length, b.get(o).length);
            for (int i = 0; i < a.get(o).length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a.get(o)[i] - b.get(o)[i]));
                maxAbs = Math.max(maxAbs, Math.abs(a.get(o)[i]));
            }
        }
        return maxDiff / maxAbs;
    }

    /** mean |a - b| / mean |a| over all outputs. */
    static double meanRelativeError(OnnxModel reference, OnnxModel candidate, Map<String, TensorData> feeds)
            throws Exception {
        List<float[]> a = run(reference, feeds);
        List<float[]> b = run(candidate, feeds);
        double diff = 0;
        double abs = 1e-12;
        for (int o = 0; o < a.size(); o++) {
            for (int i = 0; i < a.get(o).length; i++) {
                diff += Math.abs(a.get(o)[i] - b.get(o)[i]);
                abs += Math.abs(a.get(o)[i]);
            }
        }
        return diff / abs;
    }

    static int count(OnnxModel m, String op) {
        return m.opHistogram().getOrDefault(op, 0);
    }

    static TensorData initializerOf(OnnxModel m, String name) {
        return m.edit().initializer(name);
    }

    /** x[N,64] -> MatMul 64x128 -> Add -> Relu -> MatMul 128x32 -> Add -> y[N,32]. */
    static OnnxModel twoLayerMatMul(int opset) {
        return OnnxBuilder.model("two_layer").opset(opset)
                .input("x", ElemType.FLOAT, "N", 64)
                .output("y", ElemType.FLOAT, "N", 32)
                .heInitializer("w1", new long[] {64, 128}, 64, 11)
                .randomInitializer("b1", new long[] {128}, 0.1f, 12)
                .heInitializer("w2", new long[] {128, 32}, 128, 13)
                .randomInitializer("b2", new long[] {32}, 0.1f, 14)
                .node("MatMul").name("mm1").in("x", "w1").out("h1").add()
                .node("Add").name("add1").in("h1", "b1").out("a1").add()
                .node("Relu").name("relu").in("a1").out("r1").add()
                .node("MatMul").name("mm2").in("r1", "w2").out("h2").add()
                .node("Add").name("add2").in("h2", "b2").out("y").add()
                .build();
    }

    /** Attention-style projections: q, k, v = x W + b over one input, then concatenated. */
    static OnnxModel qkv(boolean biasOnAll) {
        OnnxBuilder b = OnnxBuilder.model("qkv").opset(17)
                .input("x", ElemType.FLOAT, "N", 8, 48)
                .output("y", ElemType.FLOAT, "N", 8, 144);
        for (String p : List.of("q", "k", "v")) {
            b.randomInitializer(p + ".w", new long[] {48, 48}, 0.2f, p.hashCode());
            b.node("MatMul").name(p + ".mm").in("x", p + ".w").out(p + ".h").add();
            if (biasOnAll || !p.equals("v")) {
                b.randomInitializer(p + ".b", new long[] {48}, 0.1f, p.hashCode() + 1);
                b.node("Add").name(p + ".add").in(p + ".h", p + ".b").out(p + ".out").add();
            } else {
                b.node("Relu").name(p + ".relu").in(p + ".h").out(p + ".out").add();
            }
        }
        return b.node("Concat").name("cat").in("q.out", "k.out", "v.out").out("y").attr("axis", -1).add().build();
    }
}
