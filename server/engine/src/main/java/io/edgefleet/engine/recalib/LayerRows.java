package io.edgefleet.engine.recalib;

import io.edgefleet.engine.onnx.TensorData;
import java.util.Random;

/**
 * Cuts a layer's captured input (and a target for its output) into regression rows: one row per sample for a
 * Gemm, per token for a MatMul on a [batch, tokens, features] input, per sampled output position for a
 * convolution. Positions are sampled with a fixed seed per sample index, so repeated passes over the same data
 * choose the same rows.
 */
public final class LayerRows {
    /**
     * Receives one row: the dataset index of the sample it comes from, input features and (when a target was given)
     * the target values of the kept outputs.
     */
    @FunctionalInterface
    public interface Sink {
        void row(int sample, float[] x, float[] y);
    }

    private final LinearLayer layer;
    private final int maxPositions;
    private final long seed;

    /** @param maxPositionsPerSample convolution output positions used per sample (all when fewer) */
    public LayerRows(LinearLayer layer, int maxPositionsPerSample, long seed) {
        this.layer = layer;
        this.maxPositions = Math.max(1, maxPositionsPerSample);
        this.seed = seed;
    }

    /** Input features of a row for an input of this shape (Cin * kh * kw for a conv, the last dim otherwise). */
    public int features(long[] inputShape) {
        if (layer.isConv()) {
            return (int) inputShape[1] * layer.conv().kernelSize();
        }
        return (int) inputShape[inputShape.length - 1];
    }

    /**
     * @param input the layer's input for a batch
     * @param target the target at the layer's output for the same batch (channels already mapped), or null
     * @param firstSample dataset index of the batch's first sample (seeds the position sampling)
     */
    public void forEach(TensorData input, TensorData target, int firstSample, Sink sink) {
        float[] in = input.floats();
        long[] shape = input.shape();
        if (layer.isConv()) {
            if (layer.conv().group() != 1) {
                throw new IllegalStateException("layer " + layer.name() + " is a grouped convolution");
            }
            if (shape.length != 4) {
                throw new IllegalStateException("layer " + layer.name() + " input has rank " + shape.length);
            }
            int n = (int) shape[0];
            int c = (int) shape[1];
            int h = (int) shape[2];
            int w = (int) shape[3];
            Im2Col cols = new Im2Col(layer, c, h, w);
            int positions = cols.positions();
            float[] out = target == null ? null : target.floats();
            int outC = target == null ? 0 : (int) target.dim(1);
            if (target != null && target.dim(2) * target.dim(3) != positions) {
                throw new IllegalStateException("target of layer " + layer.name() + " has " + target.dim(2) + "x"
                        + target.dim(3) + " positions, the convolution produces " + cols.outHeight() + "x" + cols.outWidth());
            }
            float[] x = new float[cols.features()];
            float[] y = new float[outC];
            for (int s = 0; s < n; s++) {
                int[] chosen = choose(positions, firstSample + s);
                for (int p : chosen) {
                    cols.patch(in, s * c * h * w, p, x, 0);
                    if (out != null) {
                        int base = s * outC * positions + p;
                        for (int o = 0; o < outC; o++) {
                            y[o] = out[base + o * positions];
                        }
                    }
                    sink.row(firstSample + s, x, out == null ? null : y);
                }
            }
            return;
        }
        int f = (int) shape[shape.length - 1];
        int rows = in.length / f;
        float[] out = target == null ? null : target.floats();
        int outF = target == null ? 0 : (int) target.dim(target.rank() - 1);
        if (out != null && out.length / outF != rows) {
            throw new IllegalStateException("target of layer " + layer.name() + " has " + out.length / outF
                    + " rows, the input has " + rows);
        }
        float[] x = new float[f];
        float[] y = new float[outF];
        int perSample = Math.max(1, rows / (int) Math.max(1, shape[0]));
        for (int r = 0; r < rows; r++) {
            System.arraycopy(in, r * f, x, 0, f);
            if (out != null) {
                System.arraycopy(out, r * outF, y, 0, outF);
            }
            sink.row(firstSample + r / perSample, x, out == null ? null : y);
        }
    }

    private int[] choose(int positions, int sample) {
        if (positions <= maxPositions) {
            return AxisSlice.all(positions);
        }
        // Partial Fisher-Yates: an unbiased subset, the same for the same sample on every pass.
        int[] idx = AxisSlice.all(positions);
        Random r = new Random(seed * 1_000_003L + sample);
        for (int i = 0; i < maxPositions; i++) {
            int j = i + r.nextInt(positions - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] out = java.util.Arrays.copyOf(idx, maxPositions);
        java.util.Arrays.sort(out);
        return out;
    }
}
