package io.edgefleet.engine.cli;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.EngineVersion;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.ModelLoadException;
import io.edgefleet.engine.eval.ModelStats;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.ParamSpec;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.report.Report;
import io.edgefleet.engine.report.ReportWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Command line for the engine.
 *
 * <pre>
 * compress --model m.onnx --recipe NAME [--calibration c.npz] [--validation v.npz] [--budget-overall 0.5]
 *          [--budget-cohort 1.0] [--threads 1] [--param key=value]... --out DIR
 * inspect  --model m.onnx [--data d.npz]
 * recipes
 * </pre>
 *
 * Exit codes: 0 done (compress: the gate passed), 3 the gate rejected the variant (still written, as
 * {@code <name>-<recipe>.rejected.onnx}), 2 bad input (message on stderr), 1 internal error.
 */
@Command(name = "edgefleet-engine", mixinStandardHelpOptions = true, versionProvider = CompressCli.Version.class,
        description = "edgefleet compression engine: compress an ONNX model with a recipe, gate it on accuracy, "
                + "and write the variant with a report.",
        subcommands = {CompressCli.Compress.class, CompressCli.Inspect.class, CompressCli.Recipes.class})
public final class CompressCli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int INTERNAL_ERROR = 1;
    public static final int BAD_INPUT = 2;
    public static final int GATE_REJECTED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return BAD_INPUT;
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs a command line and returns its exit code (no System.exit, for tests and embedding). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new CompressCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof BadInputException) {
                err.println("error: " + e.getMessage());
                return BAD_INPUT;
            }
            err.println("internal error: " + e);
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                err.println("  caused by: " + c);
            }
            return INTERNAL_ERROR;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"edgefleet engine " + EngineVersion.get()};
        }
    }

    // ---------------------------------------------------------------- compress

    @Command(name = "compress", mixinStandardHelpOptions = true,
            description = "Run a recipe on a model, evaluate the variant against it and apply the accuracy gate. "
                    + "Writes DIR/<name>-<recipe>.onnx (or .rejected.onnx), report.json, report.md and report.html.")
    static final class Compress implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--model", required = true, description = "ONNX model file (weights inline)")
        Path model;

        @Option(names = "--recipe", required = true, description = "recipe name; see the 'recipes' command")
        String recipe;

        @Option(names = "--calibration", description = ".npz with samples per model input (and optional labels, "
                + "cohort)")
        Path calibration;

        @Option(names = "--validation", description = ".npz for evaluation; without it the calibration data is used")
        Path validation;

        @Option(names = "--budget-overall", defaultValue = "0.5",
                description = "allowed accuracy drop overall, percentage points (default ${DEFAULT-VALUE})")
        double budgetOverall;

        @Option(names = "--budget-cohort", defaultValue = "1.0",
                description = "allowed accuracy drop per cohort, percentage points (default ${DEFAULT-VALUE})")
        double budgetCohort;

        @Option(names = "--threads", defaultValue = "1",
                description = "ONNX Runtime intra-op threads (default ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--param", description = "recipe parameter override key=value (repeatable)")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--latency-runs", defaultValue = "100",
                description = "timed batch-1 runs per model; 0 skips the latency measurement (default "
                        + "${DEFAULT-VALUE})")
        int latencyRuns;

        @Option(names = "--quiet", description = "no progress on stderr")
        boolean quiet;

        @Option(names = "--out", required = true, description = "output directory (created if missing)")
        Path out;

        @Override
        public Integer call() throws IOException {
            PrintWriter stdout = spec.commandLine().getOut();
            PrintWriter stderr = spec.commandLine().getErr();
            if (threads < 1 || latencyRuns < 0) {
                throw new BadInputException("--threads must be >= 1 and --latency-runs >= 0");
            }
            if (!(budgetOverall >= 0) || !(budgetCohort >= 0)) {
                throw new BadInputException("budgets must be >= 0 percentage points");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new BadInputException("--out " + out + " exists and is not a directory");
            }
            Recipe r = RecipeRegistry.get(recipe).withParameters(params);
            OnnxModel m = OnnxModel.read(model);
            Dataset calib = calibration == null ? null : Dataset.fromNpz(calibration);
            Dataset valid = validation == null ? null : Dataset.fromNpz(validation);
            String name = stem(model);
            Evaluator.Options eval = Evaluator.Options.defaults().withThreads(threads)
                    .withLatencyRuns(Math.min(10, latencyRuns), Math.max(1, latencyRuns));
            JobResult result = CompressionJob.builder(m, r).modelName(name).calibration(calib).validation(valid)
                    .gate(new AccuracyGate(budgetOverall, budgetCohort)).evaluation(eval)
                    .measureLatency(latencyRuns > 0)
                    .progress(quiet ? Progress.NONE : new ThrottledProgress(stderr))
                    .build().run();
            Report report = result.report();
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new BadInputException("cannot create output directory " + out + ": " + e.getMessage(), e);
            }
            Path variantFile = out.resolve(report.variant().fileName());
            result.variant().write(variantFile);
            writeAtomically(out.resolve("report.json"), ReportWriter.json(report));
            writeAtomically(out.resolve("report.md"), ReportWriter.markdown(report));
            writeAtomically(out.resolve("report.html"), ReportWriter.html(report));

            stdout.println((report.gate().passed() ? "PASSED  " : "REJECTED  ") + report.gate().summary());
            for (String reason : report.gate().reasons()) {
                stdout.println("  - " + reason);
            }
            if ("BASELINE".equals(report.recipe().kind())) {
                stdout.println("note: recipe '" + r.name() + "' is a baseline (the model unchanged), not a "
                        + "compression");
            }
            stdout.printf(Locale.ROOT, "variant  %s (%d bytes, %.3f of base)%n", variantFile,
                    report.variant().bytes(), report.stats().sizeRatio());
            stdout.println("report   " + out.resolve("report.md"));
            return report.gate().passed() ? OK : GATE_REJECTED;
        }
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String stem(Path file) {
        String n = file.getFileName().toString();
        return n.toLowerCase(Locale.ROOT).endsWith(".onnx") ? n.substring(0, n.length() - 5) : n;
    }

    /** Progress on stderr: a line when the step changes or another 10 % is done. */
    static final class ThrottledProgress implements Progress {
        private final PrintWriter err;
        private int lastPercent = -100;
        private String lastStep = "";

        ThrottledProgress(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void report(double fraction, String message) {
            int pct = (int) Math.round(fraction * 100);
            int colon = message.indexOf(':');
            String step = colon > 0 ? message.substring(0, colon) : message.split(" ")[0];
            if (pct - lastPercent >= 10 || !step.equals(lastStep) || pct == 100 && lastPercent != 100) {
                err.printf(Locale.ROOT, "[%3d%%] %s%n", pct, message);
                err.flush();
                lastPercent = pct;
                lastStep = step;
            }
        }
    }

    // ---------------------------------------------------------------- inspect

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print a model's inputs, outputs, opsets, op histogram, parameters and MACs.")
    static final class Inspect implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--model", required = true, description = "ONNX model file")
        Path model;

        @Option(names = "--data", description = ".npz whose first sample sets the shapes for MACs "
                + "(default: declared shapes, symbolic dims = 1)")
        Path data;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            OnnxModel m = OnnxModel.read(model);
            o.println("model     " + model.getFileName() + " (graph '" + m.graphName() + "')");
            o.println("sha256    " + m.sha256());
            o.println("bytes     " + m.sizeBytes());
            o.println("ir        " + m.irVersion());
            StringBuilder ops = new StringBuilder();
            m.opsetImports().forEach((d, v) -> ops.append(ops.length() == 0 ? "" : ", ")
                    .append(d.isEmpty() ? "ai.onnx" : d).append(' ').append(v));
            o.println("opsets    " + ops);
            for (ValueInfo in : m.inputs()) {
                o.println("input     " + in.name() + " " + in.describe());
            }
            for (ValueInfo out : m.outputs()) {
                o.println("output    " + out.name() + " " + out.describe());
            }
            o.println("ops");
            m.opHistogram().forEach((op, n) -> o.printf(Locale.ROOT, "  %-28s %d%n", op, n));
            Map<String, TensorData> sample = null;
            String shapeNote;
            if (data != null) {
                Dataset d = Dataset.fromNpz(data);
                d.validateFor(m);
                sample = d.feeds(m, 0, 1);
                shapeNote = "first sample of " + data.getFileName();
            } else {
                shapeNote = "declared input shapes, symbolic dims = 1";
            }
            ModelStats stats;
            try {
                stats = new Evaluator(Evaluator.Options.defaults()).stats(m, sample);
            } catch (ModelLoadException e) {
                throw new BadInputException(e.getMessage(), e);
            } catch (EngineException e) {
                stats = ModelStats.of(m, Map.of());
                shapeNote = "not computed: " + e.getMessage();
            }
            o.printf(Locale.ROOT, "params    %,d (%,d bytes)%n", stats.parameters(), stats.parameterBytes());
            o.printf(Locale.ROOT, "MACs      %,d per sample (%s)%n", stats.macs(), shapeNote);
            stats.macsByOp().forEach((op, n) -> o.printf(Locale.ROOT, "  %-28s %,d%n", op, n));
            return OK;
        }
    }

    // ---------------------------------------------------------------- recipes

    @Command(name = "recipes", mixinStandardHelpOptions = true,
            description = "List the available recipes with their parameters: type, allowed values, default.")
    static final class Recipes implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--markdown", description = "print one Markdown table of parameters per recipe (the "
                + "tables in docs/compression-jobs.md)")
        boolean markdown;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            if (markdown) {
                o.print(markdown(RecipeRegistry.builtIn()));
                return OK;
            }
            for (Recipe r : RecipeRegistry.all()) {
                o.printf(Locale.ROOT, "%-22s %-11s %s%n", r.name(), r.kind().name().toLowerCase(Locale.ROOT)
                        + (r.needsCalibration() ? "*" : ""), r.description());
                o.println("    passes: " + String.join(" -> ", r.passNames()));
                if (!r.specs().isEmpty()) {
                    o.println("    parameters (name, type, default, allowed):");
                }
                for (ParamSpec<?> p : r.specs()) {
                    o.printf(Locale.ROOT, "      %-21s %-7s %-14s %s%n", p.name(), p.type(),
                            shown(r.parameters().get(p.name())), p.allowed());
                }
            }
            o.println("(* needs --calibration)");
            return OK;
        }
    }

    private static String shown(String value) {
        return value.isEmpty() ? "\"\"" : value;
    }

    /** A Markdown table of parameters per recipe, generated from their specs. */
    static String markdown(List<Recipe> recipes) {
        StringBuilder md = new StringBuilder();
        for (Recipe r : recipes) {
            md.append("### `").append(r.name()).append("`").append(r.needsCalibration() ? " (needs calibration data)"
                    : "").append("\n\n");
            if (r.specs().isEmpty()) {
                md.append("No parameters.\n\n");
                continue;
            }
            md.append("| parameter | type | default | allowed |\n|---|---|---|---|\n");
            for (ParamSpec<?> p : r.specs()) {
                md.append("| `").append(p.name()).append("` | ").append(p.type()).append(" | `")
                        .append(shown(r.parameters().get(p.name()))).append("` | ")
                        .append(p.allowed().replace("|", "\\|")).append(" |\n");
            }
            md.append('\n');
        }
        return md.toString();
    }
}
