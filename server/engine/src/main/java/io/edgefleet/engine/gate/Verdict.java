package io.edgefleet.engine.gate;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The gate's answer.
 *
 * @param passed whether the variant may ship
 * @param reasons why it was rejected, one sentence each with the numbers; empty when it passed
 * @param summary one line for humans, pass or fail
 * @param numbers every figure the decision used, by stable key (e.g. {@code overall.dropPoints},
 *     {@code cohort.3.dropPoints}, {@code budget.overallPoints})
 */
public record Verdict(boolean passed, List<String> reasons, String summary, SortedMap<String, Double> numbers) {
    public Verdict {
        reasons = List.copyOf(reasons);
        numbers = Collections.unmodifiableSortedMap(new TreeMap<>(numbers));
    }
}
