package io.edgefleet.engine.planner;

import java.util.Locale;

/**
 * Turns what the server measured for a candidate into what a device of the class will see. Today's implementation
 * is {@link DeclaredProfile}: the server's ONNX Runtime latency scaled by the class's declared latency scale, energy
 * from the class's power model. A model fitted from devices' own benchmark reports implements the same interface and
 * replaces it per class; every estimate names its source so a plan says which one it used.
 */
public interface CostModel {

    /**
     * What the server measured for one candidate.
     *
     * @param p50Ms server batch-1 latency, null when not measured
     * @param p95Ms server batch-1 latency, null when not measured
     * @param meanMs server batch-1 latency, null when not measured
     * @param macs multiply-accumulates per batch-1 inference (static count)
     * @param bytes artifact size
     */
    record Measured(Double p50Ms, Double p95Ms, Double meanMs, long macs, long bytes) {
    }

    /**
     * @param p95Ms device p95 latency estimate; null when it cannot be estimated
     * @param meanMs device mean latency estimate; null when it cannot be estimated
     * @param energyMj device energy per inference; null when the class has no power model
     * @param latencySource how the latency was obtained, in words
     * @param energySource how the energy was obtained, or why there is none
     */
    record Estimate(Double p95Ms, Double meanMs, Double energyMj, String latencySource, String energySource) {
    }

    Estimate estimate(Measured measured, DeviceClassProfile deviceClass);

    /**
     * The server's median batch-1 latency of an artifact as measured for the device reports this model was fitted on,
     * or null when no device benchmarked it. The planner costs a candidate relative to it when the base model was
     * benchmarked: the candidate's median x (the benchmark's median of the base / the base's median in the same
     * interleaved runs as the candidate), so the server's speed minutes apart (other work on its cores) does not move
     * the estimate, and the base model's estimate is what its devices measured.
     */
    default Double benchmarkedServerP50(String artifactSha256) {
        return null;
    }

    /** A short name for plans: "declared-profile", "fitted:<class>", ... */
    String name();

    /** The server's measurement scaled by the class's declared latency scale; energy = mean latency x (active - idle). */
    final class DeclaredProfile implements CostModel {
        public static final DeclaredProfile INSTANCE = new DeclaredProfile();

        @Override
        public String name() {
            return "declared-profile";
        }

        @Override
        public Estimate estimate(Measured m, DeviceClassProfile c) {
            if (m.p95Ms() == null) {
                return new Estimate(null, null, null, "not measured (latency runs off)",
                        "not estimated: no latency measurement");
            }
            double scale = c.latencyScale();
            double p95 = m.p95Ms() * scale;
            double mean = m.meanMs() * scale;
            String latencySource = String.format(Locale.ROOT, "server ONNX Runtime measurement x declared latency "
                    + "scale %.3g (no device measurements yet)", scale);
            if (!c.hasPowerModel()) {
                return new Estimate(p95, mean, null, latencySource, "not estimated: the class declares no power model");
            }
            double energy = mean * c.inferenceWatts(); // ms x W = mJ
            return new Estimate(p95, mean, energy, latencySource, String.format(Locale.ROOT,
                    "estimated mean latency x (active %.3g W - idle %.3g W) from the class's declared power model "
                            + "(no device energy measurements yet)", c.activeWatts(), c.idleWatts()));
        }
    }
}
