package io.edgefleet.server.alert;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** Label sets of alerts and their fingerprints (16 hex digits, like Alertmanager's). */
public final class AlertLabels {
    public static final String ALERTNAME = "alertname";
    public static final String SEVERITY = "severity";
    public static final String RULE = "rule";
    public static final String CLASS = "class";
    public static final String MODEL = "model";
    public static final String VERSION = "version";
    public static final String DEVICE = "device";

    private AlertLabels() {
    }

    /** The scope labels of a group at a rule's scope: only the keys that scope is evaluated at. */
    public static Map<String, String> scope(AlertScope scope, String classId, String model, Long version, String device) {
        Map<String, String> m = new TreeMap<>();
        put(m, CLASS, classId);
        if (scope != AlertScope.CLASS) {
            put(m, MODEL, model);
        }
        if (scope == AlertScope.VERSION || scope == AlertScope.DEVICE) {
            put(m, VERSION, version == null ? null : version.toString());
        }
        if (scope == AlertScope.DEVICE) {
            put(m, DEVICE, device);
        }
        return m;
    }

    /** Every label of an alert: the rule's identity plus the group's scope labels, sorted by name. */
    public static Map<String, String> of(AlertRule rule, Map<String, String> scopeLabels) {
        Map<String, String> m = new TreeMap<>(scopeLabels);
        m.put(ALERTNAME, rule.name());
        m.put(SEVERITY, rule.severity().label());
        m.put(RULE, rule.id());
        return m;
    }

    public static String fingerprint(Map<String, String> labels) {
        StringBuilder b = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> b.append(k).append('\u0000').append(v).append('\u0001'));
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void put(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }
}
