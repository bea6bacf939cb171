package io.edgefleet.protocol.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which summary features are computed from which tensor, and how one value is computed from one
 * sample. The same code runs when the server builds a profile and when a device bins its inferences,
 * so both sides compute the same numbers.
 *
 * <p>Float inputs: the mean and standard deviation of each sample, per channel (axis 1) when the
 * tensor has rank 3 or more and at most {@link #MAX_CHANNELS} channels, else over the whole sample. A
 * rank-2 tensor {@code [batch, features]} has no channel axis worth the name (each "channel" would be
 * a single number with a standard deviation of 0), so it is summarised as a whole.
 * Integer inputs (token ids): the number of non-padding ids (id != 0) and the share of non-padding
 * ids outside the reference's common ids (the most frequent reference ids that together make up
 * {@link ProfileBuilder#COMMON_ID_COVERAGE} of its non-padding ids). Outputs: the first float output; a rank-2 output with 2 to
 * {@link #MAX_CLASSES} columns is taken as class scores (argmax class and top-1 probability, softmax
 * applied unless the row already is a distribution), anything else is summarised by its L2 norm.
 */
public record FeatureSpec(String name, FeatureProfile.Kind kind, String tensor, Integer channel, int classes) {
    public static final int MAX_CHANNELS = 16;
    public static final int MAX_CLASSES = 1000;
    /** Class scores with more columns than this get no class-distribution feature (too sparse per window). */
    public static final int MAX_CLASS_BINS = 64;
    /** Token id treated as padding. */
    public static final long PAD_ID = 0;

    public static FeatureSpec of(FeatureProfile p) {
        FeatureProfile.Kind k = p.kindEnum();
        int classes = k == FeatureProfile.Kind.CLASS ? p.edges().length - 1 : 0;
        return new FeatureSpec(p.name(), k, p.tensor(), p.channel(), classes);
    }

    /** The input features for these input tensors. */
    public static List<FeatureSpec> forInputs(List<TensorSample> inputs) {
        List<FeatureSpec> specs = new ArrayList<>();
        for (TensorSample t : inputs) {
            if (t.isFloat()) {
                int ch = channels(t);
                if (ch > 0) {
                    for (int c = 0; c < ch; c++) {
                        specs.add(new FeatureSpec(t.name() + ".c" + c + ".mean", FeatureProfile.Kind.MEAN, t.name(), c, 0));
                        specs.add(new FeatureSpec(t.name() + ".c" + c + ".std", FeatureProfile.Kind.STD, t.name(), c, 0));
                    }
                } else {
                    specs.add(new FeatureSpec(t.name() + ".mean", FeatureProfile.Kind.MEAN, t.name(), null, 0));
                    specs.add(new FeatureSpec(t.name() + ".std", FeatureProfile.Kind.STD, t.name(), null, 0));
                }
            } else {
                specs.add(new FeatureSpec(t.name() + ".length", FeatureProfile.Kind.LENGTH, t.name(), null, 0));
                specs.add(new FeatureSpec(t.name() + ".rare", FeatureProfile.Kind.RARE_SHARE, t.name(), null, 0));
            }
        }
        return specs;
    }

    /** The output features: class and confidence for class scores, norm otherwise; empty without a float output. */
    public static List<FeatureSpec> forOutputs(List<TensorSample> outputs) {
        for (TensorSample t : outputs) {
            if (!t.isFloat()) {
                continue;
            }
            int k = t.sampleLength();
            if (t.shape().length == 2 && k >= 2 && k <= MAX_CLASSES) {
                FeatureSpec confidence = new FeatureSpec("output.confidence", FeatureProfile.Kind.CONFIDENCE, t.name(), null, 0);
                if (k > MAX_CLASS_BINS) {
                    return List.of(confidence);
                }
                return List.of(new FeatureSpec("output.class", FeatureProfile.Kind.CLASS, t.name(), null, k), confidence);
            }
            return List.of(new FeatureSpec("output.norm", FeatureProfile.Kind.NORM, t.name(), null, 0));
        }
        return List.of();
    }

    /** Channels to summarise separately, or 0 for a whole-sample summary. */
    static int channels(TensorSample t) {
        long[] s = t.shape();
        if (s.length >= 3 && s[1] >= 1 && s[1] <= MAX_CHANNELS && t.sampleLength() % s[1] == 0) {
            return (int) s[1];
        }
        return 0;
    }

    /**
     * This feature's value for sample {@code i} of {@code t}; NaN when the tensor does not fit (wrong
     * type, too few samples). {@code commonIds} is used by {@code rare-share} only.
     */
    public double value(TensorSample t, int i, long[] commonIds) {
        if (t == null || i >= t.batch()) {
            return Double.NaN;
        }
        int n = t.sampleLength();
        int off = i * n;
        switch (kind) {
            case MEAN, STD -> {
                if (!t.isFloat() || n == 0) {
                    return Double.NaN;
                }
                int from = off;
                int len = n;
                if (channel != null) {
                    int ch = channels(t);
                    if (ch == 0 || channel >= ch) {
                        return Double.NaN;
                    }
                    len = n / ch;
                    from = off + channel * len;
                }
                double sum = 0;
                double sq = 0;
                float[] f = t.floats();
                for (int j = from; j < from + len; j++) {
                    sum += f[j];
                }
                double mean = sum / len;
                if (kind == FeatureProfile.Kind.MEAN) {
                    return mean;
                }
                for (int j = from; j < from + len; j++) {
                    double d = f[j] - mean;
                    sq += d * d;
                }
                return Math.sqrt(sq / len);
            }
            case LENGTH, RARE_SHARE -> {
                if (t.isFloat()) {
                    return Double.NaN;
                }
                long[] ids = t.longs();
                int length = 0;
                int rare = 0;
                for (int j = off; j < off + n; j++) {
                    if (ids[j] != PAD_ID) {
                        length++;
                        if (commonIds != null && Arrays.binarySearch(commonIds, ids[j]) < 0) {
                            rare++;
                        }
                    }
                }
                if (kind == FeatureProfile.Kind.LENGTH) {
                    return length;
                }
                return length == 0 ? 0.0 : (double) rare / length;
            }
            case CLASS, CONFIDENCE -> {
                if (!t.isFloat() || n < 2) {
                    return Double.NaN;
                }
                float[] f = t.floats();
                int best = off;
                for (int j = off + 1; j < off + n; j++) {
                    if (f[j] > f[best]) {
                        best = j;
                    }
                }
                if (kind == FeatureProfile.Kind.CLASS) {
                    return best - off;
                }
                return topProbability(f, off, n, f[best]);
            }
            case NORM -> {
                if (!t.isFloat()) {
                    return Double.NaN;
                }
                double sq = 0;
                float[] f = t.floats();
                for (int j = off; j < off + n; j++) {
                    sq += (double) f[j] * f[j];
                }
                return Math.sqrt(sq);
            }
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    /** Top-1 probability: the row itself when it is a distribution (probabilities), else its softmax. */
    static double topProbability(float[] f, int off, int n, float max) {
        double sum = 0;
        boolean distribution = true;
        for (int j = off; j < off + n; j++) {
            if (f[j] < 0 || f[j] > 1) {
                distribution = false;
            }
            sum += f[j];
        }
        if (distribution && Math.abs(sum - 1) < 1e-3) {
            return max;
        }
        double z = 0;
        for (int j = off; j < off + n; j++) {
            z += Math.exp(f[j] - max);
        }
        return 1.0 / z;
    }
}
