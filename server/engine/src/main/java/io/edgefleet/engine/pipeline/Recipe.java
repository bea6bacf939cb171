package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A named, ordered list of passes with declared parameters. Each parameter has a {@link ParamSpec} (type, allowed
 * values, default); values are strings (they arrive from a CLI flag or a REST body), checked against their specs
 * whenever a recipe is built or configured ({@link #withParameters}), and read by passes through the same specs
 * ({@link PassContext#get}).
 *
 * @param kind BASELINE recipes leave the model's numerics alone (reports about the float model); only COMPRESSION
 *     recipes are compression
 * @param specs the declared parameters, in the order listings show them
 * @param parameters the value of every declared parameter: the defaults, with the overrides applied; null for the
 *     defaults
 * @param needsCalibration whether the job must refuse to start without calibration data
 * @param reference builds the deliberately aggressive reference the report compares the variant with (see
 *     {@link #aggressiveReference}); null when the recipe has none (baselines, test recipes)
 */
public record Recipe(String name, String description, Kind kind, List<Pass> passes, List<ParamSpec<?>> specs,
        SortedMap<String, String> parameters, boolean needsCalibration, AggressiveReference reference) {

    public enum Kind {
        BASELINE,
        COMPRESSION
    }

    /**
     * @throws IllegalArgumentException for a bad name or a parameter declared twice
     * @throws BadInputException for a value of an undeclared parameter, or one its spec does not allow
     */
    public Recipe {
        if (name == null || !name.matches("[a-z0-9][a-z0-9._-]*")) {
            throw new IllegalArgumentException("recipe names are lower-case [a-z0-9._-], got '" + name + "'");
        }
        passes = List.copyOf(passes);
        specs = List.copyOf(specs == null ? List.of() : specs);
        Map<String, ParamSpec<?>> byName = new TreeMap<>();
        for (ParamSpec<?> s : specs) {
            if (byName.put(s.name(), s) != null) {
                throw new IllegalArgumentException("recipe '" + name + "' declares parameter '" + s.name()
                        + "' twice");
            }
        }
        TreeMap<String, String> values = new TreeMap<>();
        specs.forEach(s -> values.put(s.name(), s.defaultValue()));
        if (parameters != null) {
            check(name, byName, parameters);
            values.putAll(parameters);
        }
        parameters = Collections.unmodifiableSortedMap(values);
    }

    /** A recipe with its parameters at their defaults and without an aggressive reference. */
    public Recipe(String name, String description, Kind kind, List<Pass> passes, List<ParamSpec<?>> specs,
            boolean needsCalibration) {
        this(name, description, kind, passes, specs, null, needsCalibration, null);
    }

    public static Recipe compression(String name, String description, boolean needsCalibration,
            List<ParamSpec<?>> specs, Pass... passes) {
        return new Recipe(name, description, Kind.COMPRESSION, List.of(passes), specs, needsCalibration);
    }

    /**
     * Every problem with the given values at once: names the recipe does not declare, then values their specs do
     * not allow.
     */
    private static void check(String name, Map<String, ParamSpec<?>> specs, Map<String, String> values) {
        List<String> unknown = values.keySet().stream().filter(k -> !specs.containsKey(k)).sorted().toList();
        if (!unknown.isEmpty()) {
            // a misspelt parameter would otherwise be ignored and the job would quietly run on the default
            throw new BadInputException("recipe '" + name + "' has no parameter" + (unknown.size() > 1
                    ? "s " : " ") + String.join(", ", unknown) + (specs.isEmpty() ? "; it takes none"
                            : "; its parameters: " + String.join(", ", specs.keySet())));
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
            try {
                specs.get(e.getKey()).parse(e.getValue());
            } catch (BadInputException ex) {
                problems.add(ex.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new BadInputException("recipe '" + name + "': " + String.join("; ", problems));
        }
    }

    /**
     * The same recipe with some of its parameters replaced. Each value is checked against its parameter's spec here,
     * so a job is refused before it starts; checks that need the model or the data come when it runs.
     *
     * @throws BadInputException for a name the recipe does not declare or a value its spec does not allow, naming
     *     the parameter, the value and what is allowed
     */
    public Recipe withParameters(Map<String, String> overrides) {
        TreeMap<String, String> merged = new TreeMap<>(parameters);
        merged.putAll(overrides);
        return new Recipe(name, description, kind, passes, specs, merged, needsCalibration, reference);
    }

    /** The declared parameter with that name. */
    public Optional<ParamSpec<?>> spec(String parameter) {
        return specs.stream().filter(s -> s.name().equals(parameter)).findFirst();
    }

    /** The same recipe with the given aggressive reference builder. */
    public Recipe withReference(AggressiveReference builder) {
        return new Recipe(name, description, kind, passes, specs, parameters, needsCalibration, builder);
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
