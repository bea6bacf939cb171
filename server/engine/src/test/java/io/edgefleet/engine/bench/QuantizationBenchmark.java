package io.edgefleet.engine.bench;

import ai.onnxruntime.OrtException;
import io.edgefleet.engine.TestFixtures;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.quantize.ActivationSmoothing;
import io.edgefleet.engine.quantize.DynamicInt8Quantizer;
import io.edgefleet.engine.quantize.Fp16Converter;
import io.edgefleet.engine.quantize.Int4WeightOnlyQuantizer;
import io.edgefleet.engine.quantize.MixedPrecisionQuantizer;
import io.edgefleet.engine.quantize.StaticInt8Quantizer;
import io.edgefleet.engine.quantize.calib.Calibrator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * One-command benchmark of the quantization passes (run with {@code -Pbench}, see server/engine/pom.xml). Every
 * ratio is measured side by side in one run: sessions are single-threaded, batch 1, and timed interleaved (each
 * round runs every variant on the same sample, rotating the order) so machine noise hits all variants alike.
 *
 * <p>System properties: {@code bench.digits} (fixture directory, default: the shared fixtures beside the
 * repository), {@code bench.rounds} (alternating rounds, default 5), {@code bench.steadyRounds} (default 11), and
 * {@code bench.only}: comma-separated, case-insensitive parts of variant names; when set, only the variants whose
 * name contains one of them are built and measured, beside the float32 model every table compares with, and a
 * section left with nothing else is skipped. {@code -Dbench.only=gptq} runs just MiniLM's two GPTQ rows,
 * {@code -Dbench.only=int4} every int4 row.
 */
public final class QuantizationBenchmark {
    private static final Path DIGITS = System.getProperty("bench.digits") != null
            ? Path.of(System.getProperty("bench.digits")) : TestFixtures.digits();
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
    /** Steady-state rounds: each is one block per model, so more of them are needed for a stable median. */
    private static final int STEADY_ROUNDS = Integer.getInteger("bench.steadyRounds", 11);
    private static final List<String> ONLY = Arrays.stream(System.getProperty("bench.only", "").split(","))
            .map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        for (String m : List.of("mlp", "resnet")) {
            digits(m);
        }
        minilm();
    }

    // ------------------------------------------------------------------ digits

    record Variant(String name, OnnxModel model, double seconds, String note) {
    }

    /** Whether {@code bench.only} (if set) asks for the variant of this name. */
    static boolean selected(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return ONLY.isEmpty() || ONLY.stream().anyMatch(n::contains);
    }

    /** The variant, made and timed, or null when it failed or {@code bench.only} leaves it out. */
    static Variant timed(String name, Supplier<OnnxModel> make, String note) {
        if (!selected(name)) {
            return null;
        }
        long t0 = System.nanoTime();
        try {
            OnnxModel m = make.get();
            return new Variant(name, m, (System.nanoTime() - t0) / 1e9, note);
        } catch (RuntimeException e) {
            System.out.println("  " + name + " FAILED: " + e);
            return null;
        }
    }

    static void digits(String which) throws Exception {
        OnnxModel f = OnnxModel.read(DIGITS.resolve("digits-" + which + ".onnx"));
        Dataset calib = Dataset.fromNpz(DIGITS.resolve("digits-" + which + "-calibration.npz"));
        Dataset val = Dataset.fromNpz(DIGITS.resolve("digits-" + which + "-validation.npz"));
        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("float32", f, 0, ""));
        vs.add(timed("dynamic-int8", () -> new DynamicInt8Quantizer().quantize(f).model(), ""));
        for (Calibrator.Method m : Calibrator.Method.values()) {
            vs.add(timed("static-int8-" + m.name().toLowerCase(), () -> new StaticInt8Quantizer(
                    StaticInt8Quantizer.Options.of(m)).quantize(f, calib).model(), "gate"));
        }
        vs.add(timed("fp16", () -> new Fp16Converter().convert(f).model(), ""));
        vs.add(timed("fp16-storage", () -> Fp16Converter.storageOnly().convert(f).model(), ""));
        vs.add(timed("int4-weight-only-b32", () -> new Int4WeightOnlyQuantizer(32).quantize(f).model(), ""));
        vs.add(timed("mixed-precision", () -> new MixedPrecisionQuantizer(Calibrator.Method.ENTROPY, 0.005, 256)
                .quantize(f, calib, x -> { }).quantization().model(), ""));
        vs.removeIf(v -> v == null);
        if (vs.size() == 1) {
            return; // bench.only left nothing to compare with float32
        }
        System.out.printf("%n## digits-%s (%d validation samples, cohorts %s)%n%n", which, val.size(),
                val.cohortSizes());

        Map<String, Accuracy> acc = new LinkedHashMap<>();
        for (Variant v : vs) {
            acc.put(v.name, accuracy(v.model, val));
        }
        double[] lat = latencies(vs.stream().map(Variant::model).toList(), val, Math.min(val.size(), 200));
        Accuracy base = acc.get("float32");
        System.out.println("| variant | top-1 % | delta pts | worst cohort delta pts | size bytes | size ratio | "
                + "latency us (b=1) | speedup | gate (<=0.5 pt, cohort <=1 pt) | quantize s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < vs.size(); i++) {
            Variant v = vs.get(i);
            Accuracy a = acc.get(v.name);
            double delta = 100 * (a.top1 - base.top1);
            double worst = 0;
            for (var e : base.perCohort.entrySet()) {
                worst = Math.min(worst, 100 * (a.perCohort.get(e.getKey()) - e.getValue()));
            }
            String gate = v.note.equals("gate") ? (delta >= -0.5 && worst >= -1.0 ? "PASS" : "FAIL") : "";
            System.out.printf("| %s | %.2f | %+.2f | %+.2f | %d | %.2fx | %.1f | %.2fx | %s | %.2f |%n", v.name,
                    100 * a.top1, delta, worst, v.model.sizeBytes(), (double) f.sizeBytes() / v.model.sizeBytes(),
                    lat[i], lat[0] / lat[i], gate, v.seconds);
        }
    }

    record Accuracy(double top1, SortedMap<Long, Double> perCohort) {
    }

    static Accuracy accuracy(OnnxModel m, Dataset d) throws OrtException {
        String out = m.outputs().get(0).name();
        long[] correct = new long[1];
        Map<Long, long[]> cohorts = new TreeMap<>();
        try (OrtRunner s = OrtRunner.open(m)) {
            int batch = d.batchLimit(m, 64);
            for (int from = 0; from < d.size(); from += batch) {
                int to = Math.min(d.size(), from + batch);
                float[] logits = s.run(d.feeds(m, from, to), List.of(out)).get(out).floats();
                int classes = logits.length / (to - from);
                for (int i = from; i < to; i++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) {
                        if (logits[(i - from) * classes + c] > logits[(i - from) * classes + best]) {
                            best = c;
                        }
                    }
                    boolean ok = best == d.label(i);
                    correct[0] += ok ? 1 : 0;
                    if (d.hasCohorts()) {
                        long[] c = cohorts.computeIfAbsent(d.cohort(i), k -> new long[2]);
                        c[0] += ok ? 1 : 0;
                        c[1]++;
                    }
                }
            }
        }
        SortedMap<Long, Double> per = new TreeMap<>();
        cohorts.forEach((k, v) -> per.put(k, (double) v[0] / v[1]));
        return new Accuracy((double) correct[0] / d.size(), per);
    }

    /** Mean batch-1 latency in microseconds per model, interleaved. */
    static double[] latencies(List<OnnxModel> models, Dataset d, int samples) throws Exception {
        List<OrtRunner> sessions = new ArrayList<>();
        List<OrtRunner.Prepared> feeds = new ArrayList<>();
        try {
            for (OnnxModel m : models) {
                sessions.add(OrtRunner.open(m));
            }
            for (int i = 0; i < samples; i++) {
                feeds.add(sessions.get(0).prepare(d.feeds(models.get(0), i, i + 1)));
            }
            return interleave(sessions, feeds);
        } finally {
            feeds.forEach(OrtRunner.Prepared::close);
            sessions.forEach(OrtRunner::close);
        }
    }

    /**
     * Interleaved batch-1 latency in microseconds per model, the mean over rounds and samples: models take turns
     * sample by sample (the order rotating), so machine noise hits all alike but every run finds the caches holding
     * another model's weights.
     */
    static double[] interleave(List<OrtRunner> sessions, List<OrtRunner.Prepared> feeds) {
        int k = sessions.size();
        long[] total = new long[k];
        for (int round = -1; round < ROUNDS; round++) { // round -1 warms up
            for (int i = 0; i < feeds.size(); i++) {
                for (int j = 0; j < k; j++) {
                    int v = (j + i + Math.max(round, 0)) % k;
                    long t0 = System.nanoTime();
                    sessions.get(v).runPrepared(feeds.get(i));
                    long dt = System.nanoTime() - t0;
                    if (round >= 0) {
                        total[v] += dt;
                    }
                }
            }
        }
        double[] us = new double[k];
        for (int v = 0; v < k; v++) {
            us[v] = total[v] / 1e3 / ((double) ROUNDS * feeds.size());
        }
        return us;
    }

    // ------------------------------------------------------------------ MiniLM

    static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantizationBenchmark.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException(name + " is not on the classpath: run with -Pbench (langchain4j model jars)");
            }
            return in.readAllBytes();
        }
    }

    static void minilm() throws Exception {
        System.out.printf("%n## all-MiniLM-L6-v2 (langchain4j-embeddings jars)%n%n");
        OnnxModel f = OnnxModel.read(resource("all-minilm-l6-v2.onnx"));
        OnnxModel ref = OnnxModel.read(resource("all-minilm-l6-v2-q.onnx"));
        WordPieceTokenizer tok = WordPieceTokenizer.fromTokenizerJson(
                new ByteArrayInputStream(resource("all-minilm-l6-v2-tokenizer.json")));
        List<String> sentences = new String(resource("io/edgefleet/engine/bench/sentences.txt"), StandardCharsets.UTF_8)
                .lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        System.out.printf("reference variant: producer=%s %s, metadata=%s, ops: %s%n", ref.proto().getProducerName(),
                ref.proto().getProducerVersion(), ref.metadata(), ref.opHistogram());
        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("float32", f, 0, ""));
        String refName = "reference -q (ORT quantize_dynamic)";
        if (selected(refName)) {
            vs.add(new Variant(refName, ref, 0, ""));
        }
        Variant ours = timed("edgefleet dynamic-int8", () -> new DynamicInt8Quantizer().quantize(f).model(), "");
        if (ours != null) {
            System.out.printf("dynamic-int8 quantization of the %.1f MB model took %.2f s%n", f.sizeBytes() / 1e6,
                    ours.seconds());
            vs.add(ours);
        }
        List<String> calibSentences = new String(resource("io/edgefleet/engine/bench/calibration-sentences.txt"),
                StandardCharsets.UTF_8).lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (calibSentences.stream().anyMatch(sentences::contains)) {
            throw new IllegalStateException("calibration sentences must not be among the evaluated ones");
        }
        List<Map<String, TensorData>> calibFeeds = new ArrayList<>();
        for (String s : calibSentences) {
            calibFeeds.add(feed(tok, s));
        }
        // the recipe default, then a lower outlier threshold that also smooths the remaining LayerNorm outputs
        for (ActivationSmoothing.Options so : List.of(ActivationSmoothing.Options.DEFAULTS,
                ActivationSmoothing.Options.DEFAULTS.withMinOutlierRatio(4))) {
            vs.add(timed("edgefleet dynamic-int8-smooth (" + calibSentences.size() + " calibration sentences, alpha "
                    + so.alpha() + ", max/median >= " + so.minOutlierRatio() + ")", () -> new DynamicInt8Quantizer()
                            .quantize(new ActivationSmoothing(so).smooth(f, calibFeeds)).model(), ""));
        }
        // the recipe as a job without data runs it: smoothing ranges from synthetic sequences over the vocabulary
        vs.add(timed("edgefleet dynamic-int8-smooth (no data: 64 synthetic token sequences, recipe defaults)",
                () -> RecipeRegistry.get("dynamic-int8-smooth").passes().get(0).apply(f,
                        PassContext.standalone(f, null, Map.of())), ""));
        vs.add(timed("edgefleet fp16", () -> new Fp16Converter().convert(f).model(), ""));
        vs.add(timed("edgefleet fp16-storage", () -> Fp16Converter.storageOnly().convert(f).model(), ""));
        vs.add(timed("edgefleet int4-weight-only-b32", () -> new Int4WeightOnlyQuantizer(32).quantize(f).model(), ""));
        vs.add(timed("edgefleet int4-weight-only-b32, GPTQ (" + calibSentences.size() + " calibration sentences)",
                () -> new Int4WeightOnlyQuantizer(32).quantize(f, calibFeeds).model(), ""));
        // the pruning benchmark's larger calibration text (568 more sentences, none of them evaluated)
        List<String> moreText = new String(resource("io/edgefleet/engine/bench/calibration-text.txt"),
                StandardCharsets.UTF_8).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (moreText.stream().anyMatch(sentences::contains)) {
            throw new IllegalStateException("calibration text must not contain evaluated sentences");
        }
        List<Map<String, TensorData>> moreFeeds = new ArrayList<>(calibFeeds);
        for (String line : moreText) {
            moreFeeds.add(feed(tok, line));
        }
        vs.add(timed("edgefleet int4-weight-only-b32, GPTQ (" + moreFeeds.size() + " calibration sentences)",
                () -> new Int4WeightOnlyQuantizer(32).quantize(f, moreFeeds).model(), ""));
        vs.removeIf(v -> v == null);
        if (vs.size() == 1) {
            return;
        }

        List<Map<String, TensorData>> inputs = new ArrayList<>();
        int tokens = 0;
        for (String s : sentences) {
            Map<String, TensorData> in = feed(tok, s);
            tokens += (int) in.get("input_ids").elementCount();
            inputs.add(in);
        }
        System.out.printf("%d sentences, %.1f tokens on average%n%n", sentences.size(), (double) tokens / sentences.size());
        List<List<float[]>> pooled = new ArrayList<>();
        for (Variant v : vs) {
            List<float[]> emb = new ArrayList<>();
            try (OrtRunner s = OrtRunner.open(v.model)) {
                for (Map<String, TensorData> in : inputs) {
                    float[] h = s.run(in, List.of("last_hidden_state")).get("last_hidden_state").floats();
                    emb.add(meanPool(h, in.get("attention_mask").longs()));
                }
            }
            pooled.add(emb);
        }
        List<OrtRunner> sessions = new ArrayList<>();
        List<OrtRunner.Prepared> feeds = new ArrayList<>();
        double[] lat;
        double[][] steady;
        try {
            for (Variant v : vs) {
                sessions.add(OrtRunner.open(v.model));
            }
            for (Map<String, TensorData> in : inputs) {
                feeds.add(sessions.get(0).prepare(in));
            }
            lat = interleave(sessions, feeds);
            steady = steadyState(sessions, feeds);
        } finally {
            feeds.forEach(OrtRunner.Prepared::close);
            sessions.forEach(OrtRunner::close);
        }
        System.out.println("| variant | size MB | smaller than float | mean cosine to float | min cosine | "
                + "b=1 ms, steady state (median of rounds) | faster than float, steady state | "
                + "b=1 ms, alternating per sentence (mean) | faster than float, alternating | quantize s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < vs.size(); i++) {
            double sum = 0;
            double min = 1;
            for (int s = 0; s < inputs.size(); s++) {
                double c = cosine(pooled.get(0).get(s), pooled.get(i).get(s));
                sum += c;
                min = Math.min(min, c);
            }
            Variant v = vs.get(i);
            System.out.printf("| %s | %.2f | %.2fx | %.5f | %.5f | %.3f | %.2fx | %.3f | %.2fx | %s |%n", v.name,
                    v.model.sizeBytes() / 1e6, (double) f.sizeBytes() / v.model.sizeBytes(), sum / inputs.size(), min,
                    steady[0][i] / 1e3, steady[1][i], lat[i] / 1e3, lat[0] / lat[i],
                    v.seconds > 0 ? String.format("%.2f", v.seconds) : "");
        }
        System.out.println();
        System.out.println("steady state: each round runs every variant on all sentences in turn (one untimed pass, "
                + "then a timed one; the order rotates between rounds), as a device serving one model does; the "
                + "speed-up is the median over rounds of float time / variant time within the round. Alternating: "
                + "variants take turns sentence by sentence, so each run finds the caches full of another model's "
                + "weights; a pessimistic bound that penalises the smaller models most.");
        System.out.println("goals (>= 3.9x smaller, mean cosine >= 0.995, >= 2.2x faster, quantization < 30 s) apply to "
                + "the edgefleet dynamic-int8 variants; the calibrated smooth variant's sentences are not among the "
                + "evaluated ones, the no-data one saw no text at all; quantize s of the smooth variants includes "
                + "their calibration runs");
    }

    /**
     * Steady-state batch-1 latency in microseconds: {@code [0][v]} the median over rounds of variant v's mean time
     * per feed, {@code [1][v]} the median over rounds of (variant 0's mean / variant v's mean) within the round. Each
     * round gives every model a block: an untimed pass over all feeds, then a timed one; the block order rotates.
     */
    static double[][] steadyState(List<OrtRunner> sessions, List<OrtRunner.Prepared> feeds) {
        int k = sessions.size();
        double[][] perRound = new double[STEADY_ROUNDS][k];
        for (int round = 0; round < STEADY_ROUNDS; round++) {
            for (int j = 0; j < k; j++) {
                int v = (j + round) % k;
                OrtRunner s = sessions.get(v);
                for (OrtRunner.Prepared feed : feeds) {
                    s.runPrepared(feed);
                }
                long t0 = System.nanoTime();
                for (OrtRunner.Prepared feed : feeds) {
                    s.runPrepared(feed);
                }
                perRound[round][v] = (System.nanoTime() - t0) / 1e3 / feeds.size();
            }
        }
        double[][] out = new double[2][k];
        for (int v = 0; v < k; v++) {
            double[] us = new double[STEADY_ROUNDS];
            double[] ratio = new double[STEADY_ROUNDS];
            for (int r = 0; r < STEADY_ROUNDS; r++) {
                us[r] = perRound[r][v];
                ratio[r] = perRound[r][0] / perRound[r][v];
            }
            out[0][v] = median(us);
            out[1][v] = median(ratio);
        }
        return out;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Batch-1 feeds for one sentence: ids, an all-ones attention mask, token types 0. */
    static Map<String, TensorData> feed(WordPieceTokenizer tok, String sentence) {
        long[] ids = tok.encode(sentence, 128);
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        long[] shape = {1, ids.length};
        Map<String, TensorData> in = new LinkedHashMap<>();
        in.put("input_ids", TensorData.ofInt64("input_ids", shape, ids));
        in.put("attention_mask", TensorData.ofInt64("attention_mask", shape, mask));
        in.put("token_type_ids", TensorData.ofInt64("token_type_ids", shape, new long[ids.length]));
        return in;
    }

    static float[] meanPool(float[] hidden, long[] mask) {
        int len = mask.length;
        int dim = hidden.length / len;
        float[] out = new float[dim];
        double count = 0;
        for (int t = 0; t < len; t++) {
            if (mask[t] == 0) {
                continue;
            }
            count++;
            for (int d = 0; d < dim; d++) {
                out[d] += hidden[t * dim + d];
            }
        }
        for (int d = 0; d < dim; d++) {
            out[d] /= (float) Math.max(count, 1);
        }
        return out;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * (double) b[i];
            na += a[i] * (double) a[i];
            nb += b[i] * (double) b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
