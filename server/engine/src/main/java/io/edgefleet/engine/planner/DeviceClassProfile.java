package io.edgefleet.engine.planner;

import io.edgefleet.engine.gate.AccuracyGate;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the planner knows about a device class: the precisions its boards compute in, its memory and storage, its
 * power model, the latency scale it declares against the server's own measurement, its SLOs and accuracy budget.
 *
 * <p>Precision words: {@code fp32} (float32 arithmetic), {@code int8} (integer kernels), {@code fp16} (float16
 * <em>arithmetic</em>; a board without it still runs {@code fp16-storage} variants, which keep float16 weights and
 * compute in float32), {@code fp16-storage} (accepted for clarity, implies nothing beyond {@code fp32}), {@code int4}.
 *
 * @param ramBytes device memory; a candidate's estimated peak session memory must fit
 * @param storageBytes device storage; two slots of the artifact (the agent's A/B store) must fit
 * @param idleWatts null when the class declares no power model
 * @param activeWatts null when the class declares no power model
 * @param latencyScale device latency / server latency (single-threaded ONNX Runtime on the server); 1 when the class
 *     declares none
 */
public record DeviceClassProfile(String id, Set<String> precisions, long ramBytes, long storageBytes, Double idleWatts,
        Double activeWatts, double latencyScale, Slo slo, AccuracyGate accuracyBudget) {

    /**
     * @param p95LatencyMs on the device, per inference
     * @param maxModelBytes artifact size
     * @param maxEnergyMj per inference, millijoules; null when the class sets no energy objective
     */
    public record Slo(double p95LatencyMs, long maxModelBytes, Double maxEnergyMj) {
        public Slo {
            if (!(p95LatencyMs > 0) || maxModelBytes <= 0 || (maxEnergyMj != null && !(maxEnergyMj > 0))) {
                throw new IllegalArgumentException("SLOs must be positive");
            }
        }
    }

    public DeviceClassProfile {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(slo, "slo");
        Objects.requireNonNull(accuracyBudget, "accuracyBudget");
        TreeSet<String> p = new TreeSet<>();
        for (String s : precisions) {
            p.add(s.trim().toLowerCase(Locale.ROOT));
        }
        precisions = Set.copyOf(p);
        if (!(latencyScale > 0) || Double.isInfinite(latencyScale)) {
            throw new IllegalArgumentException("latencyScale must be a positive number, got " + latencyScale);
        }
        if ((idleWatts == null) != (activeWatts == null)) {
            throw new IllegalArgumentException("a power model needs both idle and active watts");
        }
    }

    public boolean supports(String precision) {
        if (precision.equals("fp32") || precision.equals("fp16-storage")) {
            return precisions.contains("fp32") || precisions.contains("fp16-storage");
        }
        return precisions.contains(precision);
    }

    public boolean hasPowerModel() {
        return idleWatts != null;
    }

    /** Active minus idle watts: what one inference costs above idling. */
    public double inferenceWatts() {
        return hasPowerModel() ? Math.max(0, activeWatts - idleWatts) : Double.NaN;
    }
}
