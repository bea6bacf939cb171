package io.edgefleet.engine.prune;

import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.LinearLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Unstructured magnitude pruning: zero the smallest weights, per layer or by one global threshold, or N:M
 * semi-structured (keep the N largest of every M consecutive inputs of each output, e.g. 2:4). Shapes do not change:
 * the dense ONNX file is as large as before and ONNX Runtime's CPU kernels run no faster; what shrinks is the
 * compressed transfer size ({@link ModelCost#gzipBytes()}).
 */
public final class MagnitudePruner {
    private MagnitudePruner() {
    }

    public enum Scope { PER_LAYER, GLOBAL }

    /**
     * @param sparsity fraction of weights zeroed (ignored for N:M)
     * @param keepN with {@code groupM > 0}: keep this many of every {@code groupM} consecutive inputs
     * @param groupM 0 for unstructured
     * @param minWeights layers with fewer weights are left alone (tiny heads are not worth the damage)
     */
    public record Options(double sparsity, Scope scope, int keepN, int groupM, long minWeights) {
        public Options {
            if (groupM == 0 && !(sparsity >= 0 && sparsity < 1)) {
                throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
            }
            if (groupM < 0 || (groupM > 0 && (keepN < 1 || keepN >= groupM))) {
                throw new IllegalArgumentException("N:M needs 0 < N < M, got " + keepN + ":" + groupM);
            }
        }

        public static Options unstructured(double sparsity, Scope scope) {
            return new Options(sparsity, scope, 0, 0, 0);
        }

        public static Options nm(int n, int m) {
            return new Options(1.0 - (double) n / m, Scope.PER_LAYER, n, m, 0);
        }

        public Options withMinWeights(long n) {
            return new Options(sparsity, scope, keepN, groupM, n);
        }
    }

    /** Weights and zeros of one layer after pruning. */
    public record LayerSparsity(String layer, long weights, long zeros, String note) {
        public double sparsity() {
            return weights == 0 ? 0 : (double) zeros / weights;
        }
    }

    public record Result(OnnxModel model, List<LayerSparsity> layers) {
        public double sparsity() {
            long w = 0;
            long z = 0;
            for (LayerSparsity l : layers) {
                w += l.weights();
                z += l.zeros();
            }
            return w == 0 ? 0 : (double) z / w;
        }
    }

    /** Prunes every supported linear layer that {@code select} accepts (null: all). */
    public static Result prune(OnnxModel model, Options o, Predicate<LinearLayer> select) {
        Graph g = model.edit();
        List<LinearLayer> layers = new ArrayList<>();
        List<LayerSparsity> report = new ArrayList<>();
        for (LinearLayer l : LinearLayer.findAll(g)) {
            if (select != null && !select.test(l)) {
                continue;
            }
            long n = (long) l.outFeatures() * l.inFeatures();
            if (n < o.minWeights()) {
                report.add(new LayerSparsity(l.name(), n, count(l.weightMatrix(g)), "below the size limit"));
                continue;
            }
            if (LinearLayer.usesOf(g, l.weight()) != 1) {
                report.add(new LayerSparsity(l.name(), n, count(l.weightMatrix(g)), "weights shared with other nodes"));
                continue;
            }
            if (o.groupM() > 0 && l.inFeatures() % o.groupM() != 0) {
                report.add(new LayerSparsity(l.name(), n, count(l.weightMatrix(g)),
                        l.inFeatures() + " inputs are not a multiple of " + o.groupM()));
                continue;
            }
            layers.add(l);
        }
        boolean global = o.scope() == Scope.GLOBAL && o.groupM() == 0;
        float threshold = global ? globalThreshold(g, layers, o.sparsity()) : 0f;
        // Globally, everything below the threshold goes; weights equal to it fill up the exact count in layer order.
        long globalTarget = 0;
        long total = 0;
        for (LinearLayer l : layers) {
            total += (long) l.outFeatures() * l.inFeatures();
        }
        globalTarget = Math.round(o.sparsity() * total);
        long below = 0;
        if (global) {
            for (LinearLayer l : layers) {
                for (float v : l.weightMatrix(g)) {
                    below += Math.abs(v) < threshold ? 1 : 0;
                }
            }
        }
        long tiesLeft = globalTarget - below;
        for (LinearLayer l : layers) {
            float[] w = l.weightMatrix(g);
            if (o.groupM() > 0) {
                nm(w, l.outFeatures(), l.inFeatures(), o.keepN(), o.groupM());
            } else if (global) {
                for (int i = 0; i < w.length; i++) {
                    if (Math.abs(w[i]) < threshold) {
                        w[i] = 0f;
                    } else if (tiesLeft > 0 && Math.abs(w[i]) == threshold && w[i] != 0f) {
                        w[i] = 0f;
                        tiesLeft--;
                    }
                }
            } else {
                zeroBelow(w, kthMagnitude(w, (int) Math.round(o.sparsity() * w.length)),
                        Math.round(o.sparsity() * w.length));
            }
            l.write(g, w, null);
            report.add(new LayerSparsity(l.name(), w.length, count(w), ""));
        }
        return new Result(g.toModel(), report);
    }

    private static long count(float[] w) {
        long z = 0;
        for (float v : w) {
            if (v == 0f) {
                z++;
            }
        }
        return z;
    }

    /** The magnitude below which {@code k} weights fall (the k-th smallest |w|, 0-based k). */
    static float kthMagnitude(float[] w, int k) {
        if (k <= 0) {
            return -1f;
        }
        float[] a = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            a[i] = Math.abs(w[i]);
        }
        Arrays.sort(a);
        return a[Math.min(k, a.length) - 1];
    }

    /** Zeroes weights with |w| <= threshold, at most {@code limit} of them (ties at the threshold stop there). */
    private static void zeroBelow(float[] w, float threshold, long limit) {
        if (threshold < 0) {
            return;
        }
        long done = 0;
        for (int i = 0; i < w.length && done < limit; i++) {
            if (Math.abs(w[i]) < threshold) {
                w[i] = 0f;
                done++;
            }
        }
        for (int i = 0; i < w.length && done < limit; i++) {
            if (w[i] != 0f && Math.abs(w[i]) == threshold) {
                w[i] = 0f;
                done++;
            }
        }
    }

    private static float globalThreshold(Graph g, List<LinearLayer> layers, double sparsity) {
        int total = 0;
        for (LinearLayer l : layers) {
            total += l.outFeatures() * l.inFeatures();
        }
        float[] all = new float[total];
        int k = 0;
        for (LinearLayer l : layers) {
            for (float v : l.weightMatrix(g)) {
                all[k++] = v;
            }
        }
        return kthMagnitude(all, (int) Math.round(sparsity * total));
    }

    /** Keeps the {@code n} largest magnitudes of every {@code m} consecutive inputs of each row. */
    static void nm(float[] w, int rows, int cols, int n, int m) {
        Integer[] idx = new Integer[m];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c += m) {
                int base = r * cols + c;
                for (int i = 0; i < m; i++) {
                    idx[i] = i;
                }
                Arrays.sort(idx, (x, y) -> Float.compare(Math.abs(w[base + y]), Math.abs(w[base + x])));
                for (int i = n; i < m; i++) {
                    w[base + idx[i]] = 0f;
                }
            }
        }
    }
}
