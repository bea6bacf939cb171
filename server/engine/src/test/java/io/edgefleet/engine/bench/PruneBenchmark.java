package io.edgefleet.engine.bench;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.lowrank.LowRankFactorizer;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.Accuracy;
import io.edgefleet.engine.prune.BudgetAllocator;
import io.edgefleet.engine.prune.ChannelAnalysis;
import io.edgefleet.engine.prune.ChannelGroup;
import io.edgefleet.engine.prune.ChannelImportance;
import io.edgefleet.engine.prune.IterativePruning;
import io.edgefleet.engine.prune.LatencyProbe;
import io.edgefleet.engine.prune.MagnitudePruner;
import io.edgefleet.engine.prune.ModelCost;
import io.edgefleet.engine.prune.Sensitivity;
import io.edgefleet.engine.prune.StructuredPruning;
import io.edgefleet.engine.quantize.StaticInt8Quantizer;
import io.edgefleet.engine.quantize.calib.Calibrator;
import io.edgefleet.engine.recalib.ChannelMap;
import io.edgefleet.engine.recalib.HessianPruner;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Pruning benchmark: every variant is built and measured in this one process against the float model it came from.
 *
 * <pre>
 * ./mvnw -B -q -o -pl server/engine -Pbench test-compile exec:java \
 *     -Dexec.mainClass=io.edgefleet.engine.bench.PruneBenchmark -Dexec.classpathScope=test \
 *     -Dexec.cleanupDaemonThreads=false
 * </pre>
 *
 * System properties: {@code bench.digits} (fixture directory), {@code bench.skipMiniLM=true},
 * {@code bench.minilmSequences} (span and random calibration sequences each, default 96), {@code bench.resnetTarget}
 * (latency fraction, default 0.6), {@code bench.channelMultiple} (default 16). Accuracy is always on the
 * validation files, which no pass sees; calibration files feed the passes.
 */
public final class PruneBenchmark {
    private static final Path DIGITS = Path.of(System.getProperty("bench.digits", "/work/shared/fixtures/digits"));

    private PruneBenchmark() {
    }

    record Variant(String name, OnnxModel model, double seconds, String note) {
    }

    static Variant timed(String name, Supplier<OnnxModel> make, String note) {
        long t0 = System.nanoTime();
        OnnxModel m = make.get();
        return new Variant(name, m, (System.nanoTime() - t0) / 1e9, note);
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        System.out.println("# edgefleet pruning benchmark");
        System.out.printf("%nONNX Runtime, one intra-op thread; latency = median of interleaved runs; accuracy on the "
                + "validation set; goals from the pruning brief.%n");
        resnet();
        mlp();
        if (!Boolean.getBoolean("bench.skipMiniLM")) {
            minilm();
        }
    }

    // ------------------------------------------------------------------ digits-resnet: structured

    static void resnet() {
        OnnxModel f = OnnxModel.read(DIGITS.resolve("digits-resnet.onnx"));
        Dataset cal = Dataset.fromNpz(DIGITS.resolve("digits-resnet-calibration.npz"));
        Dataset val = Dataset.fromNpz(DIGITS.resolve("digits-resnet-validation.npz"));
        System.out.printf("%n## digits-resnet: structured channel pruning (%d calibration / %d validation samples)%n%n",
                cal.size(), val.size());
        // Latency target: the budget follows a per-node ONNX Runtime profile, then a measurement confirms it.
        // Channel counts in multiples of 16 match ORT's NCHWc blocks on this AVX-512 machine (8 on AVX2).
        double target = Double.parseDouble(System.getProperty("bench.resnetTarget", "0.6"));
        int multiple = Integer.getInteger("bench.channelMultiple", 16);
        ChannelAnalysis analysis = ChannelAnalysis.analyze(f);
        System.out.println("channel groups:");
        for (ChannelGroup g : analysis.groups()) {
            System.out.println("- " + g + (g.prunable() ? " -> consumers " + g.consumers() : ""));
        }
        StructuredPruning.Options rec = StructuredPruning.Options.recommended(target)
                .withMeasure(BudgetAllocator.Measure.LATENCY).withChannelMultiple(multiple);
        long t0 = System.nanoTime();
        Map<Integer, double[]> scores = ChannelImportance.score(analysis, rec.criterion(), cal, 256);
        List<Sensitivity.Curve> curves = Sensitivity.measure(f, analysis, scores, cal, rec.sensitivity());
        double sensSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%nsensitivity (relative output error on calibration data after refitting the group's layers, "
                + "%.1f s):%n", sensSeconds);
        curves.forEach(c -> System.out.println("- " + c));

        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("float32", f, 0, ""));
        long t1 = System.nanoTime();
        StructuredPruning.Result mainResult = StructuredPruning.run(f, analysis, cal, rec, curves);
        Variant main = new Variant("latency target " + target + ", sensitivity budget, x" + multiple
                + " channels + least squares", mainResult.model(), (System.nanoTime() - t1) / 1e9 + sensSeconds,
                "incl. sensitivity");
        vs.add(main);
        System.out.println();
        mainResult.notes().forEach(n -> System.out.println("note: " + n));
        System.out.println("kept channels per group: " + mainResult.keptChannels());
        double macsFraction = (double) ModelCost.of(main.model).macs() / ModelCost.of(f).macs();
        Map<Integer, Integer> counts = mainResult.keptChannels();
        vs.add(timed("same channels, bias correction only", () -> StructuredPruning.runWithCounts(f, analysis, cal,
                rec.withRecalibration(StructuredPruning.Recalibration.BIAS_CORRECTION), counts).model(), ""));
        vs.add(timed("same channels, no recalibration", () -> StructuredPruning.runWithCounts(f, analysis, cal,
                rec.withRecalibration(StructuredPruning.Recalibration.NONE), counts).model(), ""));
        vs.add(timed("MACs target 0.35, x4 channels + least squares", () -> StructuredPruning.run(f, analysis, cal,
                rec.withMeasure(BudgetAllocator.Measure.MACS).withTarget(0.35).withChannelMultiple(4), curves).model(),
                "SIMD-unfriendly counts"));
        vs.add(timed("uniform ratio, same latency target + least squares", () -> StructuredPruning.run(f, analysis,
                cal, rec.withAllocation(StructuredPruning.Allocation.UNIFORM), null).model(), ""));
        vs.add(timed("REFERENCE: L1 magnitude, uniform, no recalibration, same MACs", () -> StructuredPruning.run(f,
                analysis, null, StructuredPruning.Options.magnitudeBaseline(macsFraction).withChannelMultiple(multiple),
                null).model(), "aggressive baseline"));
        OnnxModel pruned = main.model;
        vs.add(timed("structured + static int8 (minmax)", () -> new StaticInt8Quantizer(StaticInt8Quantizer.Options
                .of(Calibrator.Method.MINMAX)).quantize(pruned, cal).model(), "hybrid"));
        vs.add(timed("float + static int8 (minmax), no pruning", () -> new StaticInt8Quantizer(
                StaticInt8Quantizer.Options.of(Calibrator.Method.MINMAX)).quantize(f, cal).model(), "for comparison"));
        vs.add(timed("unstructured magnitude 50% + masked LS", () -> {
            OnnxModel sparse = MagnitudePruner.prune(f, MagnitudePruner.Options.unstructured(0.5,
                    MagnitudePruner.Scope.PER_LAYER), null).model();
            return LeastSquaresReconstruction.reconstruct(f, sparse, ChannelMap.IDENTITY, cal,
                    LeastSquaresReconstruction.Options.defaults(), null).model();
        }, "dense storage"));
        table(vs, f, val, true);
        System.out.printf("%ngoals: structured >= 2x fewer MACs, >= 1.6x lower latency (batch 1 and 64), <= 1 point "
                + "top-1 lost, no cohort > 2 points; structured + int8 >= 6x smaller, <= 1.5 points lost.%n");
    }

    // ------------------------------------------------------------------ digits-mlp: unstructured

    static void mlp() {
        OnnxModel f = OnnxModel.read(DIGITS.resolve("digits-mlp.onnx"));
        Dataset cal = Dataset.fromNpz(DIGITS.resolve("digits-mlp-calibration.npz"));
        Dataset val = Dataset.fromNpz(DIGITS.resolve("digits-mlp-validation.npz"));
        System.out.printf("%n## digits-mlp: 50%% unstructured sparsity on the linear layers%n%n");
        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("float32", f, 0, ""));
        vs.add(timed("magnitude 50% per layer", () -> MagnitudePruner.prune(f, MagnitudePruner.Options.unstructured(
                0.5, MagnitudePruner.Scope.PER_LAYER), null).model(), "baseline"));
        vs.add(timed("magnitude 50% global", () -> MagnitudePruner.prune(f, MagnitudePruner.Options.unstructured(
                0.5, MagnitudePruner.Scope.GLOBAL), null).model(), ""));
        vs.add(timed("Hessian (SparseGPT) 50%, no reconstruction", () -> HessianPruner.prune(f, f, cal,
                HessianPruner.Options.unstructured(0.5).withReconstruct(false), null).model(), ""));
        vs.add(timed("Hessian 50% + reconstruction", () -> HessianPruner.prune(f, f, cal,
                HessianPruner.Options.unstructured(0.5), null).model(), "goal variant"));
        vs.add(timed("magnitude 2:4", () -> MagnitudePruner.prune(f, MagnitudePruner.Options.nm(2, 4), null).model(),
                ""));
        vs.add(timed("Hessian 2:4 + reconstruction", () -> HessianPruner.prune(f, f, cal,
                HessianPruner.Options.nm(2, 4), null).model(), ""));
        vs.add(timed("Hessian 70% + reconstruction", () -> HessianPruner.prune(f, f, cal,
                HessianPruner.Options.unstructured(0.7), null).model(), ""));
        vs.add(timed("iterative magnitude + masked LS, 0.5-point budget on held-out 25% of calibration", () -> {
            // The refits see the fit part only; the budget is checked on the held-out part (checking it on the data
            // the refits saw over-prunes), and the table below scores the result on the validation set.
            IterativePruning.Split split = IterativePruning.split(cal, 0.25, 0);
            IterativePruning.Result r = IterativePruning.magnitude(f, split.fit(), split.check(),
                    IterativePruning.Options.defaults(0.5).withStep(0.05));
            // With 64 check samples one sample is 1.56 points: the check only tells "no change" from "a change", so
            // the 0.5-point budget is not resolved and the validation loss can exceed it (the table shows it).
            System.out.printf("iterative schedule (refit on %d calibration samples, budget checked on the other %d, "
                    + "one check sample = %.2f points): %s%n", split.fit().size(), split.check().size(),
                    100.0 / split.check().size(), r.steps());
            return r.model();
        }, "schedule"));
        vs.add(timed("low-rank SVD (data-aware, 99% energy) + LS", () -> {
            OnnxModel lr = LowRankFactorizer.factorize(f, LowRankFactorizer.Options.defaults().withEnergy(0.99)
                    .withDataAware(true), cal, null).model();
            return LeastSquaresReconstruction.reconstruct(f, lr, ChannelMap.IDENTITY, cal,
                    LeastSquaresReconstruction.Options.defaults(), null).model();
        }, "structured alternative"));
        table(vs, f, val, false);
        System.out.printf("%ngoal: Hessian 50%% + reconstruction loses <= 1 point top-1.%n");
    }

    static void table(List<Variant> vs, OnnxModel f, Dataset val, boolean latency) {
        Accuracy base = Accuracy.measure(f, null, val, val.size());
        ModelCost baseCost = ModelCost.of(f);
        double[] lat1 = null;
        double[] lat64 = null;
        if (latency) {
            List<OnnxModel> models = vs.stream().map(Variant::model).toList();
            lat1 = medians(LatencyProbe.compare(models, val.feeds(f, 0, 1), 50, 10, 100));
            lat64 = medians(LatencyProbe.compare(models, val.feeds(f, 0, 64), 5, 10, 10));
        }
        System.out.println();
        System.out.println("| variant | top-1 % | lost (pts) | worst cohort lost | MACs | fewer MACs | .onnx KB | gzip KB "
                + "| smaller (.onnx) | sparsity | " + (latency ? "b=1 ms | b=1 faster | b=64 ms | b=64 faster | " : "")
                + "build s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|" + (latency ? "---|---|---|---|" : "") + "---|");
        for (int i = 0; i < vs.size(); i++) {
            Variant v = vs.get(i);
            Accuracy a = Accuracy.measure(v.model, f, val, val.size());
            ModelCost c = ModelCost.of(v.model);
            StringBuilder row = new StringBuilder();
            row.append(String.format("| %s%s | %.2f | %.2f | %.2f | %d | %.2fx | %.1f | %.1f | %.2fx | %.1f%% | ",
                    v.name, v.note.isEmpty() ? "" : " (" + v.note + ")", 100 * a.top1(), a.dropPoints(base),
                    a.worstCohortDropPoints(base), c.macs(), (double) baseCost.macs() / Math.max(1, c.macs()),
                    c.bytes() / 1024.0, c.gzipBytes() / 1024.0, (double) baseCost.bytes() / c.bytes(),
                    100 * c.sparsity()));
            if (latency) {
                row.append(String.format("%.3f | %.2fx | %.2f | %.2fx | ", lat1[i], lat1[0] / lat1[i], lat64[i],
                        lat64[0] / lat64[i]));
            }
            row.append(String.format("%.1f |", v.seconds));
            System.out.println(row);
        }
    }

    static double[] medians(List<LatencyProbe.Stats> s) {
        return s.stream().mapToDouble(LatencyProbe.Stats::medianMs).toArray();
    }

    // ------------------------------------------------------------------ all-MiniLM-L6-v2

    /**
     * 50% unstructured sparsity on the 36 linear layers of the MiniLM encoder. Calibration: token sequences of 32
     * built from random spans of the quantization benchmark's calibration sentences, plus as many sequences of random
     * word pieces (40 sentences alone cover too little of the vocabulary: held-out fidelity suffers). The cosine check
     * runs on the 80 evaluation sentences, none of which calibration saw, one sentence per run.
     */
    static void minilm() throws Exception {
        System.out.printf("%n## all-MiniLM-L6-v2: unstructured sparsity on the linear layers%n%n");
        OnnxModel f = OnnxModel.read(QuantizationBenchmark.resource("all-minilm-l6-v2.onnx"));
        WordPieceTokenizer tok = WordPieceTokenizer.fromTokenizerJson(
                new java.io.ByteArrayInputStream(QuantizationBenchmark.resource("all-minilm-l6-v2-tokenizer.json")));
        List<String> evaluated = lines("io/edgefleet/engine/bench/sentences.txt");
        List<String> calibration = lines("io/edgefleet/engine/bench/calibration-sentences.txt");
        if (calibration.stream().anyMatch(evaluated::contains)) {
            throw new IllegalStateException("calibration sentences must not be among the evaluated ones");
        }
        List<long[]> calibSentences = new ArrayList<>();
        for (String s : calibration) {
            calibSentences.add(tok.encode(s, 128));
        }
        List<Map<String, TensorData>> held = new ArrayList<>();
        for (String s : evaluated) {
            held.add(feeds(tok.encode(s, 128)));
        }
        int n = Integer.getInteger("bench.minilmSequences", 96);
        Dataset calib = spans(calibSentences, n, n, 32, 3);
        System.out.printf("calibration: %d span sequences + %d random-token sequences x 32 tokens (from %d sentences);"
                + " check: %d other sentences%n%n", n, n, calibSentences.size(), held.size());
        int samples = calib.size();
        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("float32", f, 0, ""));
        vs.add(timed("magnitude 50% per layer", () -> MagnitudePruner.prune(f, MagnitudePruner.Options.unstructured(
                0.5, MagnitudePruner.Scope.PER_LAYER), null).model(), "baseline"));
        vs.add(timed("Hessian 50%, no reconstruction", () -> HessianPruner.prune(f, f, calib,
                HessianPruner.Options.unstructured(0.5).withReconstruct(false).withMaxSamples(samples), null).model(),
                ""));
        vs.add(timed("Hessian 50% + reconstruction", () -> HessianPruner.prune(f, f, calib,
                HessianPruner.Options.unstructured(0.5).withMaxSamples(samples), null).model(), "goal variant"));
        vs.add(timed("Hessian 25% + reconstruction", () -> HessianPruner.prune(f, f, calib,
                HessianPruner.Options.unstructured(0.25).withMaxSamples(samples), null).model(), "for the trade-off"));
        List<List<float[]>> pooled = new ArrayList<>();
        for (Variant v : vs) {
            List<float[]> emb = new ArrayList<>();
            try (OrtRunner r = OrtRunner.open(v.model)) {
                for (Map<String, TensorData> in : held) {
                    float[] h = r.run(in, List.of("last_hidden_state")).get("last_hidden_state").floats();
                    emb.add(QuantizationBenchmark.meanPool(h, in.get("attention_mask").longs()));
                }
            }
            pooled.add(emb);
        }
        System.out.println("| variant | mean cosine to float | min cosine | sparsity of linear weights | sparsity of all "
                + "params | gzip MB | build s |");
        System.out.println("|---|---|---|---|---|---|---|");
        double baseGzip = ModelCost.gzipSize(f.toBytes()) / 1e6;
        for (int i = 0; i < vs.size(); i++) {
            double sum = 0;
            double min = 1;
            for (int s = 0; s < held.size(); s++) {
                double c = QuantizationBenchmark.cosine(pooled.get(0).get(s), pooled.get(i).get(s));
                sum += c;
                min = Math.min(min, c);
            }
            Variant v = vs.get(i);
            ModelCost c = ModelCost.of(v.model, Map.of());
            double linear = MagnitudePruner.prune(v.model, MagnitudePruner.Options.unstructured(0,
                    MagnitudePruner.Scope.PER_LAYER), null).sparsity();
            System.out.printf("| %s%s | %.5f | %.5f | %.1f%% | %.1f%% | %.1f (float %.1f) | %.1f |%n", v.name,
                    v.note.isEmpty() ? "" : " (" + v.note + ")", sum / held.size(), min, 100 * linear,
                    100 * c.sparsity(), c.gzipBytes() / 1e6, baseGzip, v.seconds);
        }
        System.out.printf("%ngoal: Hessian 50%% + reconstruction, mean cosine >= 0.99 to float.%n");
    }

    static List<String> lines(String resource) throws java.io.IOException {
        return new String(QuantizationBenchmark.resource(resource), StandardCharsets.UTF_8).lines().map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
    }

    static Map<String, TensorData> feeds(long[] ids) {
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        long[] shape = {1, ids.length};
        Map<String, TensorData> in = new LinkedHashMap<>();
        in.put("input_ids", TensorData.ofInt64("input_ids", shape, ids));
        in.put("attention_mask", TensorData.ofInt64("attention_mask", shape, mask));
        in.put("token_type_ids", TensorData.ofInt64("token_type_ids", shape, new long[ids.length]));
        return in;
    }

    /**
     * {@code n} sequences of {@code len} tokens, [CLS], random spans of 3-10 word pieces from the given sentences,
     * [SEP], and {@code random} sequences of uniformly drawn word pieces, shuffled together. Equal lengths mean no
     * padding, so every row of every layer's input is a real token.
     */
    static Dataset spans(List<long[]> sentences, int n, int random, int len, long seed) {
        Random r = new Random(seed);
        long cls = sentences.get(0)[0];
        long sep = sentences.get(0)[sentences.get(0).length - 1];
        int total = n + random;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(seed + 1));
        long[] ids = new long[total * len];
        for (int k = 0; k < total; k++) {
            int i = order.get(k);
            ids[i * len] = cls;
            ids[i * len + len - 1] = sep;
            int t = 1;
            if (k >= n) {
                while (t < len - 1) {
                    ids[i * len + t++] = 1000 + r.nextInt(29000); // past the special and unused ids
                }
                continue;
            }
            while (t < len - 1) {
                long[] s = sentences.get(r.nextInt(sentences.size()));
                int span = 3 + r.nextInt(8);
                int from = 1 + r.nextInt(Math.max(1, s.length - 2 - span));
                for (int j = 0; j < span && t < len - 1 && from + j < s.length - 1; j++) {
                    ids[i * len + t++] = s[from + j];
                }
            }
        }
        long[] mask = new long[total * len];
        Arrays.fill(mask, 1);
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        arrays.put("input_ids", TensorData.ofInt64("input_ids", new long[] {total, len}, ids));
        arrays.put("attention_mask", TensorData.ofInt64("attention_mask", new long[] {total, len}, mask));
        arrays.put("token_type_ids", TensorData.ofInt64("token_type_ids", new long[] {total, len},
                new long[total * len]));
        return Dataset.of(arrays, null, null);
    }
}
