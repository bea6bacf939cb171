package io.edgefleet.engine.pipeline;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A named, ordered list of passes with default parameters. Parameters are strings (they arrive from a CLI flag or a
 * REST body) read by passes through {@link PassContext#param}.
 *
 * @param kind BASELINE recipes leave the model's numerics alone (reports about the float model); only COMPRESSION
 *     recipes are compression
 * @param needsCalibration whether the job must refuse to start without calibration data
 */
public record Recipe(String name, String description, Kind kind, List<Pass> passes,
        SortedMap<String, String> parameters, boolean needsCalibration) {

    public enum Kind {
        BASELINE,
        COMPRESSION
    }

    public Recipe {
        if (name == null || !name.matches("[a-z0-9][a-z0-9._-]*")) {
            throw new IllegalArgumentException("recipe names are lower-case [a-z0-9._-], got '" + name + "'");
        }
        passes = List.copyOf(passes);
        parameters = Collections.unmodifiableSortedMap(new TreeMap<>(parameters == null ? Map.of() : parameters));
    }

    public static Recipe compression(String name, String description, boolean needsCalibration,
            Map<String, String> parameters, Pass... passes) {
        return new Recipe(name, description, Kind.COMPRESSION, List.of(passes), new TreeMap<>(parameters),
                needsCalibration);
    }

    /** The same recipe with some parameters replaced or added. */
    public Recipe withParameters(Map<String, String> overrides) {
        TreeMap<String, String> merged = new TreeMap<>(parameters);
        merged.putAll(overrides);
        return new Recipe(name, description, kind, passes, merged, needsCalibration);
    }

    public List<String> passNames() {
        return passes.stream().map(Pass::name).toList();
    }
}
