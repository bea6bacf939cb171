package io.edgefleet.engine.eval;

import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import io.edgefleet.protocol.LatencyStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Measures a variant against its base model with ONNX Runtime: accuracy (top-1 with labels, otherwise fidelity to the
 * base), per cohort; static size and compute; interleaved batch-1 latency.
 */
public final class Evaluator {

    /**
     * @param threads intra-op threads for every session (quality and latency)
     * @param batchSize samples per run when computing quality (capped by the model's inputs)
     * @param latencyWarmup untimed runs per model before measuring
     * @param latencyRuns timed runs per model
     * @param outputName the output to compare, or null for the model's first output
     */
    public record Options(int threads, int batchSize, int latencyWarmup, int latencyRuns, String outputName) {
        public Options {
            if (threads < 1 || batchSize < 1 || latencyWarmup < 0 || latencyRuns < 1) {
                throw new IllegalArgumentException("threads, batchSize and latencyRuns must be >= 1, warm-up >= 0");
            }
        }

        public static Options defaults() {
            return new Options(1, 32, 10, 100, null);
        }

        public Options withThreads(int t) {
            return new Options(t, batchSize, latencyWarmup, latencyRuns, outputName);
        }

        public Options withLatencyRuns(int warmup, int runs) {
            return new Options(threads, batchSize, warmup, runs, outputName);
        }

        public Options withOutput(String name) {
            return new Options(threads, batchSize, latencyWarmup, latencyRuns, name);
        }

        OrtRunner.Options runtime() {
            return OrtRunner.Options.defaults().withThreads(threads);
        }
    }

    private final Options options;

    public Evaluator(Options options) {
        this.options = options;
    }

    public Options options() {
        return options;
    }

    /**
     * Runs both models over every sample and compares their outputs.
     *
     * @throws EngineException when the two models' outputs do not line up (different names or sizes)
     */
    public Quality compare(OnnxModel base, OnnxModel variant, Dataset data, Progress progress) {
        data.validateFor(base);
        data.validateFor(variant);
        String output = options.outputName() != null ? options.outputName() : base.outputs().get(0).name();
        if (base.outputs().stream().noneMatch(o -> o.name().equals(output))) {
            throw new io.edgefleet.engine.BadInputException("model has no output '" + output + "'; outputs are "
                    + base.outputs().stream().map(ValueInfo::name).toList());
        }
        if (variant.outputs().stream().noneMatch(o -> o.name().equals(output))) {
            throw new EngineException("the variant lost output '" + output + "'");
        }
        Accumulator overall = new Accumulator(null, data.hasLabels());
        Map<Long, Accumulator> cohorts = new TreeMap<>();
        int batch = Math.min(data.batchLimit(base, options.batchSize()), data.batchLimit(variant, options.batchSize()));
        try (OrtRunner b = OrtRunner.open(base, options.runtime()); OrtRunner v = OrtRunner.open(variant,
                options.runtime())) {
            for (int from = 0; from < data.size(); from += batch) {
                int to = Math.min(data.size(), from + batch);
                TensorData bo = b.run(data.feeds(base, from, to), List.of(output)).get(output);
                TensorData vo = v.run(data.feeds(variant, from, to), List.of(output)).get(output);
                int count = to - from;
                float[][] bRows = rows(bo, count, "base");
                float[][] vRows = rows(vo, count, "variant");
                boolean integerOutput = bo.type().isInteger();
                for (int i = 0; i < count; i++) {
                    int s = from + i;
                    Long label = data.hasLabels() ? data.label(s) : null;
                    overall.add(bRows[i], vRows[i], integerOutput, label);
                    if (data.hasCohorts()) {
                        long c = data.cohort(s);
                        cohorts.computeIfAbsent(c, k -> new Accumulator(k, data.hasLabels()))
                                .add(bRows[i], vRows[i], integerOutput, label);
                    }
                }
                progress.report((double) to / data.size(), "compared " + to + "/" + data.size() + " samples");
            }
        }
        List<Quality.Slice> slices = new ArrayList<>();
        for (Accumulator a : cohorts.values()) {
            slices.add(a.slice());
        }
        return new Quality(data.hasLabels(), output, overall.slice(), slices);
    }

    /** Splits a batch output into one flattened row per sample. */
    private static float[][] rows(TensorData t, int count, String which) {
        float[] all = t.toFloatArray();
        long[] shape = t.shape();
        if (count > 1 && (shape.length == 0 || shape[0] != count)) {
            throw new EngineException("the " + which + " output " + java.util.Arrays.toString(shape)
                    + " has no batch axis of " + count + "; evaluate with batch size 1");
        }
        int per = all.length / count;
        float[][] rows = new float[count][];
        for (int i = 0; i < count; i++) {
            rows[i] = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
        }
        return rows;
    }

    /** Class index: the value itself for an integer output of one element, otherwise the arg max. */
    static long predictedClass(float[] row, boolean integerOutput) {
        if (integerOutput && row.length == 1) {
            return (long) row[0];
        }
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best] || (Float.isNaN(row[best]) && !Float.isNaN(row[i]))) {
                best = i;
            }
        }
        return best;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        if (na == 0 && nb == 0) {
            return 1; // both all-zero: identical
        }
        if (na == 0 || nb == 0) {
            return 0;
        }
        return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
    }

    private static final class Accumulator {
        final Long cohort;
        final boolean labeled;
        int n;
        int baseCorrect;
        int variantCorrect;
        int agree;
        double cosineSum;
        double worstCosine = 1;
        double maxAbs;
        int nonFinite;

        Accumulator(Long cohort, boolean labeled) {
            this.cohort = cohort;
            this.labeled = labeled;
        }

        void add(float[] base, float[] variant, boolean integerOutput, Long label) {
            if (base.length != variant.length) {
                throw new EngineException("base and variant outputs differ in size: " + base.length + " vs "
                        + variant.length);
            }
            n++;
            boolean finite = true;
            double worst = 0;
            for (int i = 0; i < base.length; i++) {
                if (!Float.isFinite(variant[i])) {
                    finite = false;
                    break;
                }
                worst = Math.max(worst, Math.abs((double) base[i] - variant[i]));
            }
            long pb = predictedClass(base, integerOutput);
            long pv = predictedClass(variant, integerOutput);
            if (!finite) {
                // A NaN/inf output is a wrong answer with zero similarity, never a silent pass.
                nonFinite++;
                worstCosine = Math.min(worstCosine, 0);
                maxAbs = Double.POSITIVE_INFINITY;
                if (labeled && pb == label) {
                    baseCorrect++;
                }
                return;
            }
            double c = cosine(base, variant);
            cosineSum += c;
            worstCosine = Math.min(worstCosine, c);
            maxAbs = Math.max(maxAbs, worst);
            if (pb == pv) {
                agree++;
            }
            if (labeled) {
                if (pb == label) {
                    baseCorrect++;
                }
                if (pv == label) {
                    variantCorrect++;
                }
            }
        }

        Quality.Slice slice() {
            return new Quality.Slice(cohort, n, labeled ? (double) baseCorrect / n : null,
                    labeled ? (double) variantCorrect / n : null, (double) agree / n, cosineSum / n, worstCosine,
                    maxAbs, nonFinite);
        }
    }

    // ---------------------------------------------------------------- static figures

    /** Size, parameters and MACs, with shapes from one batch-1 run on {@code sample} (synthetic if null). */
    public ModelStats stats(OnnxModel model, Map<String, TensorData> sample) {
        Map<String, TensorData> feeds = sample != null ? sample : OrtRunner.syntheticFeeds(model);
        return ModelStats.of(model, OrtRunner.probeShapes(model, feeds, options.runtime()));
    }

    /** The first sample of a dataset shaped as a batch-1 feed for the model. */
    public static Map<String, TensorData> firstSample(OnnxModel model, Dataset data) {
        return data.feeds(model, 0, 1);
    }

    // ---------------------------------------------------------------- latency

    /** Timed runs of one model in a row before the other model takes its turn. */
    static final int LATENCY_BLOCK = 10;

    /**
     * Interleaved batch-1 latency in blocks: one model runs once untimed and then up to {@link #LATENCY_BLOCK} timed
     * times, then the other model does the same, the order alternating from block to block. Alternating every single
     * run would make each run find the other model's weights in the caches, which penalises the smaller model and is
     * not how a device serving one model runs; blocks keep the caches warm while machine noise (other processes,
     * frequency changes) still hits both models alike. A run the measuring thread spent partly waiting for a core is
     * timed again (see {@link #timed}): the figure is the model's on a core, not the server's queue for one.
     */
    public Latency latency(OnnxModel base, OnnxModel variant, Map<String, TensorData> sample, Progress progress) {
        Histogram hb = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        Histogram hv = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        try (OrtRunner b = OrtRunner.open(base, options.runtime());
                OrtRunner v = OrtRunner.open(variant, options.runtime());
                OrtRunner.Prepared pb = b.prepare(sample);
                OrtRunner.Prepared pv = v.prepare(sample)) {
            for (int i = 0; i < options.latencyWarmup(); i++) {
                b.runPrepared(pb);
                v.runPrepared(pv);
            }
            int runs = options.latencyRuns();
            int done = 0;
            for (int block = 0; done < runs; block++) {
                int n = Math.min(LATENCY_BLOCK, runs - done);
                if (block % 2 == 0) {
                    timedBlock(b, pb, hb, n);
                    timedBlock(v, pv, hv, n);
                } else {
                    timedBlock(v, pv, hv, n);
                    timedBlock(b, pb, hb, n);
                }
                done += n;
                progress.report((double) done / runs, "latency run " + done + "/" + runs);
            }
        }
        return new Latency(options.threads(), options.latencyRuns(), stats(hb), stats(hv));
    }

    private void timedBlock(OrtRunner r, OrtRunner.Prepared p, Histogram h, int n) {
        r.runPrepared(p); // the first run after the other model refills the caches: not timed
        for (int i = 0; i < n; i++) {
            h.recordValue(timed(r, p));
        }
    }

    /** Times of one run the measuring thread may repeat when it was off its core (see {@link #waitedForCore}). */
    static final int MAX_TIMED_ATTEMPTS = 5;

    /**
     * One timed run, wall clock. With one intra-op thread ONNX Runtime computes on the calling thread, so the run's
     * wall time minus that thread's CPU time is time the run spent waiting for a core: on a shared server (a build
     * machine, other jobs) a run of a fraction of a millisecond that is descheduled once takes milliseconds, and the p95
     * of a few dozen runs then measures the server's queue rather than the model. Such a run is repeated, up to
     * {@link #MAX_TIMED_ATTEMPTS} attempts (the last is kept whatever it measured). With more intra-op threads the
     * calling thread's CPU time is not the run's, so every run counts as measured.
     */
    private long timed(OrtRunner r, OrtRunner.Prepared p) {
        long wall = 0;
        for (int attempt = 1; attempt <= MAX_TIMED_ATTEMPTS; attempt++) {
            long c0 = options.threads() == 1 ? ThreadCpu.nanos() : -1;
            long t0 = System.nanoTime();
            r.runPrepared(p);
            wall = System.nanoTime() - t0;
            if (c0 < 0 || !waitedForCore(wall, ThreadCpu.nanos() - c0)) {
                break;
            }
        }
        return Math.min(wall, TimeUnit.SECONDS.toNanos(60));
    }

    /**
     * Whether a single-threaded run of {@code wallNanos} during which the calling thread used {@code cpuNanos} of CPU
     * spent a significant part waiting for a core: more than a quarter of the run and more than 20 µs (below that the
     * two clocks' granularity and a page fault or two decide). False when the CPU time is unknown (0 or negative).
     */
    static boolean waitedForCore(long wallNanos, long cpuNanos) {
        if (cpuNanos <= 0) {
            return false;
        }
        long waited = wallNanos - cpuNanos;
        return waited > 20_000 && waited > wallNanos / 4;
    }

    private static LatencyStats stats(Histogram h) {
        double ms = 1e6;
        return new LatencyStats(h.getValueAtPercentile(50) / ms, h.getValueAtPercentile(95) / ms,
                h.getValueAtPercentile(99) / ms, h.getMaxValue() / ms, h.getMean() / ms);
    }
}
