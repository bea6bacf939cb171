package io.edgefleet.engine.bench;

import io.edgefleet.engine.TestFixtures;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.eval.ReferenceProfiles;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.DriftThresholds;
import io.edgefleet.protocol.drift.DriftWindow;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.protocol.drift.TensorSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Drift detection as the agent does it: the reference profile is built from part of a validation set (as
 * the server builds it), and streams of telemetry windows are drawn at random from the held-out rest (the
 * device's traffic), once as they are and once with the inputs shifted. Prints, per shift,
 * how many windows pass until the overall PSI crosses the alert threshold (goal: at most 2), and for the
 * unshifted stream the share of windows that cross it anyway (false alarms; goal: at most 1 %).
 *
 * <p>Data: {@code digits-mlp} and {@code digits-resnet} with their validation sets from the shared fixtures
 * when present (reference and stream are random halves of the 540 samples), and always the in-code sample
 * MLP on a synthetic Gaussian stream with a reference of 5,000 samples. System properties:
 * {@code bench.window} (inferences per window, default 200: a 10 s window at the agent's default 50 ms
 * interval), {@code bench.windows} (unshifted windows, default 2000), {@code bench.trials} (shifted
 * streams per shift, default 200), {@code bench.seed}.
 *
 * <p>Run: {@code ./mvnw -B -q -pl server/engine -am -Pdrift-bench test -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}
 */
public final class DriftBenchmark {
    private static final int WINDOW = Integer.getInteger("bench.window", 200);
    private static final int WINDOWS = Integer.getInteger("bench.windows", 2000);
    private static final int TRIALS = Integer.getInteger("bench.trials", 200);
    private static final long SEED = Long.getLong("bench.seed", 42);
    private static final int BINS = Integer.getInteger("bench.bins", io.edgefleet.protocol.drift.Bins.DEFAULT_BINS);
    /** Windows a shifted stream gets before it counts as not detected. */
    private static final int MAX_WINDOWS = 20;

    /** One inference of the stream: its input and output as the agent would see them. */
    private record Sample(List<TensorSample> inputs, List<TensorSample> outputs) {
    }

    private DriftBenchmark() {
    }

    public static void main(String[] args) {
        Path digits = TestFixtures.digits();
        System.out.printf("drift benchmark: window %d inferences, %d quantile bins, %d unshifted windows, %d shifted streams per"
                + " shift, alert at PSI >= %.2f (overall = max over features)%n", WINDOW, BINS, WINDOWS, TRIALS,
                DriftThresholds.PSI_ALERT);
        System.out.println("| data | reference | shift | windows to alert (mean / max) | detected within 2 windows |"
                + " false alarms (unshifted) |");
        System.out.println("|---|---|---|---|---|---|");
        boolean any = false;
        for (String name : List.of("digits-mlp", "digits-resnet")) {
            Path model = digits.resolve(name + ".onnx");
            Path valid = digits.resolve(name + "-validation.npz");
            if (Files.isRegularFile(model) && Files.isRegularFile(valid)) {
                // The validation file is ordered by cohort: split it at random, not in the middle.
                Dataset v = Dataset.fromNpz(valid);
                int[][] halves = randomHalves(v.size(), new Random(SEED));
                run(name, OnnxModel.read(model), v.select(halves[0], "reference"),
                        "random half of validation (" + halves[0].length + ")", v.select(halves[1], "stream"),
                        "the other half (" + halves[1].length + ")");
                // The null hypothesis exactly: traffic drawn from the very distribution the profile describes.
                run(name, OnnxModel.read(model), v, "validation (" + v.size() + ")", v, "the same set, resampled");
                any = true;
            }
        }
        if (!any) {
            System.out.println("(no digits fixtures under " + digits + ")");
        }
        // A stream from the same generator as a large reference: what the statistics do when the reference is
        // not itself a small sample (the sample MLP on Gaussian inputs).
        Random r = new Random(SEED);
        int n = 10_000;
        float[] x = new float[n * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Dataset all = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, 64}, x)), null, null);
        int[][] halves = randomHalves(n, r);
        run("synthetic Gaussian, sample MLP", SampleModels.mlp(1), all.select(halves[0], "reference"),
                "5,000 generated samples", all.select(halves[1], "stream"), "5,000 other generated samples");
        DIAGNOSTICS.forEach(System.out::println);
    }

    private static void run(String name, OnnxModel model, Dataset reference, String referenceLabel, Dataset stream,
                            String streamLabel) {
        ReferenceProfile profile = ReferenceProfiles.build(model, reference, ReferenceProfile.SOURCE_VALIDATION,
                reference.size(), OrtRunner.Options.defaults(), BINS);
        String input = model.inputs().get(0).name();
        double sigma = std(reference.input(input).toFloatArray());

        List<Sample> plain = samples(model, stream, input, 0, 1);
        double falseAlarms = falseAlarmRate(profile, plain, new Random(SEED));
        String fa = String.format("%.2f %% (%d windows)", 100 * falseAlarms, WINDOWS);
        double[][] shifts = {{0.1, 1}, {0.25, 1}, {0, 1.25}};
        for (double[] s : shifts) {
            List<Sample> shifted = samples(model, stream, input, s[0] * sigma, s[1]);
            int[] toAlert = new int[TRIALS];
            Random r = new Random(SEED + 1);
            for (int t = 0; t < TRIALS; t++) {
                toAlert[t] = windowsToAlert(profile, shifted, r);
            }
            double mean = java.util.Arrays.stream(toAlert).average().orElse(0);
            int max = java.util.Arrays.stream(toAlert).max().orElse(0);
            long within2 = java.util.Arrays.stream(toAlert).filter(w -> w <= 2).count();
            String label = s[1] != 1 ? String.format("scale ×%.2f", s[1]) : String.format("mean +%.2fσ", s[0]);
            System.out.printf("| %s, stream from %s | %s | %s | %.2f / %s | %.1f %% | %s |%n", name, streamLabel,
                    referenceLabel, label, mean, max > MAX_WINDOWS ? ">" + MAX_WINDOWS : Integer.toString(max), 100.0 * within2 / TRIALS, fa);
        }
    }

    /** Windows until the first alert, counting from the first shifted window (1 = the first window alerts). */
    private static int windowsToAlert(ReferenceProfile profile, List<Sample> stream, Random r) {
        DriftWindow w = new DriftWindow(profile);
        for (int k = 1; k <= MAX_WINDOWS; k++) {
            DriftReport d = fill(w, stream, r);
            if (d.psi() >= DriftThresholds.PSI_ALERT) {
                return k;
            }
        }
        return MAX_WINDOWS + 1;
    }

    private static double falseAlarmRate(ReferenceProfile profile, List<Sample> stream, Random r) {
        DriftWindow w = new DriftWindow(profile);
        int alarms = 0;
        Map<String, double[]> perFeature = new java.util.LinkedHashMap<>();
        for (int k = 0; k < WINDOWS; k++) {
            DriftReport d = fill(w, stream, r);
            if (d.psi() >= DriftThresholds.PSI_ALERT) {
                alarms++;
            }
            for (var f : d.features()) {
                perFeature.computeIfAbsent(f.name(), x -> new double[WINDOWS])[k] = f.psi();
            }
        }
        StringBuilder sb = new StringBuilder("  unshifted PSI per feature, median / 99th percentile:");
        perFeature.forEach((name, v) -> {
            double[] sorted = v.clone();
            java.util.Arrays.sort(sorted);
            sb.append(String.format(" %s %.3f / %.3f;", name, sorted[WINDOWS / 2], sorted[(int) (WINDOWS * 0.99)]));
        });
        DIAGNOSTICS.add(sb.toString());
        return (double) alarms / WINDOWS;
    }

    private static final List<String> DIAGNOSTICS = new ArrayList<>();

    private static DriftReport fill(DriftWindow w, List<Sample> stream, Random r) {
        for (int i = 0; i < WINDOW; i++) {
            Sample s = stream.get(r.nextInt(stream.size()));
            w.add(s.inputs(), s.outputs());
        }
        return w.cut();
    }

    /** Every stream sample run once through the model (inputs × scale + shift), one sample per run as on a device. */
    private static List<Sample> samples(OnnxModel model, Dataset stream, String input, double shift, double scale) {
        List<Sample> out = new ArrayList<>(stream.size());
        try (OrtRunner runner = OrtRunner.open(model)) {
            for (int i = 0; i < stream.size(); i++) {
                Map<String, TensorData> feed = new java.util.LinkedHashMap<>(stream.feeds(model, i, i + 1));
                TensorData x = feed.get(input);
                float[] v = x.toFloatArray().clone();
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) (v[j] * scale + shift);
                }
                feed.put(input, TensorData.ofFloats(input, x.shape(), v));
                out.add(new Sample(ReferenceProfiles.samples(feed.values()), ReferenceProfiles.samples(runner.run(feed).values())));
            }
        }
        return out;
    }

    private static int[][] randomHalves(int n, Random r) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, r);
        int[] a = idx.subList(0, n / 2).stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] b = idx.subList(n / 2, n).stream().mapToInt(Integer::intValue).sorted().toArray();
        return new int[][] {a, b};
    }

    private static double std(float[] v) {
        double m = 0;
        for (float f : v) {
            m += f;
        }
        m /= v.length;
        double s = 0;
        for (float f : v) {
            s += (f - m) * (f - m);
        }
        return Math.sqrt(s / v.length);
    }
}
