package io.edgefleet.server.security;

import java.util.Locale;

/**
 * Who may do what (docs/security.md, "Roles"). {@link #ADMIN} is the operator token of
 * {@code edgefleet.api.token}; the others come from {@code edgefleet.auth.tokens.<name>}.
 */
public enum Role {
    /** Reads everything, changes nothing. */
    VIEWER,
    /** Classes, devices, models, datasets, compression, plans and deployments. */
    OPERATOR,
    /** Reads, plus pause/resume/abort/rollback of deployments, alert rules, alerts, recompression requests, loop approvals. */
    SRE,
    /** Everything. */
    ADMIN;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code viewer}, {@code operator}, {@code sre} or {@code admin} (any case). */
    public static Role parse(String s) {
        if (s != null) {
            for (Role r : values()) {
                if (r.name().equalsIgnoreCase(s.trim())) {
                    return r;
                }
            }
        }
        throw new IllegalArgumentException("unknown role '" + s + "': expected viewer, operator, sre or admin");
    }
}
