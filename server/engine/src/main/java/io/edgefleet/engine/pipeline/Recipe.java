package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.OnnxModel;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A named, ordered list of passes with default parameters. Parameters are strings (they arrive from a CLI flag or a
 * REST body) read by passes through {@link PassContext#param}.
 *
 * @param kind BASELINE recipes leave the model's numerics alone (reports about the float model); only COMPRESSION
 *     recipes are compression
 * @param needsCalibration whether the job must refuse to start without calibration data
 * @param reference builds the deliberately aggressive reference the report compares the variant with (see
 *     {@link #aggressiveReference}); null when the recipe has none (baselines, test recipes)
 */
public record Recipe(String name, String description, Kind kind, List<Pass> passes,
        SortedMap<String, String> parameters, boolean needsCalibration, AggressiveReference reference) {

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

    /** A recipe without an aggressive reference. */
    public Recipe(String name, String description, Kind kind, List<Pass> passes, SortedMap<String, String> parameters,
            boolean needsCalibration) {
        this(name, description, kind, passes, parameters, needsCalibration, null);
    }

    public static Recipe compression(String name, String description, boolean needsCalibration,
            Map<String, String> parameters, Pass... passes) {
        return new Recipe(name, description, Kind.COMPRESSION, List.of(passes), new TreeMap<>(parameters),
                needsCalibration);
    }

    /**
     * The same recipe with some of its parameters replaced.
     *
     * @throws BadInputException for a name the recipe does not declare
     */
    public Recipe withParameters(Map<String, String> overrides) {
        List<String> unknown = overrides.keySet().stream().filter(k -> !parameters.containsKey(k)).sorted()
                .toList();
        if (!unknown.isEmpty()) {
            // a misspelt parameter would otherwise be ignored and the job would quietly run on the default
            throw new BadInputException("recipe '" + name + "' has no parameter" + (unknown.size() > 1
                    ? "s " : " ") + String.join(", ", unknown) + (parameters.isEmpty() ? "; it takes none"
                            : "; its parameters: " + String.join(", ", parameters.keySet())));
        }
        TreeMap<String, String> merged = new TreeMap<>(parameters);
        merged.putAll(overrides);
        return new Recipe(name, description, kind, passes, merged, needsCalibration, reference);
    }

    /** The same recipe with the given aggressive reference builder. */
    public Recipe withReference(AggressiveReference builder) {
        return new Recipe(name, description, kind, passes, parameters, needsCalibration, builder);
    }

    /**
     * Builds the aggressive reference for a finished variant.
     *
     * @return empty when the recipe has no reference builder; otherwise the reference or, with a null model, why
     *     there is none
     */
    public Optional<AggressiveReference.Built> aggressiveReference(OnnxModel base, OnnxModel variant,
            List<LayerDecision> variantDecisions, PassContext ctx) {
        return reference == null ? Optional.empty()
                : Optional.of(reference.build(base, variant, List.copyOf(variantDecisions), ctx));
    }

    public List<String> passNames() {
        return passes.stream().map(Pass::name).toList();
    }
}
