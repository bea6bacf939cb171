package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One recipe parameter: its name, type, allowed values and default. A recipe checks every value against its spec
 * when a job is configured ({@link Recipe#withParameters}, i.e. at submission), and passes read the value through
 * the same spec ({@link PassContext#get}), so what submission accepts is exactly what a pass can use. Checks that need
 * the model, the data or another parameter (an input name that must exist, a split that must leave samples on both
 * sides, a minimum that must not exceed a maximum) stay in the passes and happen when the job runs.
 *
 * <p>Values arrive as strings (a CLI flag, a REST body); {@link #parse} turns one into what the pass uses or refuses
 * it with a message naming the parameter, the value and what is allowed.
 *
 * @param <T> what a pass gets
 */
public final class ParamSpec<T> {

    public enum Type {
        NUMBER,
        INTEGER,
        BOOLEAN,
        CHOICE,
        TEXT;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * An interval for numbers; infinite ends are open.
     */
    public record Bounds(double min, boolean minInclusive, double max, boolean maxInclusive) {
        public static final Bounds ANY = new Bounds(Double.NEGATIVE_INFINITY, false, Double.POSITIVE_INFINITY, false);

        public Bounds {
            if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
                throw new IllegalArgumentException("bad bounds " + min + ", " + max);
            }
        }

        /** (min, max) */
        public static Bounds open(double min, double max) {
            return new Bounds(min, false, max, false);
        }

        /** (min, max] */
        public static Bounds openClosed(double min, double max) {
            return new Bounds(min, false, max, true);
        }

        /** [min, max] */
        public static Bounds closed(double min, double max) {
            return new Bounds(min, true, max, true);
        }

        /** [min, infinity) */
        public static Bounds atLeast(double min) {
            return new Bounds(min, true, Double.POSITIVE_INFINITY, false);
        }

        boolean contains(double v) {
            return (minInclusive ? v >= min : v > min) && (maxInclusive ? v <= max : v < max);
        }

        /** "(0, 1]", ">= 1", "any" */
        String describe() {
            boolean lower = min != Double.NEGATIVE_INFINITY;
            boolean upper = max != Double.POSITIVE_INFINITY;
            if (lower && upper) {
                return (minInclusive ? "[" : "(") + format(min) + ", " + format(max) + (maxInclusive ? "]" : ")");
            }
            if (lower) {
                return (minInclusive ? ">= " : "> ") + format(min);
            }
            if (upper) {
                return (maxInclusive ? "<= " : "< ") + format(max);
            }
            return "any";
        }

        private static String format(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
    }

    private final String name;
    private final Type type;
    private final String allowed;
    private final String requirement;
    private final String defaultValue;
    /** Throws IllegalArgumentException for a value outside {@link #allowed}. */
    private final Function<String, T> parser;

    private ParamSpec(String name, Type type, String allowed, String requirement, String defaultValue,
            Function<String, T> parser) {
        if (name == null || !name.matches("[A-Za-z][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("parameter names are [A-Za-z][A-Za-z0-9_]*, got '" + name + "'");
        }
        this.name = name;
        this.type = type;
        this.allowed = allowed;
        this.requirement = requirement;
        this.defaultValue = Objects.requireNonNull(defaultValue, "defaultValue");
        this.parser = parser;
        try {
            parser.apply(defaultValue);
        } catch (IllegalArgumentException e) {
            // a declaration error, not bad input: the default is what every job gets unless it says otherwise
            throw new IllegalArgumentException("the default '" + defaultValue + "' of parameter '" + name
                    + "' is not " + requirement, e);
        }
    }

    // ---------------------------------------------------------------- kinds

    /** A finite decimal number within bounds. */
    public static ParamSpec<Double> number(String name, String defaultValue, Bounds bounds) {
        return new ParamSpec<>(name, Type.NUMBER, bounds.describe(), requirement("a number", "a finite number", bounds),
                defaultValue, v -> {
                    double d = Double.parseDouble(v.trim());
                    if (!Double.isFinite(d) || !bounds.contains(d)) {
                        throw new IllegalArgumentException("out of range");
                    }
                    return d;
                });
    }

    /** "a number in [0, 1]", "an integer >= 1", or {@code unbounded} when any value goes. */
    private static String requirement(String kind, String unbounded, Bounds bounds) {
        String range = bounds.describe();
        return bounds.equals(Bounds.ANY) ? unbounded
                : kind + " " + (range.startsWith("(") || range.startsWith("[") ? "in " : "") + range;
    }

    /** A 32-bit integer within bounds. */
    public static ParamSpec<Integer> integer(String name, String defaultValue, Bounds bounds) {
        return new ParamSpec<>(name, Type.INTEGER, bounds.describe(), requirement("an integer", "an integer", bounds),
                defaultValue, v -> {
                    int i = Integer.parseInt(v.trim());
                    if (!bounds.contains(i)) {
                        throw new IllegalArgumentException("out of range");
                    }
                    return i;
                });
    }

    /** An integer from a fixed set (e.g. block sizes a kernel supports). */
    public static ParamSpec<Integer> integerOneOf(String name, String defaultValue, int... values) {
        int[] allowedValues = values.clone();
        String list = String.join(", ", Arrays.stream(allowedValues).mapToObj(Integer::toString).toList());
        return new ParamSpec<>(name, Type.INTEGER, list, "one of " + list, defaultValue, v -> {
            int i = Integer.parseInt(v.trim());
            if (Arrays.stream(allowedValues).noneMatch(a -> a == i)) {
                throw new IllegalArgumentException("not allowed");
            }
            return i;
        });
    }

    /** true or false (also accepted: yes/no, on/off, 1/0; any case). */
    public static ParamSpec<Boolean> bool(String name, String defaultValue) {
        return new ParamSpec<>(name, Type.BOOLEAN, "true, false", "true or false", defaultValue,
                v -> switch (v.trim().toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "1", "on" -> true;
                    case "false", "no", "0", "off" -> false;
                    default -> throw new IllegalArgumentException("not a boolean");
                });
    }

    /** One of the given words, in any case and with '-' for '_' (as for enums); the pass gets the word as listed. */
    public static ParamSpec<String> oneOf(String name, String defaultValue, String... values) {
        List<String> words = List.of(values);
        String list = String.join(", ", words);
        return new ParamSpec<>(name, Type.CHOICE, list, "one of " + list, defaultValue, v -> words.stream()
                .filter(w -> w.equalsIgnoreCase(v.trim()) || w.equalsIgnoreCase(v.trim().replace('-', '_')))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("not allowed")));
    }

    /** One of an enum's constants, written in lower case; any case, and '-' for '_', is accepted. */
    public static <E extends Enum<E>> ParamSpec<E> oneOf(String name, String defaultValue, Class<E> type) {
        List<String> words = new ArrayList<>();
        for (E c : type.getEnumConstants()) {
            words.add(c.name().toLowerCase(Locale.ROOT));
        }
        String list = String.join(", ", words);
        return new ParamSpec<>(name, Type.CHOICE, list, "one of " + list, defaultValue,
                v -> Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT).replace('-', '_')));
    }

    /**
     * A string with a shape of its own.
     *
     * @param allowed what is accepted, in words, for messages and listings
     * @param parser turns a value into what the pass uses; throws IllegalArgumentException when it is not allowed
     */
    public static <T> ParamSpec<T> text(String name, String defaultValue, String allowed, Function<String, T> parser) {
        return new ParamSpec<>(name, Type.TEXT, allowed, allowed, defaultValue, parser);
    }

    /** The same parameter with another default (e.g. a recipe that wants more calibration samples). */
    public ParamSpec<T> withDefault(String value) {
        return new ParamSpec<>(name, type, allowed, requirement, value, parser);
    }

    // ---------------------------------------------------------------- use

    /**
     * The value as the pass uses it.
     *
     * @throws BadInputException naming the parameter, the value and what is allowed
     */
    public T parse(String value) {
        if (value == null) {
            throw new BadInputException("parameter '" + name + "' must be " + requirement + ", got null");
        }
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("parameter '" + name + "' must be " + requirement + ", got '" + value + "'");
        }
    }

    public String name() {
        return name;
    }

    public Type type() {
        return type;
    }

    /** What is accepted, for listings: "(0, 1]", ">= 1", "macs, params, latency", or the text rule. */
    public String allowed() {
        return allowed;
    }

    public String defaultValue() {
        return defaultValue;
    }

    /** Whether both accept the same values the same way (the default may differ). */
    public boolean sameRuleAs(ParamSpec<?> other) {
        return name.equals(other.name) && type == other.type && allowed.equals(other.allowed)
                && requirement.equals(other.requirement);
    }

    @Override
    public String toString() {
        return name + " (" + type + ", " + allowed + ", default '" + defaultValue + "')";
    }
}
