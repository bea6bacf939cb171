package io.edgefleet.protocol.drift;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bins the inferences of one telemetry window against a reference profile and turns the counts into a
 * {@link DriftReport}. {@link #add} is safe to call from several inference threads at once.
 */
public final class DriftWindow {
    private final ReferenceProfile profile;
    private final List<FeatureProfile> features;
    private final List<FeatureSpec> specs;
    private long[][] counts;
    private double confidenceSum;
    private long confidenceCount;
    private long samples;

    public DriftWindow(ReferenceProfile profile) {
        this.profile = profile;
        this.features = profile.allFeatures();
        this.specs = new ArrayList<>(features.size());
        for (FeatureProfile f : features) {
            specs.add(FeatureSpec.of(f));
        }
        reset();
    }

    public ReferenceProfile profile() {
        return profile;
    }

    private void reset() {
        counts = new long[features.size()][];
        for (int f = 0; f < features.size(); f++) {
            counts[f] = new long[features.get(f).edges().length + 1];
        }
        confidenceSum = 0;
        confidenceCount = 0;
        samples = 0;
    }

    /** Bins one inference (every sample of its batch). */
    public synchronized void add(List<TensorSample> inputs, List<TensorSample> outputs) {
        Map<String, TensorSample> byName = new HashMap<>();
        outputs.forEach(t -> byName.put(t.name(), t));
        inputs.forEach(t -> byName.put(t.name(), t));
        int batch = ProfileBuilder.batchOf(specs, byName);
        for (int i = 0; i < batch; i++) {
            for (int f = 0; f < specs.size(); f++) {
                FeatureSpec s = specs.get(f);
                FeatureProfile p = features.get(f);
                double v = s.value(byName.get(s.tensor()), i, p.commonIds());
                int bin = Bins.index(p.edges(), v);
                if (bin >= 0) {
                    counts[f][bin]++;
                    if (s.kind() == FeatureProfile.Kind.CONFIDENCE) {
                        confidenceSum += v;
                        confidenceCount++;
                    }
                }
            }
            samples++;
        }
    }

    public synchronized long samples() {
        return samples;
    }

    /** The report of the window so far, then starts a new window; null when nothing was binned. */
    public synchronized DriftReport cut() {
        if (samples == 0) {
            return null;
        }
        List<FeatureDrift> out = new ArrayList<>(features.size());
        double psi = 0;
        double js = 0;
        for (int f = 0; f < features.size(); f++) {
            long total = 0;
            for (long c : counts[f]) {
                total += c;
            }
            if (total == 0) {
                continue;
            }
            double[] observed = Bins.proportions(counts[f]);
            double[] reference = features.get(f).proportions();
            double p = round(DriftStats.psi(reference, observed));
            double j = round(DriftStats.jensenShannon(reference, observed));
            out.add(new FeatureDrift(features.get(f).name(), p, j));
            psi = Math.max(psi, p);
            js = Math.max(js, j);
        }
        Double shift = null;
        if (confidenceCount > 0 && profile.confidence() != null
                && profile.confidence().kindEnum() == FeatureProfile.Kind.CONFIDENCE) {
            shift = round(confidenceSum / confidenceCount - profile.confidence().mean());
        }
        DriftReport r = new DriftReport(psi, js, shift, profile.source(), samples, out);
        reset();
        return r;
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
