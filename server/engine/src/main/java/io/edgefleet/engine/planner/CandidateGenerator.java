package io.edgefleet.engine.planner;

import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The default search space: the engine's recipes with parameter grids, filtered by what the class computes in, in
 * order of expected accuracy loss (gentlest first), so the first candidate that meets every SLO with margin is also
 * the likely pick and the search may stop there.
 *
 * <p>Not in the default grid: {@code prune-magnitude} and {@code prune-hessian} (unstructured sparsity leaves dense
 * size and latency unchanged, so they cannot move a byte or latency SLO), {@code prune-iterative} and
 * {@code lowrank-svd} (slow, and their own searches overlap the grid's), {@code dynamic-int8-smooth} and
 * {@code int4-weight-only} (transformer-specific; an operator names them through an explicit candidate list).
 */
public final class CandidateGenerator {

    /**
     * @param candidates in search order
     * @param skipped one line per recipe or grid point left out, with the reason
     */
    public record Space(List<Candidate> candidates, List<String> skipped) {
        public Space {
            candidates = List.copyOf(candidates);
            skipped = List.copyOf(skipped);
        }
    }

    private record Point(String recipe, Map<String, String> grid, List<String> requires) {
    }

    private CandidateGenerator() {
    }

    /** The grid, gentlest first. */
    static List<Point> grid(boolean fp16Arithmetic) {
        List<Point> g = new ArrayList<>();
        g.add(new Point(RecipeRegistry.IDENTITY, Map.of(), List.of("fp32")));
        g.add(fp16Arithmetic ? new Point("fp16", Map.of(), List.of("fp16"))
                : new Point("fp16-storage", Map.of(), List.of("fp32")));
        g.add(new Point("mixed-precision", Map.of("budget", "0.005"), List.of("int8", "fp32")));
        g.add(new Point("static-int8-entropy", Map.of(), List.of("int8")));
        g.add(new Point("dynamic-int8", Map.of(), List.of("int8", "fp32")));
        g.add(new Point("static-int8-minmax", Map.of(), List.of("int8")));
        for (String target : List.of("0.75", "0.5", "0.3")) {
            g.add(new Point("prune-structured", Map.of("target", target), List.of("fp32")));
            g.add(new Point("prune-structured-int8", Map.of("target", target), List.of("int8")));
        }
        return g;
    }

    /**
     * @param common parameter values applied to every candidate whose recipe declares them (e.g. {@code
     *     channelMultiple=1} for a tiny model); grid values win over them
     * @param hasCalibration recipes that need calibration data are skipped without it
     */
    public static Space forClass(DeviceClassProfile c, boolean hasCalibration, Map<String, String> common) {
        List<Candidate> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        boolean fp16 = c.supports("fp16");
        if (!fp16) {
            skipped.add("fp16: the class has no float16 arithmetic; fp16-storage (float16 weights, float32 compute) "
                    + "is tried instead");
        }
        for (Point p : grid(fp16)) {
            String label = p.recipe() + (p.grid().isEmpty() ? "" : p.grid().toString());
            List<String> missing = p.requires().stream().filter(r -> !c.supports(r)).toList();
            if (!missing.isEmpty()) {
                skipped.add(label + ": the class does not compute in " + String.join(", ", missing)
                        + " (precisions " + c.precisions() + ")");
                continue;
            }
            if (!RecipeRegistry.contains(p.recipe())) {
                skipped.add(label + ": recipe not available in this engine");
                continue;
            }
            Recipe r = RecipeRegistry.get(p.recipe());
            if (r.needsCalibration() && !hasCalibration) {
                skipped.add(label + ": needs calibration data");
                continue;
            }
            SortedMap<String, String> all = new TreeMap<>();
            common.forEach((k, v) -> {
                if (r.spec(k).isPresent()) {
                    all.put(k, v);
                }
            });
            all.putAll(p.grid());
            out.add(Candidate.of(p.recipe(), new TreeMap<>(p.grid()), all, p.requires()));
        }
        return new Space(out, skipped);
    }
}
