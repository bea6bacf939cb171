package io.edgefleet.engine.planner;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.EngineVersion;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.Latency;
import io.edgefleet.engine.eval.ModelLoadException;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.eval.Quality;
import io.edgefleet.engine.onnx.OnnxFormatException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.planner.Plan.CandidateResult;
import io.edgefleet.engine.planner.Plan.SloCheck;
import io.edgefleet.engine.planner.Plan.Verdict;
import io.edgefleet.engine.report.Report;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Plans one model for one device class: builds each candidate with the engine's own {@link CompressionJob} (so every
 * variant is loaded in ONNX Runtime, gated on the validation data overall and per cohort, and measured), costs it
 * for the class through a {@link CostModel}, checks every SLO, and picks.
 *
 * <p><b>Pick rule.</b> Among the candidates that meet every SLO (accuracy overall and per cohort, device p95 latency,
 * model bytes, energy per inference, peak memory, storage for two slots), the highest accuracy wins; accuracies
 * within {@link PlanBudget#tiePoints()} are a tie, and a tie goes to the smaller artifact, then the lower device
 * latency, then the earlier candidate. An SLO that cannot be checked (no power model for an energy objective, no
 * latency measurement) is never counted as met.
 *
 * <p><b>Search.</b> Candidates run in the given order (gentlest first, see {@link CandidateGenerator}); the search
 * stops at the first candidate that meets every SLO with the budget's margin, or when the candidate or time budget is
 * spent, or when cancelled (between candidates and inside passes).
 */
public final class Planner {
    public static final String PICK_RULE = "among candidates meeting every SLO: highest accuracy; accuracies within "
            + "the tie tolerance are tied and the smaller artifact wins, then the lower device p95 latency, then the "
            + "earlier candidate";
    public static final String MEMORY_SOURCE = "estimate, not measured: the weights as ONNX Runtime holds them "
            + "(float16-stored weights counted at float32) plus every intermediate tensor of one batch-1 run at "
            + "4 bytes per element, without buffer reuse (an upper bound on activations)";

    private final OnnxModel model;
    private final String modelName;
    private final DeviceClassProfile deviceClass;
    private final Dataset calibration;
    private final Dataset validation;
    private final PlanBudget budget;
    private final CostModel costModel;
    private final List<Candidate> explicit;
    private final Map<String, String> commonParams;
    private final int threads;
    private final Progress progress;
    private final BooleanSupplier cancelled;
    private final boolean keepVariants;
    private final Map<String, Integer> batchAxes;

    private Planner(Builder b) {
        this.model = b.model;
        this.modelName = b.modelName != null ? b.modelName : b.model.graphName().isEmpty() ? "model"
                : b.model.graphName();
        this.deviceClass = b.deviceClass;
        this.calibration = b.calibration;
        this.validation = b.validation;
        this.budget = b.budget;
        this.costModel = b.costModel;
        this.explicit = b.candidates;
        this.commonParams = Map.copyOf(b.commonParams);
        this.threads = b.threads;
        this.progress = b.progress;
        this.cancelled = b.cancelled;
        this.keepVariants = b.keepVariants;
        this.batchAxes = Map.copyOf(b.batchAxes);
    }

    public static Builder builder(OnnxModel model, DeviceClassProfile deviceClass) {
        return new Builder(model, deviceClass);
    }

    public static final class Builder {
        private final OnnxModel model;
        private final DeviceClassProfile deviceClass;
        private String modelName;
        private Dataset calibration;
        private Dataset validation;
        private PlanBudget budget = PlanBudget.defaults();
        private CostModel costModel = CostModel.DeclaredProfile.INSTANCE;
        private List<Candidate> candidates;
        private Map<String, String> commonParams = Map.of();
        private int threads = 1;
        private Progress progress = Progress.NONE;
        private BooleanSupplier cancelled = () -> false;
        private boolean keepVariants;
        private Map<String, Integer> batchAxes = Map.of();

        private Builder(OnnxModel model, DeviceClassProfile deviceClass) {
            this.model = Objects.requireNonNull(model, "model");
            this.deviceClass = Objects.requireNonNull(deviceClass, "deviceClass");
        }

        public Builder modelName(String n) {
            this.modelName = n;
            return this;
        }

        public Builder calibration(Dataset d) {
            this.calibration = d;
            return this;
        }

        public Builder validation(Dataset d) {
            this.validation = d;
            return this;
        }

        public Builder budget(PlanBudget b) {
            this.budget = Objects.requireNonNull(b);
            return this;
        }

        /** Replaces the declared-profile estimate, e.g. with a model fitted from the class's device reports. */
        public Builder costModel(CostModel m) {
            this.costModel = Objects.requireNonNull(m);
            return this;
        }

        /** An explicit search space instead of {@link CandidateGenerator}'s grid (still filtered by precision). */
        public Builder candidates(List<Candidate> c) {
            this.candidates = List.copyOf(c);
            return this;
        }

        /** Parameter values for every candidate whose recipe declares them (grid values win). */
        public Builder commonParams(Map<String, String> p) {
            this.commonParams = Objects.requireNonNull(p);
            return this;
        }

        /** ONNX Runtime intra-op threads for evaluation and latency (the declared latency scale assumes 1). */
        public Builder threads(int t) {
            if (t < 1) {
                throw new IllegalArgumentException("threads must be >= 1");
            }
            this.threads = t;
            return this;
        }

        public Builder progress(Progress p) {
            this.progress = Objects.requireNonNull(p);
            return this;
        }

        public Builder cancelled(BooleanSupplier c) {
            this.cancelled = Objects.requireNonNull(c);
            return this;
        }

        /** Keep every evaluated variant in the outcome (tests; large models should not). */
        public Builder keepVariants(boolean on) {
            this.keepVariants = on;
            return this;
        }

        /**
         * The batch axis of inputs whose batch axis is not the first (see {@link InputRequirements#withBatchAxes});
         * their arrays hold samples along axis 0 with the batch axis left out.
         */
        public Builder batchAxes(Map<String, Integer> axes) {
            this.batchAxes = Objects.requireNonNull(axes);
            return this;
        }

        public Planner build() {
            return new Planner(this);
        }
    }

    /**
     * @param chosenVariant the chosen candidate's model (with the engine's provenance metadata); null without a choice
     * @param chosenReport its compression report (lineage: recipe, parameters, data hashes, engine version)
     * @param variants every evaluated variant by candidate id, when {@link Builder#keepVariants} was set
     */
    public record Outcome(Plan plan, OnnxModel chosenVariant, Report chosenReport, Map<String, OnnxModel> variants) {
    }

    /**
     * @throws BadInputException when the model does not load or the data cannot feed it (naming the input and why)
     * @throws CancellationException when cancelled
     */
    public Outcome run() {
        long t0 = System.nanoTime();
        progress.report(0, "checking the model and data");
        try (OrtRunner ignored = OrtRunner.open(model, OrtRunner.Options.defaults())) {
            // a model ONNX Runtime refuses is bad input, not a failure of every candidate
        } catch (ModelLoadException e) {
            throw new OnnxFormatException(OnnxFormatException.Reason.INVALID_MODEL, e.getMessage(), e);
        }
        Dataset calibration = InputRequirements.withBatchAxes(model, this.calibration, batchAxes);
        Dataset validation = InputRequirements.withBatchAxes(model, this.validation, batchAxes);
        InputRequirements.check(model, calibration, validation, batchAxes);

        List<String> skipped = new ArrayList<>();
        List<Candidate> space;
        if (explicit != null) {
            space = new ArrayList<>();
            for (Candidate c : explicit) {
                List<String> missing = c.requires().stream().filter(r -> !deviceClass.supports(r)).toList();
                if (!missing.isEmpty()) {
                    skipped.add(c.id() + ": the class does not compute in " + String.join(", ", missing));
                } else if (RecipeRegistry.get(c.recipe()).needsCalibration() && calibration == null) {
                    skipped.add(c.id() + ": needs calibration data");
                } else {
                    space.add(c);
                }
            }
        } else {
            CandidateGenerator.Space s = CandidateGenerator.forClass(deviceClass, calibration != null, commonParams);
            space = s.candidates();
            skipped.addAll(s.skipped());
        }

        Evaluator.Options eval = Evaluator.Options.defaults().withThreads(threads);
        if (budget.latencyRuns() > 0) {
            eval = eval.withLatencyRuns(Math.min(10, budget.latencyRuns()), budget.latencyRuns());
        }
        Map<String, TensorData> sample = Evaluator.firstSample(model, validation);
        List<CandidateResult> results = new ArrayList<>();
        Map<String, JobResult> jobs = new LinkedHashMap<>();
        String stopped = space.isEmpty() ? "no candidate is allowed for this class" : "every candidate was tried";
        for (int i = 0; i < space.size(); i++) {
            checkCancelled();
            Candidate c = space.get(i);
            if (jobs.size() >= budget.maxCandidates()) {
                stopped = "budget: " + budget.maxCandidates() + " candidates built; " + (space.size() - i)
                        + " not tried";
                break;
            }
            double minutes = (System.nanoTime() - t0) / 60e9;
            if (minutes >= budget.maxMinutes()) {
                stopped = String.format(Locale.ROOT, "budget: %.1f of %.1f minutes spent; %d candidates not tried",
                        minutes, budget.maxMinutes(), space.size() - i);
                break;
            }
            Progress slice = progress.slice(0.02 + 0.96 * i / space.size(), 0.02 + 0.96 * (i + 1) / space.size());
            String prefix = "candidate " + (i + 1) + "/" + space.size() + " " + c.id() + ": ";
            slice.report(0, prefix + "building");
            long c0 = System.nanoTime();
            JobResult r;
            try {
                Recipe recipe = RecipeRegistry.get(c.recipe()).withParameters(c.params());
                r = CompressionJob.builder(model, recipe).modelName(modelName).calibration(calibration)
                        .validation(validation).gate(deviceClass.accuracyBudget()).evaluation(eval)
                        .measureLatency(budget.latencyRuns() > 0)
                        .progress((f, m) -> slice.report(f, prefix + m)).cancelled(cancelled).build().run();
            } catch (CancellationException e) {
                throw e;
            } catch (BadInputException | EngineException e) {
                // this recipe does not apply to this model (nothing to prune, an op it cannot rewrite): say so, go on
                results.add(new CandidateResult(i, c.id(), c.recipe(), c.params(), c.requires(), Plan.Status.FAILED,
                        String.valueOf(e.getMessage()), null, null, null, null, null, null, null, null, null, null,
                        null, null, List.of(), false, false, false, seconds(c0)));
                jobs.put(c.id(), null);
                continue;
            }
            jobs.put(c.id(), r);
            CandidateResult cr = cost(i, c, r, sample, seconds(c0));
            results.add(cr);
            slice.report(1, prefix + (cr.meetsAll() ? "meets every SLO" : "misses " + cr.misses().stream()
                    .map(SloCheck::slo).toList()));
            if (cr.withMargin() && budget.earlyStop()) {
                stopped = String.format(Locale.ROOT, "early stop: %s meets every SLO with a %.0f %% margin; %d "
                        + "candidates not tried", c.id(), budget.earlyStopMargin() * 100, space.size() - i - 1);
                break;
            }
        }

        List<String> frontier = frontier(results);
        List<CandidateResult> marked = results.stream().map(r -> r.onFrontier(frontier.contains(r.id()))).toList();
        CandidateResult chosen = pick(marked, budget.tiePoints());
        String reason;
        List<Plan.Closest> closest = List.of();
        if (chosen != null) {
            long within = marked.stream().filter(CandidateResult::meetsAll).count();
            reason = String.format(Locale.ROOT, "%s meets every SLO (%d of %d evaluated candidates do) and has the "
                    + "highest accuracy among them (%.2f %%, drop %.2f points), ties within %.2f points going to the "
                    + "smaller artifact (%d bytes)", chosen.id(), within, marked.stream()
                            .filter(x -> x.status() == Plan.Status.EVALUATED).count(), chosen.accuracyPercent(),
                    chosen.dropPoints(), budget.tiePoints(), chosen.bytes());
        } else {
            reason = "no candidate meets every SLO; nothing is chosen and nothing may be deployed from this plan";
            closest = closest(marked);
        }
        JobResult chosenJob = chosen == null ? null : jobs.get(chosen.id());
        Map<String, OnnxModel> variants = new LinkedHashMap<>();
        if (keepVariants) {
            jobs.forEach((id, j) -> {
                if (j != null) {
                    variants.put(id, j.variant());
                }
            });
        }
        CostModel.Estimate sourceProbe = costModel.estimate(new CostModel.Measured(1.0, 1.0, 1.0, 0, 0), deviceClass);
        Plan plan = new Plan(EngineVersion.get(), new Plan.ModelRef(modelName, model.sha256(), model.sizeBytes()),
                deviceClass.id(), data(this.calibration), data(this.validation),
                new Plan.Sources(costModel.name(), budget.latencyRuns() > 0 ? sourceProbe.latencySource()
                        + relativeSource() : "not measured (latencyRuns 0): latency and energy SLOs are unknown", sourceProbe.energySource(),
                        MEMORY_SOURCE, validation.hasLabels() ? "top-1 accuracy against the validation labels"
                                : "no labels: top-1 agreement with the base model on the validation data"),
                budget, PICK_RULE, stopped, skipped, marked, frontier, chosen == null ? null : chosen.id(), reason,
                closest, baselines(chosenJob, jobs.values()), seconds(t0));
        progress.report(1, chosen == null ? "no candidate meets every SLO" : "chose " + chosen.id());
        return new Outcome(plan, chosenJob == null ? null : chosenJob.variant(),
                chosenJob == null ? null : chosenJob.report(), variants);
    }

    // ---------------------------------------------------------------- costing

    private CandidateResult cost(int index, Candidate c, JobResult r, Map<String, TensorData> sample, double secs) {
        Report rep = r.report();
        OnnxModel v = r.variant();
        var latency = rep.measurements() == null ? null : rep.measurements().latency();
        long macs = rep.stats().variant().macs();
        CostModel.Measured measured = new CostModel.Measured(latency == null ? null : latency.variant().p50(),
                latency == null ? null : latency.variant().p95(), latency == null ? null : latency.variant().mean(),
                macs, v.sizeBytes());
        CostModel.Estimate est = costModel.estimate(relativeToBenchmark(measured, latency), deviceClass);
        long memory = peakMemory(c, v, rep, sample);
        Quality q = rep.accuracy().quality();
        double worstCohort = q.cohorts().stream().mapToDouble(Quality.Slice::dropPoints).max().orElse(Double.NaN);

        List<SloCheck> checks = new ArrayList<>();
        var gate = deviceClass.accuracyBudget();
        checks.add(check("accuracy.overall", "points dropped", gate.overallPoints(), q.overall().dropPoints(),
                q.overall().nonFinite() > 0 ? "NaN or infinite outputs" : null, true));
        if (!q.cohorts().isEmpty()) {
            boolean nonFinite = q.cohorts().stream().anyMatch(s -> s.nonFinite() > 0);
            checks.add(check("accuracy.cohort", "points dropped (worst cohort)", gate.cohortPoints(), worstCohort,
                    nonFinite ? "NaN or infinite outputs" : null, true));
        }
        var slo = deviceClass.slo();
        checks.add(check("p95LatencyMs", "ms on the device", slo.p95LatencyMs(), est.p95Ms(),
                est.p95Ms() == null ? est.latencySource() : null, false));
        checks.add(check("modelBytes", "bytes", slo.maxModelBytes(), (double) v.sizeBytes(), null, false));
        if (slo.maxEnergyMj() != null) {
            checks.add(check("energyMj", "mJ per inference", slo.maxEnergyMj(), est.energyMj(),
                    est.energyMj() == null ? est.energySource() : null, false));
        }
        checks.add(check("memoryBytes", "bytes of peak session memory (estimate)", deviceClass.ramBytes(),
                (double) memory, null, false));
        checks.add(check("storageBytes", "bytes for two slots (A/B store)", deviceClass.storageBytes(),
                2.0 * v.sizeBytes(), null, false));
        boolean meetsAll = rep.gate().passed() && checks.stream().allMatch(s -> s.verdict() == Verdict.MET);
        double m = Math.max(0, budget.earlyStopMargin());
        boolean withMargin = meetsAll && checks.stream().allMatch(s -> s.value() <= (1 - m) * s.limit() + 1e-9);
        return new CandidateResult(index, c.id(), c.recipe(), c.params(), c.requires(), Plan.Status.EVALUATED, null,
                v.sha256(), v.sizeBytes(), macs, measured.p50Ms(), measured.p95Ms(), est.p95Ms(), est.energyMj(),
                memory, q.overall().variantPercent(), q.overall().dropPoints(),
                Double.isNaN(worstCohort) ? null : worstCohort, rep.gate().summary(), checks, meetsAll, withMargin,
                false, secs);
    }

    private static SloCheck check(String name, String unit, double limit, Double value, String unknownWhy,
            boolean accuracy) {
        if (value == null || Double.isNaN(value)) {
            return new SloCheck(name, unit, limit, null, Verdict.UNKNOWN, unknownWhy);
        }
        if (accuracy && unknownWhy != null) {
            return new SloCheck(name, unit, limit, value, Verdict.MISSED, unknownWhy);
        }
        boolean met = value <= limit + (accuracy ? 1e-9 : 0);
        return new SloCheck(name, unit, limit, value, met ? Verdict.MET : Verdict.MISSED, null);
    }

    /**
     * When the base model was benchmarked on the class's devices, the candidate's server median is taken relative to
     * it: the benchmark's median of the base x (the candidate's median / the base's median, both from the same
     * interleaved runs). Minutes apart the server's speed moves with whatever else shares its cores (the broker, the
     * database, the agents' downloads): medians of the same model were 0.74-1.10x apart between a benchmark and the plan
     * right after it on a 2-core machine, while a ratio measured interleaved holds. Otherwise the measurement as is.
     */
    CostModel.Measured relativeToBenchmark(CostModel.Measured measured, Latency latency) {
        Double reference = costModel.benchmarkedServerP50(model.sha256());
        if (reference == null || latency == null || measured.p50Ms() == null || !(latency.base().p50() > 0)) {
            return measured;
        }
        double p50 = reference * measured.p50Ms() / latency.base().p50();
        return new CostModel.Measured(p50, measured.p95Ms(), measured.meanMs(), measured.macs(), measured.bytes());
    }

    /** What the plan's latency source adds when candidates are costed relative to the base model's benchmark. */
    private String relativeSource() {
        Double reference = costModel.benchmarkedServerP50(model.sha256());
        return reference == null ? "" : String.format(Locale.ROOT, "; each candidate's server p50 is taken as the base "
                + "model's benchmarked p50 (%.4g ms) x its ratio to the base in the same interleaved runs", reference);
    }

    /** See {@link #MEMORY_SOURCE}. */
    static long peakMemory(Candidate c, OnnxModel v, Report rep, Map<String, TensorData> sample) {
        long weights = rep.stats().variant().parameterBytes();
        if (c.recipe().equals("fp16-storage")) {
            weights *= 2;
        }
        long activations = 0;
        try {
            Map<String, long[]> shapes = OrtRunner.probeShapes(v, sample, OrtRunner.Options.defaults());
            for (long[] s : shapes.values()) {
                long n = 1;
                for (long d : s) {
                    n *= Math.max(1, d);
                }
                activations += 4 * n;
            }
        } catch (RuntimeException e) {
            // shapes unknown: weights alone (the plan's memory source says it is an estimate)
        }
        return weights + activations;
    }

    // ---------------------------------------------------------------- choice

    static CandidateResult pick(List<CandidateResult> results, double tiePoints) {
        List<CandidateResult> ok = results.stream().filter(CandidateResult::meetsAll).toList();
        if (ok.isEmpty()) {
            return null;
        }
        double best = ok.stream().mapToDouble(CandidateResult::accuracyPercent).max().orElseThrow();
        return ok.stream().filter(r -> r.accuracyPercent() >= best - tiePoints - 1e-9)
                .min(Comparator.comparingLong(CandidateResult::bytes)
                        .thenComparingDouble(r -> r.deviceP95Ms() == null ? Double.MAX_VALUE : r.deviceP95Ms())
                        .thenComparingInt(CandidateResult::index))
                .orElseThrow();
    }

    /**
     * Evaluated candidates no other evaluated candidate dominates: at least as good in accuracy, device latency,
     * bytes and energy, and strictly better in one. An unknown figure (no latency, no power model) is left out of
     * the comparison for everyone.
     */
    static List<String> frontier(List<CandidateResult> results) {
        List<CandidateResult> ev = results.stream().filter(r -> r.status() == Plan.Status.EVALUATED).toList();
        List<String> out = new ArrayList<>();
        for (CandidateResult a : ev) {
            boolean dominated = false;
            for (CandidateResult b : ev) {
                if (a != b && dominates(b, a)) {
                    dominated = true;
                    break;
                }
            }
            if (!dominated) {
                out.add(a.id());
            }
        }
        return out;
    }

    private static boolean dominates(CandidateResult b, CandidateResult a) {
        double[] av = objectives(a);
        double[] bv = objectives(b);
        boolean strictly = false;
        for (int i = 0; i < av.length; i++) {
            if (Double.isNaN(av[i]) || Double.isNaN(bv[i])) {
                continue;
            }
            if (bv[i] > av[i] + 1e-12) {
                return false;
            }
            if (bv[i] < av[i] - 1e-12) {
                strictly = true;
            }
        }
        return strictly;
    }

    /** Lower is better for all: -accuracy, device p95, bytes, energy. */
    private static double[] objectives(CandidateResult r) {
        return new double[] {-r.accuracyPercent(), r.deviceP95Ms() == null ? Double.NaN : r.deviceP95Ms(),
                r.bytes(), r.energyMj() == null ? Double.NaN : r.energyMj()};
    }

    /** The three evaluated candidates with the fewest misses, then the smallest summed relative excess. */
    static List<Plan.Closest> closest(List<CandidateResult> results) {
        return results.stream().filter(r -> r.status() == Plan.Status.EVALUATED)
                .sorted(Comparator.comparingInt((CandidateResult r) -> r.misses().size())
                        .thenComparingDouble(Planner::excess).thenComparingInt(CandidateResult::index))
                .limit(3)
                .map(r -> new Plan.Closest(r.id(), r.misses().stream().map(Planner::describeMiss).toList()))
                .toList();
    }

    private static double excess(CandidateResult r) {
        double sum = 0;
        for (SloCheck s : r.misses()) {
            sum += s.value() == null ? 1 : (s.value() - s.limit()) / Math.max(1e-9, Math.abs(s.limit()));
        }
        return sum;
    }

    static String describeMiss(SloCheck s) {
        if (s.verdict() == Verdict.UNKNOWN) {
            return s.slo() + ": unknown (" + s.note() + ")";
        }
        return String.format(Locale.ROOT, "%s: %s %s over the limit of %s%s", s.slo(), num(s.value()), s.unit(),
                num(s.limit()), s.note() == null ? "" : " (" + s.note() + ")");
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v);
    }

    /**
     * The uncompressed model (figures from any evaluated candidate's comparison, whose base columns it is) and the
     * aggressive reference of the chosen candidate's recipe, or of the first evaluated compression recipe when the
     * choice has none (the float model itself) or there is no choice.
     */
    private List<Plan.Baseline> baselines(JobResult chosen, java.util.Collection<JobResult> all) {
        List<JobResult> evaluated = all.stream().filter(Objects::nonNull).toList();
        if (evaluated.isEmpty()) {
            return List.of();
        }
        Report any = evaluated.get(0).report();
        Quality q = any.accuracy().quality();
        List<Plan.Baseline> out = new ArrayList<>();
        out.add(new Plan.Baseline(Report.UNCOMPRESSED, "the base model, unchanged", model.sha256(),
                any.stats().base().bytes(), any.stats().base().macs(), q == null ? null : q.overall().basePercent(),
                0.0));
        List<JobResult> order = new ArrayList<>();
        if (chosen != null) {
            order.add(chosen);
        }
        order.addAll(evaluated);
        for (JobResult j : order) {
            for (Report.Baseline b : j.report().baselines()) {
                if (b.role().equals(Report.AGGRESSIVE_REFERENCE) && b.sha256() != null) {
                    Report.Score overall = b.scores().isEmpty() ? null : b.scores().get(0);
                    out.add(new Plan.Baseline(b.role(), j.report().recipe().name() + ": " + b.description(),
                            b.sha256(), b.stats() == null ? null : b.stats().bytes(),
                            b.stats() == null ? null : b.stats().macs(), overall == null ? null : overall.percent(),
                            overall == null ? null : overall.dropPoints()));
                    return out;
                }
            }
        }
        out.add(new Plan.Baseline(Report.AGGRESSIVE_REFERENCE, "not built: no evaluated compression candidate "
                + "defines one", null, null, null, null, null));
        return out;
    }

    private static Plan.DataRef data(Dataset d) {
        return d == null ? null : new Plan.DataRef(d.source(), d.sha256(), d.size(), d.hasLabels(), d.hasCohorts());
    }

    private static double seconds(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e6) / 1e3;
    }

    private void checkCancelled() {
        if (cancelled.getAsBoolean()) {
            throw new CancellationException("planning cancelled");
        }
    }
}
