package io.edgefleet.engine.bench;

import io.edgefleet.engine.TestFixtures;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.planner.DeviceClassProfile;
import io.edgefleet.engine.planner.Plan;
import io.edgefleet.engine.planner.PlanBudget;
import io.edgefleet.engine.planner.PlanWriter;
import io.edgefleet.engine.planner.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Planning time per class: digits-resnet with its calibration and validation data, planned for three classes (an
 * int8-only board with a tight byte budget, a float gateway with a p95 SLO the float model misses, a fast box with
 * loose SLOs). Prints each class's choice, its metrics and the wall-clock planning time; writes each plan's JSON and
 * page to {@code target/plans/}. Skips (exit 0) when the fixtures are absent.
 *
 * <pre>
 * ./mvnw -B -q -pl server/engine -Pbench test-compile exec:java -Dexec.mainClass=io.edgefleet.engine.bench.PlanBenchmark \
 *     -Dexec.classpathScope=test -Dexec.cleanupDaemonThreads=false
 * </pre>
 *
 * System properties: {@code bench.digits} (fixture directory), {@code bench.latencyRuns} (default 30).
 */
public final class PlanBenchmark {
    private static final long MIB = 1L << 20;

    private PlanBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = System.getProperty("bench.digits") != null ? Path.of(System.getProperty("bench.digits"))
                : TestFixtures.digits();
        Path modelFile = dir.resolve("digits-resnet.onnx");
        if (!Files.exists(modelFile) || !Files.exists(dir.resolve("digits-resnet-validation.npz"))) {
            System.out.println("digits-resnet fixtures not found under " + dir + "; skipped");
            return;
        }
        int runs = Integer.getInteger("bench.latencyRuns", 30);
        OnnxModel model = OnnxModel.read(modelFile);
        Dataset calib = Dataset.fromNpz(dir.resolve("digits-resnet-calibration.npz"));
        Dataset valid = Dataset.fromNpz(dir.resolve("digits-resnet-validation.npz"));
        // The gateway's p95 SLO is 0.8 x the float model's own warm server p50 (median of three measurements made like
        // the planner's) x the gateway's latency scale: the float model's p95 is above its p50, so it misses, on any
        // machine, and the gateway needs a faster variant. (The p50 is the robust figure on a busy machine.)
        Evaluator ev = new Evaluator(Evaluator.Options.defaults().withLatencyRuns(Math.min(10, runs), runs));
        double[] p95s = new double[3];
        for (int i = 0; i < p95s.length; i++) {
            p95s[i] = ev.latency(model, model, Evaluator.firstSample(model, valid), io.edgefleet.engine.Progress.NONE)
                    .base().p50();
        }
        java.util.Arrays.sort(p95s);
        double floatP50 = p95s[1];
        AccuracyGate gate = new AccuracyGate(1.0, 2.0);
        List<DeviceClassProfile> classes = List.of(
                new DeviceClassProfile("int8-board", Set.of("int8"), 256 * MIB, 512 * MIB, 0.4, 1.2, 4.0,
                        new DeviceClassProfile.Slo(500, model.sizeBytes() * 28 / 100, 200.0), gate),
                new DeviceClassProfile("gateway", Set.of("fp32"), 1024 * MIB, 8192 * MIB, 2.0, 6.0, 2.0,
                        new DeviceClassProfile.Slo(0.8 * floatP50 * 2.0, 64 * MIB, null), gate),
                new DeviceClassProfile("fast-box", Set.of("fp32", "fp16", "int8"), 8192 * MIB, 65536 * MIB, 10.0,
                        30.0, 0.5, new DeviceClassProfile.Slo(100, 256 * MIB, 1000.0), gate));
        Path out = (Files.isDirectory(Path.of("server/engine/target")) ? Path.of("server/engine/target")
                : Path.of("target")).resolve("plans");
        Files.createDirectories(out);
        System.out.printf(Locale.ROOT, "digits-resnet: %d bytes, float server p50 %.3f ms, %d validation samples, "
                + "%d latency runs per candidate, %d cores%n", model.sizeBytes(), floatP50, valid.size(), runs,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| class | choice | accuracy % | drop | bytes | device p95 ms (est.) | energy mJ (est.) | "
                + "candidates built | stopped | planning s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (DeviceClassProfile c : classes) {
            long t0 = System.nanoTime();
            Plan p = Planner.builder(model, c).modelName("digits-resnet").calibration(calib).validation(valid)
                    .budget(new PlanBudget(12, 30, PlanBudget.DEFAULT_MARGIN, PlanBudget.DEFAULT_TIE_POINTS, runs))
                    .build().run().plan();
            double secs = (System.nanoTime() - t0) / 1e9;
            Files.writeString(out.resolve("digits-resnet-" + c.id() + ".json"), PlanWriter.json(p));
            Files.writeString(out.resolve("digits-resnet-" + c.id() + ".html"), PlanWriter.html(p));
            Plan.CandidateResult ch = p.chosen();
            long built = p.candidates().size();
            if (ch == null) {
                System.out.printf(Locale.ROOT, "| %s | none: %s | | | | | | %d | %s | %.1f |%n", c.id(),
                        p.closest().isEmpty() ? "" : p.closest().get(0).id() + " misses " + p.closest().get(0).misses(),
                        built, p.stoppedBecause(), secs);
            } else {
                System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f | %d | %.3f | %s | %d | %s | %.1f |%n",
                        c.id(), ch.id(), ch.accuracyPercent(), ch.dropPoints(), ch.bytes(), ch.deviceP95Ms(),
                        ch.energyMj() == null ? "-" : String.format(Locale.ROOT, "%.3f", ch.energyMj()), built,
                        p.stoppedBecause(), secs);
            }
        }
        System.out.println("plans written to " + out.toAbsolutePath());
    }

}
