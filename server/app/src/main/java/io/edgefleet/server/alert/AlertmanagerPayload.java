package io.edgefleet.server.alert;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The body of Alertmanager's webhook notification, version 4, so receivers written for Alertmanager
 * work unchanged: {@code version, groupKey, truncatedAlerts, status, receiver, groupLabels,
 * commonLabels, commonAnnotations, externalURL, alerts[]}, each alert with {@code status, labels,
 * annotations, startsAt, endsAt, generatorURL, fingerprint}. Alerts are grouped by {@code alertname}.
 */
public final class AlertmanagerPayload {
    /** Alertmanager's "not set" time: a firing alert has no end yet. */
    public static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private AlertmanagerPayload() {
    }

    /**
     * @param endsAt   epoch millis of the resolution, null while firing
     * @param ruleId   the rule, for the generator URL
     */
    public record Alert(String status, Map<String, String> labels, Map<String, String> annotations, long startsAt,
            Long endsAt, String ruleId, String fingerprint) {
    }

    public static Map<String, Object> build(String receiver, String externalUrl, String alertname, List<Alert> alerts) {
        Map<String, String> groupLabels = new TreeMap<>(Map.of(AlertLabels.ALERTNAME, alertname));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", "4");
        m.put("groupKey", "{}:{" + groupLabels.entrySet().stream()
                .map(e -> e.getKey() + "=\"" + e.getValue().replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(", ")) + "}");
        m.put("truncatedAlerts", 0);
        m.put("status", alerts.stream().anyMatch(a -> a.status().equals("firing")) ? "firing" : "resolved");
        m.put("receiver", receiver);
        m.put("groupLabels", groupLabels);
        m.put("commonLabels", common(alerts.stream().map(Alert::labels).toList()));
        m.put("commonAnnotations", common(alerts.stream().map(Alert::annotations).toList()));
        m.put("externalURL", externalUrl);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Alert a : alerts) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("status", a.status());
            x.put("labels", new TreeMap<>(a.labels()));
            x.put("annotations", new TreeMap<>(a.annotations()));
            x.put("startsAt", Instant.ofEpochMilli(a.startsAt()).toString());
            x.put("endsAt", a.endsAt() == null ? ZERO_TIME : Instant.ofEpochMilli(a.endsAt()).toString());
            x.put("generatorURL", externalUrl + "/api/v1/alerts?rule=" + a.ruleId());
            x.put("fingerprint", a.fingerprint());
            list.add(x);
        }
        m.put("alerts", list);
        return m;
    }

    /** The label (or annotation) pairs every alert shares. */
    static Map<String, String> common(List<Map<String, String>> maps) {
        if (maps.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new TreeMap<>(maps.get(0));
        for (Map<String, String> m : maps.subList(1, maps.size())) {
            out.entrySet().removeIf(e -> !e.getValue().equals(m.get(e.getKey())));
        }
        return out;
    }
}
