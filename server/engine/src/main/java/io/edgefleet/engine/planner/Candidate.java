package io.edgefleet.engine.planner;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One point of the search: a recipe with parameter values, and the precisions a board needs to run what it produces.
 *
 * @param id stable within a plan: {@code recipe} or {@code recipe[k=v,...]} with the grid's parameters
 * @param params only the overrides (the recipe's defaults fill the rest)
 * @param requires precisions the variant computes in ({@link DeviceClassProfile#supports})
 */
public record Candidate(String id, String recipe, SortedMap<String, String> params, List<String> requires) {
    public Candidate {
        params = Collections.unmodifiableSortedMap(new TreeMap<>(params));
        requires = List.copyOf(requires);
    }

    public static Candidate of(String recipe, SortedMap<String, String> gridParams, SortedMap<String, String> all,
            List<String> requires) {
        StringBuilder id = new StringBuilder(recipe);
        if (!gridParams.isEmpty()) {
            id.append('[');
            gridParams.forEach((k, v) -> id.append(id.charAt(id.length() - 1) == '[' ? "" : ",").append(k).append('=')
                    .append(v));
            id.append(']');
        }
        return new Candidate(id.toString(), recipe, all, requires);
    }
}
