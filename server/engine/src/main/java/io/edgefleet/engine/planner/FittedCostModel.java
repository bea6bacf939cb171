package io.edgefleet.engine.planner;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A class's cost model fitted from what its devices measured: for each BENCHMARK report, the device's p95 and mean
 * latency and energy per inference against the server's own batch-1 <b>median</b> latency of the same artifact.
 *
 * <p>The server's median is the regressor, for both lines and for energy: it is the artifact's compute cost on the
 * server, while the server's tail and mean carry the server's own noise (the broker, the database and the plan
 * workers share its cores), which has nothing to do with the device. One stall in a hundred 0.2 ms runs moves their
 * p95 by half and their mean by a quarter, and the fit divided by that; the device's own tail is what the line's
 * {@code y} holds.
 *
 * <p>Latency: {@code device = scale x server p50 + offset}, fitted by least squares separately for p95 and for the mean.
 * The offset is kept only when the reports cover at least two artifacts with different server latencies, it is not
 * negative, and it lowers the mean absolute percentage error; otherwise the line goes through the origin (a pure
 * scale, like the declared {@code latencyScale}). A negative offset is not a device's overhead but the steep slope
 * of artifacts whose server latencies nearly coincide (three of digits-resnet's variants within 0.15-0.16 ms, session
 * 14): it fits them and costs a candidate much faster than them at zero, which would meet any latency SLO. Energy: {@code device mJ = k x server mean ms}, through the origin, from the reports
 * that carry energy; without any, energy falls back to the estimated device mean latency x the class's declared
 * power model. Each fit's error is the mean absolute percentage error of its predictions against the reports it was
 * fitted on. {@code serverP50ByArtifact} keeps each benchmarked artifact's server median, so the planner can cost
 * candidates relative to the base model's ({@link #benchmarkedServerP50}).
 */
public record FittedCostModel(String classId, Line p95, Line mean, Double energyMjPerServerMs, int reports,
        int artifacts, double latencyErrorPercent, Double energyErrorPercent, Map<String, Double> serverP50ByArtifact)
        implements CostModel {

    /** One device report joined with the server's median latency of the same artifact. */
    public record Observation(String artifactSha256, double serverP50Ms, double deviceP95Ms, double deviceMeanMs,
                              Double deviceEnergyMj) {
    }

    /** {@code y = scale x + offset}, with its mean absolute percentage error on the fitted points. */
    public record Line(double scale, double offset, double errorPercent) {
        public double apply(double x) {
            return Math.max(0, scale * x + offset);
        }
    }

    public FittedCostModel {
        Objects.requireNonNull(classId, "classId");
        Objects.requireNonNull(p95, "p95");
        Objects.requireNonNull(mean, "mean");
        serverP50ByArtifact = serverP50ByArtifact == null ? Map.of() : Map.copyOf(serverP50ByArtifact);
    }

    /** Each artifact's server median over the observations of it (the median of their medians when jobs repeat it). */
    public static Map<String, Double> serverP50ByArtifact(List<Observation> observations) {
        Map<String, List<Double>> by = new TreeMap<>();
        for (Observation o : observations) {
            if (o.serverP50Ms() > 0 && Double.isFinite(o.serverP50Ms())) {
                by.computeIfAbsent(o.artifactSha256(), k -> new ArrayList<>()).add(o.serverP50Ms());
            }
        }
        Map<String, Double> out = new TreeMap<>();
        by.forEach((sha, xs) -> {
            List<Double> sorted = xs.stream().sorted().toList();
            int n = sorted.size();
            out.put(sha, n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2);
        });
        return out;
    }

    @Override
    public Double benchmarkedServerP50(String artifactSha256) {
        return serverP50ByArtifact.get(artifactSha256);
    }

    /**
     * @throws IllegalArgumentException without a usable observation (positive server and device latencies)
     */
    public static FittedCostModel fit(String classId, List<Observation> observations) {
        List<Observation> usable = new ArrayList<>();
        for (Observation o : observations) {
            if (o.serverP50Ms() > 0 && o.deviceP95Ms() > 0 && o.deviceMeanMs() > 0
                    && Double.isFinite(o.serverP50Ms() + o.deviceP95Ms() + o.deviceMeanMs())) {
                usable.add(o);
            }
        }
        if (usable.isEmpty()) {
            throw new IllegalArgumentException("no device report with positive latencies to fit class " + classId + " on");
        }
        Set<String> artifacts = new HashSet<>();
        usable.forEach(o -> artifacts.add(o.artifactSha256()));
        double[] server = usable.stream().mapToDouble(Observation::serverP50Ms).toArray();
        double[] dp95 = usable.stream().mapToDouble(Observation::deviceP95Ms).toArray();
        double[] dmean = usable.stream().mapToDouble(Observation::deviceMeanMs).toArray();
        Line p95 = line(server, dp95);
        Line mean = line(server, dmean);

        List<double[]> energy = new ArrayList<>();
        for (Observation o : usable) {
            if (o.deviceEnergyMj() != null && Double.isFinite(o.deviceEnergyMj()) && o.deviceEnergyMj() > 0) {
                energy.add(new double[] {o.serverP50Ms(), o.deviceEnergyMj()});
            }
        }
        Double k = null;
        Double energyError = null;
        if (!energy.isEmpty()) {
            double[] x = energy.stream().mapToDouble(e -> e[0]).toArray();
            double[] y = energy.stream().mapToDouble(e -> e[1]).toArray();
            k = throughOrigin(x, y);
            energyError = mape(x, y, k, 0);
        }
        return new FittedCostModel(classId, p95, mean, k, usable.size(), artifacts.size(), p95.errorPercent(), k == null
                ? null : energyError, serverP50ByArtifact(usable));
    }

    /**
     * Least squares through the origin, then with an offset when the x values differ, the offset is not negative (see
     * the class comment) and it lowers the error.
     */
    static Line line(double[] x, double[] y) {
        double scale = throughOrigin(x, y);
        Line best = new Line(scale, 0, mape(x, y, scale, 0));
        double mx = avg(x);
        double my = avg(y);
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < x.length; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        if (sxx > 1e-12 * Math.max(1, mx * mx) && x.length >= 2) {
            double a = sxy / sxx;
            double b = my - a * mx;
            if (a > 0 && b >= 0) {
                double err = mape(x, y, a, b);
                if (err < best.errorPercent()) {
                    best = new Line(a, b, err);
                }
            }
        }
        return best;
    }

    private static double throughOrigin(double[] x, double[] y) {
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += x[i] * y[i];
            sxx += x[i] * x[i];
        }
        return sxy / sxx;
    }

    private static double mape(double[] x, double[] y, double a, double b) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            double pred = Math.max(0, a * x[i] + b);
            sum += Math.abs(pred - y[i]) / y[i];
        }
        return 100.0 * sum / x.length;
    }

    private static double avg(double[] v) {
        double s = 0;
        for (double d : v) {
            s += d;
        }
        return s / v.length;
    }

    @Override
    public String name() {
        return "fitted:" + classId;
    }

    /** What a plan prints: "fitted from N device reports, error X%". */
    public String summary() {
        return String.format(Locale.ROOT, "fitted from %d device report%s over %d artifact%s, error %.1f%%", reports,
                reports == 1 ? "" : "s", artifacts, artifacts == 1 ? "" : "s", latencyErrorPercent);
    }

    @Override
    public Estimate estimate(Measured m, DeviceClassProfile c) {
        if (m.p50Ms() == null) {
            return new Estimate(null, null, null, "not measured (latency runs off)",
                    "not estimated: no latency measurement");
        }
        double devP95 = this.p95.apply(m.p50Ms());
        double devMean = this.mean.apply(m.p50Ms());
        String latencySource = String.format(Locale.ROOT, "%s: device p95 = %.4g x server p50 %+.4g ms (mean: %.4g x "
                + "server p50 %+.4g ms)", summary(), this.p95.scale(), this.p95.offset(), mean.scale(), mean.offset());
        if (energyMjPerServerMs != null) {
            return new Estimate(devP95, devMean, energyMjPerServerMs * m.p50Ms(), latencySource, String.format(Locale.ROOT,
                    "fitted from the devices' energy reports: %.4g mJ per server-ms of median latency, error %.1f%%",
                    energyMjPerServerMs, energyErrorPercent));
        }
        if (!c.hasPowerModel()) {
            return new Estimate(devP95, devMean, null, latencySource,
                    "not estimated: no device reported energy and the class declares no power model");
        }
        return new Estimate(devP95, devMean, devMean * c.inferenceWatts(), latencySource, String.format(Locale.ROOT,
                "fitted device mean latency x (active %.3g W - idle %.3g W) from the class's declared power model "
                        + "(no device reported energy)", c.activeWatts(), c.idleWatts()));
    }
}
