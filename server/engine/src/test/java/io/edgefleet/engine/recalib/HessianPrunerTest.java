package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.prune.MagnitudePruner;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.Arrays;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class HessianPrunerTest {

    /** Inputs with strongly correlated features, where compensating pruned weights pays off. */
    private static DMatrixRMaj correlatedInputs(int n, int f, long seed) {
        Random r = new Random(seed);
        DMatrixRMaj x = new DMatrixRMaj(n, f);
        for (int i = 0; i < n; i++) {
            double common = r.nextGaussian();
            for (int j = 0; j < f; j++) {
                x.set(i, j, common * (1 + 0.1 * j) + 0.3 * r.nextGaussian());
            }
        }
        return x;
    }

    private static double outputError(DMatrixRMaj x, double[] w, double[] w2, int rows, int cols) {
        DMatrixRMaj d = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < w.length; i++) {
            d.data[i] = w[i] - w2[i];
        }
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, rows);
        CommonOps_DDRM.multTransB(x, d, y);
        double sq = 0;
        for (double v : y.data) {
            sq += v * v;
        }
        return sq;
    }

    @Test
    void obsUpdateBeatsMagnitudePruningAtTheSameSparsity() {
        int rows = 8;
        int cols = 16;
        DMatrixRMaj x = correlatedInputs(400, cols, 1);
        DMatrixRMaj h = new DMatrixRMaj(cols, cols);
        CommonOps_DDRM.multTransA(x, x, h);
        Random r = new Random(2);
        double[] w = new double[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextGaussian();
        }
        HessianPruner.Options o = new HessianPruner.Options(0.5, 0, 0, 5, 0.01, 1, false, 0, 0);
        double[] pruned = HessianPruner.sparseGpt(w, rows, cols, h, o);
        long zeros = Arrays.stream(pruned).filter(v -> v == 0).count();
        assertEquals(rows * cols / 2, zeros, "exactly half of the weights");
        float[] mag = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            mag[i] = (float) w[i];
        }
        // The same sparsity by magnitude alone, no compensation.
        float thr = sortedAbs(mag)[w.length / 2 - 1];
        double[] magnitude = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            magnitude[i] = Math.abs(w[i]) <= thr ? 0 : w[i];
        }
        double obs = outputError(x, w, pruned, rows, cols);
        double naive = outputError(x, w, magnitude, rows, cols);
        assertTrue(obs < 0.6 * naive, "OBS squared output error " + obs + " vs magnitude " + naive);
    }

    private static float[] sortedAbs(float[] w) {
        float[] a = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            a[i] = Math.abs(w[i]);
        }
        Arrays.sort(a);
        return a;
    }

    @Test
    void twoFourPatternKeepsTwoOfEveryFourInputs() {
        int rows = 6;
        int cols = 12;
        DMatrixRMaj x = correlatedInputs(200, cols, 3);
        DMatrixRMaj h = new DMatrixRMaj(cols, cols);
        CommonOps_DDRM.multTransA(x, x, h);
        double[] w = new double[rows * cols];
        Random r = new Random(4);
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextGaussian();
        }
        double[] p = HessianPruner.sparseGpt(w, rows, cols, h, new HessianPruner.Options(0.5, 2, 4, 8, 0.01, 1, false, 0,
                0));
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < cols; c += 4) {
                int nz = 0;
                for (int j = 0; j < 4; j++) {
                    nz += p[row * cols + c + j] != 0 ? 1 : 0;
                }
                assertEquals(2, nz, "row " + row + " group " + c / 4);
            }
        }
    }

    @Test
    void prunesAnMlpToHalfWithFarLessDamageThanMagnitudeAndTheModelRuns() {
        OnnxModel ref = SampleModels.mlp(11);
        Dataset calib = PruneFixtures.randomData(ref, 256, 1);
        Dataset check = PruneFixtures.randomData(ref, 200, 99);
        HessianPruner.Result r = HessianPruner.prune(ref, ref, calib, HessianPruner.Options.unstructured(0.5), null);
        assertEquals(2, r.layers().size());
        assertEquals(0.5, r.sparsity(), 1e-3);
        for (HessianPruner.LayerReport l : r.layers()) {
            assertEquals(0.5, l.sparsity(), 1e-2, l.layer());
            assertTrue(l.note().startsWith("masked refit") || l.note().startsWith("bias refit"), l.note());
        }
        Graph g = r.model().edit();
        assertEquals(32 * 64, g.initializer("fc1.weight").elementCount(), "dense storage: shapes do not change");
        OnnxModel mag = MagnitudePruner.prune(ref, MagnitudePruner.Options.unstructured(0.5,
                MagnitudePruner.Scope.PER_LAYER), null).model();
        float[] expected = outputs(ref, check);
        double hessian = relativeError(outputs(r.model(), check), expected);
        double magnitude = relativeError(outputs(mag, check), expected);
        assertTrue(hessian < magnitude / 3, "held-out error " + hessian + " vs magnitude " + magnitude);

        HessianPruner.Result plain = HessianPruner.prune(ref, ref, calib,
                HessianPruner.Options.unstructured(0.5).withReconstruct(false), null);
        assertEquals("bias re-centred", plain.layers().get(0).note());
        assertTrue(relativeError(outputs(plain.model(), check), expected) < magnitude);
    }

    /**
     * x[N,4,12] -> MatMul(12x16)+b -> Relu = r; y = r + (MatMul(16x16)+b)(r). The second layer joins the residual
     * stream r, which the first layer's pruning already changed.
     */
    static OnnxModel residualBlock() {
        return io.edgefleet.engine.onnx.OnnxBuilder.model("residual").opset(17)
                .input("x", io.edgefleet.engine.onnx.ElemType.FLOAT, "N", 4, 12)
                .output("y", io.edgefleet.engine.onnx.ElemType.FLOAT, "N", 4, 16)
                .heInitializer("w1", new long[] {12, 16}, 12, 21)
                .randomInitializer("b1", new long[] {16}, 0.05f, 22)
                .heInitializer("w2", new long[] {16, 16}, 16, 23)
                .randomInitializer("b2", new long[] {16}, 0.05f, 24)
                .node("MatMul").name("mm1").in("x", "w1").out("h1").add()
                .node("Add").name("add1").in("h1", "b1").out("a1").add()
                .node("Relu").name("relu1").in("a1").out("r").add()
                .node("MatMul").name("mm2").in("r", "w2").out("h2").add()
                .node("Add").name("add2").in("h2", "b2").out("a2").add()
                .node("Add").name("residual").in("r", "a2").out("y").add()
                .build();
    }

    @Test
    void residualTargetsLetALayerAbsorbTheStreamErrorOfEarlierLayers() {
        OnnxModel ref = residualBlock();
        Graph g = ref.edit();
        assertEquals("r", HessianPruner.residualInput(g, LeastSquaresReconstruction.findLayer(g, "mm2")));
        assertEquals(null, HessianPruner.residualInput(g, LeastSquaresReconstruction.findLayer(g, "mm1")),
                "mm1's output feeds a Relu, not a residual Add");
        Dataset calib = PruneFixtures.randomData(ref, 300, 4);
        Dataset check = PruneFixtures.randomData(ref, 200, 44);
        HessianPruner.Options o = HessianPruner.Options.unstructured(0.6);
        OnnxModel own = HessianPruner.prune(ref, ref, calib, o, null).model();
        OnnxModel stream = HessianPruner.prune(ref, ref, calib, o.withResidualTarget(true), null).model();
        float[] expected = outputs(ref, check);
        double ownError = relativeError(outputs(own, check), expected);
        double streamError = relativeError(outputs(stream, check), expected);
        assertTrue(streamError < 0.9 * ownError, "held-out error with residual target " + streamError + " vs "
                + ownError);
    }

    @Test
    void optionsRefuseImpossibleTargets() {
        assertThrows(IllegalArgumentException.class, () -> HessianPruner.Options.unstructured(1.0));
        assertThrows(IllegalArgumentException.class, () -> HessianPruner.Options.nm(4, 4));
        assertThrows(IllegalArgumentException.class, () -> MagnitudePruner.Options.nm(0, 4));
    }

    @Test
    void modelsWithControlFlowArePrunedOutsideTheBranchesAndStillRun() {
        OnnxModel ref = PruneFixtures.mlpWithIf(12);
        Dataset calib = PruneFixtures.randomData(ref, 64, 5);
        HessianPruner.Result r = HessianPruner.prune(ref, ref, calib, HessianPruner.Options.unstructured(0.5), null);
        assertEquals(2, r.layers().size());
        assertEquals(ref.edit().nodeByName("branch").orElseThrow(), r.model().edit().nodeByName("branch").orElseThrow(),
                "the If node and its bodies are untouched");
        assertEquals(64 * 8, outputs(r.model(), calib).length);
        OnnxModel mag = MagnitudePruner.prune(ref, MagnitudePruner.Options.nm(2, 4), null).model();
        assertEquals(ref.edit().nodeByName("branch").orElseThrow(), mag.edit().nodeByName("branch").orElseThrow());
        assertEquals(64 * 8, outputs(mag, calib).length);
    }
}
