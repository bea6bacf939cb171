package io.edgefleet.agent.degrade;

import java.util.Locale;

/** Which variant of a model answers: the full one, the light fallback alone, or the light one first (cascade). */
public enum Mode {
    FULL, LIGHT, CASCADE;

    /** The name on the wire and in configuration: {@code full}, {@code light}, {@code cascade}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
