package io.edgefleet.server.alert;

import java.util.Locale;

/** The {@code severity} label, lower case as Alertmanager routes usually match it. */
public enum Severity {
    CRITICAL, WARNING, INFO;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
