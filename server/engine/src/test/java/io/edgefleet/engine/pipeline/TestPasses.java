package io.edgefleet.engine.pipeline;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.List;
import java.util.Map;

/** Small real passes for pipeline tests. */
final class TestPasses {
    private TestPasses() {
    }

    /** Relative size of the noise: 0 leaves the weights alone. */
    static final ParamSpec<Double> NOISE = ParamSpec.number("noise", "0.0", ParamSpec.Bounds.atLeast(0));

    /**
     * Adds Gaussian noise of relative size {@link #NOISE} (default 0.0) to every float initializer with more than
     * one element, recording one decision per touched initializer. With a large noise it ruins accuracy.
     */
    static Pass weightNoise() {
        return new Pass() {
            @Override
            public String name() {
                return "weight-noise";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext ctx) {
                double rel = ctx.get(NOISE);
                Graph g = model.edit();
                int i = 0;
                var names = g.initializerNames();
                for (String name : names) {
                    TensorData t = g.initializer(name);
                    if (t.type() != io.edgefleet.engine.onnx.ElemType.FLOAT || t.elementCount() < 2) {
                        continue;
                    }
                    float[] v = t.floats().clone();
                    float[] n = OnnxBuilder.randomNormal(1234 + i, v.length, 1f);
                    double maxAbs = 0;
                    for (float f : v) {
                        maxAbs = Math.max(maxAbs, Math.abs(f));
                    }
                    for (int k = 0; k < v.length; k++) {
                        v[k] += (float) (rel * maxAbs * n[k]);
                    }
                    g.setInitializer(TensorData.ofFloats(name, t.shape(), v));
                    String node = g.consumers(name).stream().findFirst().map(Graph::label).orElse(name);
                    String op = g.consumers(name).stream().findFirst().map(NodeProto::getOpType).orElse("?");
                    ctx.decide(node, op, "noised", "test pass", Map.of("relativeNoise", rel, "maxAbs", maxAbs));
                    ctx.progress((double) ++i / names.size(), name);
                }
                return g.toModel();
            }
        };
    }

    static Recipe noiseRecipe(double noise) {
        return Recipe.compression("test-noise", "test: weight noise", false,
                List.of(NOISE.withDefault(Double.toString(noise))), weightNoise());
    }
}
