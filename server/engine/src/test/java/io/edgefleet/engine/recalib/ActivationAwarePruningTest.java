package io.edgefleet.engine.recalib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.IntStream;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

/** Pruning the layer before an activation with the error counted after it. */
class ActivationAwarePruningTest {
    private static final int IN = 16;
    private static final int HIDDEN = 48;

    /**
     * x[N,16] -> MatMul(16x48) + b1 = z -> activation = a -> MatMul(48x8) = y; {@code a} is an output too. The bias
     * puts most units' pre-activations below zero, as in a trained feed-forward block.
     *
     * @param activation {@code erf} (GELU as exporters write it), {@code gelu} (the operator), {@code relu}, {@code tanh}
     */
    static OnnxModel ffn(String activation) {
        float[] b1 = OnnxBuilder.randomNormal(42, HIDDEN, 0.5f);
        for (int i = 0; i < HIDDEN; i++) {
            b1[i] -= 1.2f;
        }
        OnnxBuilder b = OnnxBuilder.model("ffn").opset(activation.equals("gelu") ? 20 : 17)
                .input("x", ElemType.FLOAT, "N", IN)
                .output("y", ElemType.FLOAT, "N", 8)
                .output("a", ElemType.FLOAT, "N", HIDDEN)
                .heInitializer("w1", new long[] {IN, HIDDEN}, IN, 41)
                .initializer("b1", new long[] {HIDDEN}, b1)
                .heInitializer("w2", new long[] {HIDDEN, 8}, HIDDEN, 43);
        b.node("MatMul").name("fc1").in("x", "w1").out("z0").add();
        b.node("Add").name("fc1_bias").in("z0", "b1").out("z").add();
        switch (activation) {
            case "erf" -> {
                b.initializer("sqrt2", new long[] {}, (float) Math.sqrt(2)).initializer("one", new long[] {}, 1f)
                        .initializer("half", new long[] {}, 0.5f);
                b.node("Div").in("z", "sqrt2").out("zs").add();
                b.node("Erf").in("zs").out("e").add();
                b.node("Add").in("e", "one").out("e1").add();
                b.node("Mul").in("z", "e1").out("ze").add();
                b.node("Mul").in("ze", "half").out("a").add();
            }
            case "gelu" -> b.node("Gelu").in("z").out("a").add();
            case "relu" -> b.node("Relu").in("z").out("a").add();
            default -> b.node("Tanh").in("z").out("a").add();
        }
        b.node("MatMul").name("fc2").in("a", "w2").out("y").add();
        return b.build();
    }

    /** Inputs driven by a few shared factors, so the features are correlated and compensation matters. */
    static Dataset inputs(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * IN];
        for (int i = 0; i < n; i++) {
            double f1 = r.nextGaussian();
            double f2 = r.nextGaussian();
            for (int j = 0; j < IN; j++) {
                x[i * IN + j] = (float) (f1 * Math.cos(j) + f2 * Math.sin(0.5 * j) + 0.4 * r.nextGaussian());
            }
        }
        return Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, IN}, x)), null, null);
    }

    private static LinearLayer fc1(Graph g) {
        return LinearLayer.findAll(g).stream().filter(l -> l.output().equals("z")).findFirst().orElseThrow();
    }

    @Test
    void theActivationAfterALayerIsRecognisedInEveryWrittenForm() {
        assertEquals(Optional.of(ActivationAwarePruning.Activation.GELU), follow(ffn("erf")));
        assertEquals(Optional.of(ActivationAwarePruning.Activation.GELU), follow(ffn("gelu")));
        assertEquals(Optional.of(ActivationAwarePruning.Activation.RELU), follow(ffn("relu")));
        assertEquals(Optional.empty(), follow(ffn("tanh")), "no slope known for Tanh: the usual path");
        // the pre-activation also read elsewhere: its error matters before the activation too
        Graph g = ffn("relu").edit();
        g.addNode(NodeProto.newBuilder().setOpType("Identity").addInput("z").addOutput("zz")
                .build());
        assertEquals(Optional.empty(), ActivationAwarePruning.following(g, fc1(g)));
    }

    @Test
    void layersWhosePerRowHessiansWouldNotFitInMemoryKeepTheUsualPath() {
        assertTrue(ActivationAwarePruning.fits(1536, 384), "MiniLM's FFN input");
        assertTrue(!ActivationAwarePruning.fits(4096, 1024), "4,096 rows of 1,025²: 16 GiB");
        assertTrue(!ActivationAwarePruning.fits(11008, 4096), "no int overflow on an LLM-sized layer");
    }

    private static Optional<ActivationAwarePruning.Activation> follow(OnnxModel m) {
        Graph g = m.edit();
        return ActivationAwarePruning.following(g, fc1(g));
    }

    @Test
    void geluSlopeMatchesAFiniteDifferenceOfGelu() {
        for (double z = -4; z <= 4; z += 0.25) {
            double h = 1e-4;
            double fd = (gelu(z + h) - gelu(z - h)) / (2 * h);
            assertEquals(fd, ActivationAwarePruning.Activation.GELU.slope(z), 1e-5, "slope at " + z);
        }
        assertEquals(0.8427007929, ActivationAwarePruning.erf(1), 2e-7);
    }

    private static double gelu(double z) {
        return 0.5 * z * (1 + ActivationAwarePruning.erf(z / Math.sqrt(2)));
    }

    @Test
    void eachEliminationStepCostsExactlyWhatTheRowLoses() {
        int f = 6;
        Random r = new Random(3);
        DMatrixRMaj x = new DMatrixRMaj(40, f + 1);
        for (int i = 0; i < 40; i++) {
            double common = r.nextGaussian();
            for (int j = 0; j < f; j++) {
                x.set(i, j, common + 0.5 * r.nextGaussian());
            }
            x.set(i, f, 1);
        }
        DMatrixRMaj h = new DMatrixRMaj(f + 1, f + 1);
        CommonOps_DDRM.multTransA(x, x, h);
        double[] b = new double[f + 1];
        for (int i = 0; i < 40; i++) {
            double y = 0.7 * x.get(i, 0) - 1.3 * x.get(i, 3) + 0.2 * x.get(i, 5) + 0.1 * r.nextGaussian();
            for (int j = 0; j <= f; j++) {
                b[j] += x.get(i, j) * y;
            }
        }
        double lambda = 0.05;
        ActivationAwarePruning.Elimination e = ActivationAwarePruning.eliminate(h, b, lambda, f);
        boolean[] dropped = new boolean[f];
        double before = bestObjective(h, b, dropped, lambda);
        for (int step = 0; step < f; step++) {
            dropped[e.order()[step]] = true;
            double after = bestObjective(h, b, dropped, lambda);
            assertEquals(after - before, e.costs()[step], 1e-9 * Math.max(1, Math.abs(after)), "step " + step);
            // greedy: no other single weight left would have cost less at this step
            for (int q = 0; q < f; q++) {
                if (!dropped[q]) {
                    dropped[q] = true;
                    boolean[] alt = dropped.clone();
                    alt[e.order()[step]] = false;
                    assertTrue(bestObjective(h, b, alt, lambda) - before >= e.costs()[step] - 1e-9,
                            "step " + step + ": dropping " + q + " instead would have been cheaper");
                    dropped[q] = false;
                }
            }
            before = after;
        }
    }

    /** min over w with the dropped columns at zero of wᵀ(H + λI)w − 2wᵀb, by brute-force solve. */
    private static double bestObjective(DMatrixRMaj h, double[] b, boolean[] dropped, double lambda) {
        int n = b.length;
        int[] keep = IntStream.range(0, n).filter(i -> i == n - 1 || !dropped[i]).toArray();
        DMatrixRMaj a = new DMatrixRMaj(keep.length, keep.length);
        DMatrixRMaj rhs = new DMatrixRMaj(keep.length, 1);
        for (int i = 0; i < keep.length; i++) {
            for (int j = 0; j < keep.length; j++) {
                a.set(i, j, h.get(keep[i], keep[j]) + (i == j ? lambda : 0));
            }
            rhs.set(i, 0, b[keep[i]]);
        }
        DMatrixRMaj w = new DMatrixRMaj(keep.length, 1);
        CommonOps_DDRM.solve(a, rhs, w);
        double v = 0;
        for (int i = 0; i < keep.length; i++) {
            v -= w.get(i, 0) * rhs.get(i, 0);
        }
        return v;
    }

    @Test
    void cheapestStepsOverAllRowsAreTakenAsPrefixesOfEachRow() {
        double[][] steps = {{1, 5, 2, 9}, {3, 4, 10, 11}, {0.5, 0.6, 0.7, 20}};
        // row 0's envelope is 1, 5, 5, 9: its third step (cost 2) waits for its second
        int[] perRow = ActivationAwarePruning.allocate(steps, 6, 0, 4);
        assertEquals(6, perRow[0] + perRow[1] + perRow[2]);
        assertEquals(1, perRow[0]);
        assertEquals(2, perRow[1]);
        assertEquals(3, perRow[2]);
        // bounds: every row at least 2, at most 2 of its steps
        assertArrayEquals(new int[] {2, 2, 2}, ActivationAwarePruning.allocate(steps, 6, 2, 2));
        // at least 1, at most 2: row 2 stops at 2, row 0 takes its second step (5) before row 1's third (10)
        assertArrayEquals(new int[] {2, 2, 2}, ActivationAwarePruning.allocate(steps, 6, 1, 2));
        assertArrayEquals(new int[] {1, 2, 2}, ActivationAwarePruning.allocate(steps, 5, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> ActivationAwarePruning.allocate(steps, 7, 1, 2));
    }

    @Test
    void countingTheErrorAfterTheActivationLowersIt() {
        for (String act : List.of("erf", "relu")) {
            OnnxModel m = ffn(act);
            Dataset calib = inputs(600, 5);
            Dataset check = inputs(400, 6);
            HessianPruner.Options o = HessianPruner.Options.unstructured(0.5).withMaxSamples(600);
            HessianPruner.Result plain = HessianPruner.prune(m, m, calib, o, l -> l.output().equals("z"));
            HessianPruner.Result aware = HessianPruner.prune(m, m, calib, o.withActivationAware(true),
                    l -> l.output().equals("z"));
            assertTrue(aware.layers().get(0).note().startsWith("activation-aware"), aware.layers().get(0).note());
            assertTrue(plain.layers().get(0).note().contains("refit"), plain.layers().get(0).note());
            for (HessianPruner.Result res : List.of(plain, aware)) {
                float[] w = fc1(res.model().edit()).weightMatrix(res.model().edit());
                assertEquals(IN * HIDDEN / 2, IntStream.range(0, w.length).filter(i -> w[i] == 0)
                        .count(), "exactly half of fc1's weights are zero");
            }
            double plainErr = postActivationError(m, plain.model(), check);
            double awareErr = postActivationError(m, aware.model(), check);
            assertTrue(awareErr < 0.8 * plainErr, act + ": error after the activation on unseen inputs, aware "
                    + awareErr + " vs plain " + plainErr);
        }
    }

    /** ||a - a_float||² / ||a_float||² on {@code data}, both models run in ONNX Runtime. */
    private static double postActivationError(OnnxModel reference, OnnxModel pruned, Dataset data) {
        float[] ref;
        float[] out;
        try (OrtRunner r = OrtRunner.open(reference); OrtRunner p = OrtRunner.open(pruned)) {
            ref = r.run(data.feeds(reference, 0, data.size()), List.of("a")).get("a").floats();
            out = p.run(data.feeds(pruned, 0, data.size()), List.of("a")).get("a").floats();
        }
        return PruneFixtures.relativeError(out, ref);
    }
}
