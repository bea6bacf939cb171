package io.edgefleet.engine.quantize;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.AggressiveReference;
import io.edgefleet.engine.pipeline.LayerDecision;
import io.edgefleet.engine.pipeline.ParamSpec;
import io.edgefleet.engine.pipeline.ParamSpec.Bounds;
import io.edgefleet.engine.pipeline.Pass;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeProvider;
import io.edgefleet.engine.quantize.calib.Calibrator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The quantization recipes, found by {@link io.edgefleet.engine.pipeline.RecipeRegistry} through ServiceLoader:
 * {@code dynamic-int8}, {@code dynamic-int8-smooth}, {@code static-int8-minmax}, {@code static-int8-percentile}, {@code static-int8-entropy},
 * {@code fp16}, {@code fp16-storage}, {@code int4-weight-only} and {@code mixed-precision}.
 *
 * <p>Each has an aggressive reference for the report's baselines ({@link AggressiveReference}): one weight scale per
 * tensor instead of per channel, MinMax ranges, no smoothing, no float fallback. The fp16 recipes have no cruder
 * fp16; their reference is dynamic per-tensor int8, the next, lossier step.
 */
public final class QuantizationRecipes implements RecipeProvider {

    // The parameters: the recipes declare these specs and the passes read values through them (ParamSpec).
    static final ParamSpec<Boolean> PER_CHANNEL = ParamSpec.bool("perChannel", "true");
    static final ParamSpec<Boolean> CONV_INTEGER = ParamSpec.bool("convInteger", "false");
    static final ParamSpec<Boolean> MERGE_SIBLINGS = ParamSpec.bool("mergeSiblings", "true");
    static final ParamSpec<Integer> MIN_WEIGHT_ELEMENTS = ParamSpec.integer("minWeightElements", "1024",
            Bounds.atLeast(0));
    static final ParamSpec<Double> ALPHA = ParamSpec.number("alpha", "0.7", Bounds.closed(0, 1));
    static final ParamSpec<Double> MIN_OUTLIER_RATIO = ParamSpec.number("minOutlierRatio", "8", Bounds.atLeast(1));
    static final ParamSpec<Integer> MAX_CALIBRATION_SAMPLES = ParamSpec.integer("maxCalibrationSamples", "256",
            Bounds.atLeast(1));
    static final ParamSpec<Integer> STATIC_MAX_CALIBRATION_SAMPLES = MAX_CALIBRATION_SAMPLES.withDefault("512");
    static final ParamSpec<Integer> SYNTHETIC_SEQUENCES = ParamSpec.integer("syntheticSequences", "64",
            Bounds.closed(1, SyntheticTokenFeeds.MAX_SEQUENCES));
    static final ParamSpec<Integer> SYNTHETIC_MIN_LENGTH = ParamSpec.integer("syntheticMinLength", "8",
            Bounds.closed(1, SyntheticTokenFeeds.MAX_LENGTH));
    static final ParamSpec<Integer> SYNTHETIC_MAX_LENGTH = ParamSpec.integer("syntheticMaxLength", "64",
            Bounds.closed(1, SyntheticTokenFeeds.MAX_LENGTH));
    static final ParamSpec<Integer> SYNTHETIC_SEED = ParamSpec.integer("syntheticSeed", "1", Bounds.ANY);
    static final ParamSpec<Integer> BLOCK_SIZE = ParamSpec.integerOneOf("blockSize", "32", 32, 64, 128);
    static final ParamSpec<String> ROUNDING = ParamSpec.oneOf("rounding", "auto", "auto", "nearest", "gptq");
    static final ParamSpec<String> EMBEDDINGS = ParamSpec.oneOf("embeddings", "int8", "int8", "float");
    static final ParamSpec<Calibrator.Method> METHOD = ParamSpec.oneOf("method", "entropy", Calibrator.Method.class);
    static final ParamSpec<Double> BUDGET = ParamSpec.number("budget", "0.005", Bounds.atLeast(0));

    @Override
    public List<Recipe> recipes() {
        List<Recipe> out = new ArrayList<>();
        out.add(Recipe.compression("dynamic-int8",
                "int8 weights (per output channel), activations quantized at run time; no calibration data needed",
                false, List.of(PER_CHANNEL, CONV_INTEGER, MERGE_SIBLINGS, MIN_WEIGHT_ELEMENTS), new DynamicPass())
                .withReference(QuantizationRecipes::dynamicPerTensorReference));
        out.add(Recipe.compression("dynamic-int8-smooth",
                "dynamic-int8 after calibrated per-channel smoothing of MatMul inputs with outlier channels "
                        + "(transformer LayerNorm/GELU outputs): calibration data sets the smoothing scales only; "
                        + "without it, token-id models are calibrated on synthetic sequences from their own vocabulary",
                false, List.of(ALPHA, MIN_OUTLIER_RATIO, MAX_CALIBRATION_SAMPLES, SYNTHETIC_SEQUENCES,
                        SYNTHETIC_MIN_LENGTH, SYNTHETIC_MAX_LENGTH, SYNTHETIC_SEED),
                new DynamicSmoothPass()).withReference(QuantizationRecipes::defaultDynamicPerTensorReference));
        for (Calibrator.Method m : Calibrator.Method.values()) {
            String name = m.name().toLowerCase(Locale.ROOT);
            out.add(Recipe.compression("static-int8-" + name,
                    "QDQ int8 with " + name + " calibration: uint8 activations, int8 per-channel weights, int32 bias",
                    true, List.of(STATIC_MAX_CALIBRATION_SAMPLES), new StaticPass(m))
                    .withReference(QuantizationRecipes::staticPerTensorReference));
        }
        out.add(Recipe.compression("fp16", "float16 weights; float16 compute where ONNX Runtime CPU has kernels",
                false, List.of(), new Fp16Pass()).withReference(QuantizationRecipes::defaultDynamicPerTensorReference));
        out.add(Recipe.compression("fp16-storage",
                "float16-stored weights, float32 compute: half the file and download, the float model's speed on "
                        + "CPUs without float16 arithmetic", false, List.of(), new Fp16StoragePass())
                .withReference(QuantizationRecipes::defaultDynamicPerTensorReference));
        out.add(Recipe.compression("int4-weight-only",
                "block-wise int4 MatMul weights via DequantizeLinear (opset 21), float activations; GPTQ rounding "
                        + "from calibration data when given (rounding=auto), round-to-nearest otherwise; embedding "
                        + "tables row-wise int8 (embeddings=int8) or float", false,
                List.of(BLOCK_SIZE, ROUNDING, MAX_CALIBRATION_SAMPLES, EMBEDDINGS),
                new Int4Pass()).withReference(QuantizationRecipes::int4CoarseReference));
        out.add(Recipe.compression("mixed-precision",
                "static int8 with the most sensitive layers kept float32 until the accuracy budget holds", true,
                List.of(METHOD, BUDGET, MAX_CALIBRATION_SAMPLES), new MixedPass())
                .withReference(QuantizationRecipes::staticPerTensorReference));
        return out;
    }

    /**
     * Calibration feeds made from the model's own vocabulary for a job without data, with a report note saying so;
     * a model whose inputs are not token ids is refused.
     *
     * @param what the recipe option that needs data, for the refusal
     * @param use what the feeds measure, for the note
     */
    static List<Map<String, TensorData>> syntheticFeeds(OnnxModel model, PassContext ctx, String what, String use,
            int count, int minLength, int maxLength, long seed) {
        SyntheticTokenFeeds.Plan plan = SyntheticTokenFeeds.plan(model);
        if (!plan.applicable()) {
            throw new BadInputException(what + " needs calibration data for this model (" + plan.refusal() + ")");
        }
        List<Map<String, TensorData>> feeds;
        try {
            feeds = SyntheticTokenFeeds.generate(model, count, minLength, maxLength, seed);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        ctx.note(String.format(Locale.ROOT, "no calibration data: %s on %d synthetic sequences of %d-%d tokens (seed "
                + "%d; %s)", use, feeds.size(), minLength, maxLength, seed, plan.describe()));
        return feeds;
    }

    // ---------------------------------------------------------------- aggressive references

    /**
     * Dynamic int8 with one scale per weight tensor, no smoothing, no sibling merging, on the same layers as the
     * variant ({@code dynamic-int8}'s {@code minWeightElements} and {@code convInteger}).
     */
    static AggressiveReference.Built dynamicPerTensorReference(OnnxModel base, OnnxModel variant,
            List<LayerDecision> decisions, PassContext ctx) {
        String what = DYNAMIC_PER_TENSOR + (ctx.get(PER_CHANNEL) ? "" : " (this variant is per-tensor too)");
        return dynamicPerTensor(base, DynamicInt8Quantizer.Options.DEFAULTS.withConvInteger(ctx.get(CONV_INTEGER))
                .withMinWeightElements(ctx.get(MIN_WEIGHT_ELEMENTS)), what);
    }

    /**
     * The same for recipes without those parameters ({@code dynamic-int8-smooth}, whose int8 step uses the
     * quantizer's defaults, and the fp16 recipes): dynamic int8 at the quantizer's defaults, per tensor.
     */
    static AggressiveReference.Built defaultDynamicPerTensorReference(OnnxModel base, OnnxModel variant,
            List<LayerDecision> decisions, PassContext ctx) {
        String what = DYNAMIC_PER_TENSOR + (ctx.recipeName().startsWith("fp16")
                ? " (fp16 has no cruder form; this is the next, lossier step)" : "");
        return dynamicPerTensor(base, DynamicInt8Quantizer.Options.DEFAULTS, what);
    }

    private static final String DYNAMIC_PER_TENSOR = "dynamic int8 with one scale per weight tensor, no smoothing";

    private static AggressiveReference.Built dynamicPerTensor(OnnxModel base, DynamicInt8Quantizer.Options layers,
            String what) {
        var o = layers.withPerChannel(false).withMergeSiblings(false);
        return AggressiveReference.Built.of(new DynamicInt8Quantizer(o).quantize(base).model(), what);
    }

    /** Static QDQ int8 with MinMax ranges and one scale per weight tensor, every candidate layer int8. */
    static AggressiveReference.Built staticPerTensorReference(OnnxModel base, OnnxModel variant,
            List<LayerDecision> decisions, PassContext ctx) {
        int samples = ctx.get(MAX_CALIBRATION_SAMPLES);
        OnnxModel q = new StaticInt8Quantizer(new StaticInt8Quantizer.Options(Calibrator.Method.MINMAX, false, samples,
                Set.of())).quantize(base, ctx.requireCalibration()).model();
        return AggressiveReference.Built.of(q, "static int8 (QDQ) with MinMax ranges, one scale per weight tensor, "
                + "every candidate layer int8 (no float fallback)");
    }

    /**
     * Weight-only int4 rounded to nearest (no GPTQ) with the coarsest block the recipe offers (128 rows per scale),
     * embeddings as the recipe has them (same layers, same target).
     */
    static AggressiveReference.Built int4CoarseReference(OnnxModel base, OnnxModel variant,
            List<LayerDecision> decisions, PassContext ctx) {
        int block = ctx.get(BLOCK_SIZE);
        String rounding = ctx.get(ROUNDING);
        boolean same = block == 128 && (rounding.equals("nearest")
                || (rounding.equals("auto") && ctx.calibration().isEmpty()));
        return AggressiveReference.Built.of(new Int4WeightOnlyQuantizer(128, 1024,
                ctx.get(EMBEDDINGS).equals("int8")).quantize(base).model(),
                "weight-only int4 rounded to nearest (no GPTQ), the coarsest block of 128 rows per scale"
                        + (same ? " (what this variant does too: the reference equals it)" : ""));
    }

    static void record(PassContext ctx, QuantizationResult r) {
        for (NodeDecision d : r.decisions()) {
            ctx.decide(d.node(), d.opType(), d.precision(), d.reason(), Map.of());
        }
    }

    static final class DynamicPass implements Pass {
        @Override
        public String name() {
            return "dynamic-int8";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            var o = new DynamicInt8Quantizer.Options(ctx.get(PER_CHANNEL), true, ctx.get(CONV_INTEGER), false,
                    ctx.get(MIN_WEIGHT_ELEMENTS), ctx.get(MERGE_SIBLINGS));
            QuantizationResult r = new DynamicInt8Quantizer(o).quantize(model);
            record(ctx, r);
            return r.model();
        }
    }

    static final class DynamicSmoothPass implements Pass {
        @Override
        public String name() {
            return "dynamic-int8-smooth";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            ActivationSmoothing.Options so = new ActivationSmoothing.Options(ctx.get(ALPHA), ctx.get(MIN_OUTLIER_RATIO),
                    1024, ctx.get(MAX_CALIBRATION_SAMPLES));
            ActivationSmoothing.Result smoothed;
            if (ctx.calibration().isPresent()) {
                smoothed = new ActivationSmoothing(so).smooth(model, ctx.calibration().get());
            } else {
                List<Map<String, TensorData>> feeds = syntheticFeeds(model, ctx, "dynamic-int8-smooth (or use "
                        + "dynamic-int8, which needs none)", "smoothing ranges measured",
                        Math.min(ctx.get(SYNTHETIC_SEQUENCES), so.maxCalibrationSamples()),
                        ctx.get(SYNTHETIC_MIN_LENGTH), ctx.get(SYNTHETIC_MAX_LENGTH), ctx.get(SYNTHETIC_SEED));
                smoothed = new ActivationSmoothing(so).smooth(model, feeds);
            }
            QuantizationResult r = new DynamicInt8Quantizer().quantize(smoothed);
            record(ctx, r);
            ctx.note(String.format(Locale.ROOT, "smoothing: %d of %d quantizable MatMuls had their input smoothed "
                    + "(alpha %.2f)", smoothed.smoothedCount(), smoothed.decisions().size(), so.alpha()));
            return r.model();
        }
    }

    static final class StaticPass implements Pass {
        private final Calibrator.Method method;

        StaticPass(Calibrator.Method method) {
            this.method = method;
        }

        @Override
        public String name() {
            return "static-int8-" + method.name().toLowerCase(Locale.ROOT);
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            int samples = ctx.get(STATIC_MAX_CALIBRATION_SAMPLES);
            QuantizationResult r = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(method)
                    .withMaxCalibrationSamples(samples)).quantize(model, ctx.requireCalibration());
            record(ctx, r);
            return r.model();
        }
    }

    static final class Fp16Pass implements Pass {
        @Override
        public String name() {
            return "fp16";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            QuantizationResult r = new Fp16Converter().convert(model);
            record(ctx, r);
            return r.model();
        }
    }

    static final class Fp16StoragePass implements Pass {
        @Override
        public String name() {
            return "fp16-storage";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            QuantizationResult r = Fp16Converter.storageOnly().convert(model);
            record(ctx, r);
            return r.model();
        }
    }

    static final class Int4Pass implements Pass {
        @Override
        public String name() {
            return "int4-weight-only";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            int block = ctx.get(BLOCK_SIZE);
            String rounding = ctx.get(ROUNDING);
            List<Map<String, TensorData>> feeds = null;
            switch (rounding) {
                case "nearest" -> { }
                case "auto", "gptq" -> {
                    int max = ctx.get(MAX_CALIBRATION_SAMPLES);
                    if (ctx.calibration().isPresent()) {
                        feeds = FeedActivations.batches(model, ctx.calibration().get(), max);
                        ctx.note("GPTQ rounding: input Hessians from " + Math.min(ctx.calibration().get().size(), max)
                                + " calibration samples");
                    } else if (rounding.equals("gptq")) {
                        feeds = syntheticFeeds(model, ctx, "rounding=gptq", "GPTQ input Hessians (real calibration "
                                + "text does better)", 64, 8, 64, 1);
                    }
                }
                default -> throw new IllegalStateException("rounding '" + rounding + "' passed its spec");
            }
            String embeddings = ctx.get(EMBEDDINGS);
            QuantizationResult r = new Int4WeightOnlyQuantizer(block, 1024, embeddings.equals("int8"))
                    .quantize(model, feeds);
            record(ctx, r);
            return r.model();
        }
    }

    static final class MixedPass implements Pass {
        @Override
        public String name() {
            return "mixed-precision";
        }

        @Override
        public OnnxModel apply(OnnxModel model, PassContext ctx) {
            Calibrator.Method m = ctx.get(METHOD);
            double budget = ctx.get(BUDGET);
            var res = new MixedPrecisionQuantizer(m, budget, ctx.get(MAX_CALIBRATION_SAMPLES))
                    .quantize(model, ctx.requireCalibration(), f -> ctx.progress(f, "sensitivity analysis"));
            Map<String, Double> sens = new HashMap<>();
            for (var l : res.layers()) {
                sens.put(l.node(), l.sensitivity());
            }
            for (NodeDecision d : res.quantization().decisions()) {
                Double s = sens.get(d.node());
                ctx.decide(d.node(), d.opType(), d.precision(), d.reason(),
                        s == null ? Map.of() : Map.of("sensitivity", s));
            }
            ctx.note(String.format(Locale.ROOT, "mixed precision: damage %.4f with %d of %d layers int8 (all-int8 "
                    + "damage %.4f, budget %.4f)", res.damage(),
                    res.layers().stream().filter(MixedPrecisionQuantizer.Layer::quantized).count(), res.layers().size(),
                    res.fullInt8Damage(), budget));
            return res.quantization().model();
        }
    }
}
