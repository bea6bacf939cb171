package io.edgefleet.engine.lowrank;

import static io.edgefleet.engine.prune.PruneFixtures.assertClose;
import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.ModelCost;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LowRankFactorizerTest {

    /** A [rows x cols] matrix of exact rank {@code rank}: the sum of {@code rank} random outer products. */
    static float[] lowRank(int rows, int cols, int rank, long seed) {
        float[] u = OnnxBuilder.randomNormal(seed, rows * rank, 1f);
        float[] v = OnnxBuilder.randomNormal(seed + 1, rank * cols, 0.2f);
        float[] w = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int k = 0; k < rank; k++) {
                    s += u[i * rank + k] * v[k * cols + j];
                }
                w[i * cols + j] = (float) s;
            }
        }
        return w;
    }

    private static OnnxModel gemmAndMatMul() {
        return OnnxBuilder.model("lr").opset(17)
                .input("x", ElemType.FLOAT, "N", 64)
                .output("y", ElemType.FLOAT, "N", 40)
                .initializer(TensorData.ofFloats("g.w", new long[] {48, 64}, lowRank(48, 64, 6, 1)))
                .randomInitializer("g.b", new long[] {48}, 0.1f, 3)
                .initializer(TensorData.ofFloats("m.w", new long[] {48, 40}, lowRank(48, 40, 5, 4)))
                .randomInitializer("m.b", new long[] {40}, 0.1f, 6)
                .node("Gemm").name("g").in("x", "g.w", "g.b").out("h").attr("transB", 1).attr("alpha", 0.5f).add()
                .node("Relu").name("r").in("h").out("r.out").add()
                .node("MatMul").name("m").in("r.out", "m.w").out("mm").add()
                .node("Add").name("m_bias").in("mm", "m.b").out("y").add()
                .build();
    }

    @Test
    void exactlyLowRankLayersAreFactorizedWithoutChangingTheOutput() {
        OnnxModel m = gemmAndMatMul();
        LowRankFactorizer.Result r = LowRankFactorizer.factorize(m, LowRankFactorizer.Options.defaults()
                .withEnergy(0.99999), null, null);
        assertEquals(2, r.factorizedCount());
        LowRankFactorizer.LayerDecision g = r.layers().get(0);
        assertEquals(6, g.rank());
        assertEquals(6L * (48 + 64), g.weightsAfter());
        assertEquals(5, r.layers().get(1).rank());
        Dataset data = PruneFixtures.randomData(m, 8, 1);
        assertClose(outputs(m, data), outputs(r.model(), data), 2e-4);
        ModelCost before = ModelCost.of(m);
        ModelCost after = ModelCost.of(r.model());
        assertTrue(after.macs() < before.macs() / 3, before.macs() + " -> " + after.macs());
        assertTrue(after.parameters() < before.parameters() / 3);
        assertFalse(r.model().edit().isInitializer("g.w"), "the dense weights are gone");
    }

    @Test
    void fullRankLayersStayWithTheReason() {
        OnnxModel m = SampleModels.mlp(2);
        LowRankFactorizer.Result r = LowRankFactorizer.factorize(m,
                LowRankFactorizer.Options.defaults().withEnergy(0.999), null, null);
        assertEquals(0, r.factorizedCount());
        LowRankFactorizer.LayerDecision fc1 = r.layers().get(0);
        assertTrue(fc1.reason().contains("cheaper"), fc1.reason());
        assertEquals(m.sha256(), r.model().sha256());
        assertEquals("below the size limit", r.layers().get(1).reason());
    }

    @Test
    void dataAwareTruncationLosesLessOutputAtTheSameRank() {
        // Inputs concentrated in few directions: whitening tells the SVD which weight directions matter.
        OnnxModel m = OnnxBuilder.model("aware").opset(17)
                .input("x", ElemType.FLOAT, "N", 32).output("y", ElemType.FLOAT, "N", 32)
                .randomInitializer("w", new long[] {32, 32}, 0.3f, 1)
                .node("Gemm").name("fc").in("x", "w").out("y").attr("transB", 1).add()
                .build();
        float[] basis = OnnxBuilder.randomNormal(5, 4 * 32, 1f);
        float[] coef = OnnxBuilder.randomNormal(6, 400 * 4, 1f);
        float[] noise = OnnxBuilder.randomNormal(7, 400 * 32, 0.02f);
        float[] x = new float[400 * 32];
        for (int n = 0; n < 400; n++) {
            for (int j = 0; j < 32; j++) {
                double s = noise[n * 32 + j];
                for (int k = 0; k < 4; k++) {
                    s += coef[n * 4 + k] * basis[k * 32 + j];
                }
                x[n * 32 + j] = (float) s;
            }
        }
        Dataset data = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {400, 32}, x)), null, null);
        LowRankFactorizer.Options o = new LowRankFactorizer.Options(0.9, 0.8, 0, false, 400, 0).withRank(4);
        LowRankFactorizer.Result plain = LowRankFactorizer.factorize(m, o, null, null);
        LowRankFactorizer.Result aware = LowRankFactorizer.factorize(m, o.withDataAware(true), data, null);
        assertEquals(4, plain.layers().get(0).rank());
        assertEquals(4, aware.layers().get(0).rank());
        assertTrue(plain.layers().get(0).factorized() && aware.layers().get(0).factorized());
        float[] expected = outputs(m, data);
        double ePlain = relativeError(outputs(plain.model(), data), expected);
        double eAware = relativeError(outputs(aware.model(), data), expected);
        assertTrue(eAware < ePlain / 5, "data-aware " + eAware + " vs plain " + ePlain);
        assertThrows(IllegalArgumentException.class,
                () -> LowRankFactorizer.factorize(m, o.withDataAware(true), null, null));
    }
}
