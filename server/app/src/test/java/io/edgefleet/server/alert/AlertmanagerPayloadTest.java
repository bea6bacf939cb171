package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AlertmanagerPayloadTest {

    @Test
    void versionFourShape() {
        Map<String, String> l1 = Map.of("alertname", "EdgefleetErrorRateHigh", "severity", "critical", "class", "gw", "version", "1");
        Map<String, String> l2 = Map.of("alertname", "EdgefleetErrorRateHigh", "severity", "critical", "class", "gw", "version", "2");
        Map<String, Object> p = AlertmanagerPayload.build("edgefleet", "http://srv:8080", "EdgefleetErrorRateHigh", List.of(
                new AlertmanagerPayload.Alert("firing", l1, Map.of("runbook_url", "docs/runbooks/x.md", "value", "0.2"), 0L, null, "r", "aaaa"),
                new AlertmanagerPayload.Alert("resolved", l2, Map.of("runbook_url", "docs/runbooks/x.md", "value", "0.01"), 1000L,
                        61_000L, "r", "bbbb")));
        assertEquals(List.of("version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
                "commonAnnotations", "externalURL", "alerts"), List.copyOf(p.keySet()));
        assertEquals("4", p.get("version"));
        assertEquals("{}:{alertname=\"EdgefleetErrorRateHigh\"}", p.get("groupKey"));
        assertEquals("firing", p.get("status"), "a group with any firing alert is firing");
        assertEquals(Map.of("alertname", "EdgefleetErrorRateHigh"), p.get("groupLabels"));
        assertEquals(Map.of("alertname", "EdgefleetErrorRateHigh", "severity", "critical", "class", "gw"), p.get("commonLabels"));
        assertEquals(Map.of("runbook_url", "docs/runbooks/x.md"), p.get("commonAnnotations"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> alerts = (List<Map<String, Object>>) p.get("alerts");
        assertEquals(List.of("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"),
                List.copyOf(alerts.get(0).keySet()));
        assertEquals("1970-01-01T00:00:00Z", alerts.get(0).get("startsAt"));
        assertEquals(AlertmanagerPayload.ZERO_TIME, alerts.get(0).get("endsAt"));
        assertEquals("1970-01-01T00:01:01Z", alerts.get(1).get("endsAt"));
        assertEquals("http://srv:8080/api/v1/alerts?rule=r", alerts.get(1).get("generatorURL"));
    }

    @Test
    void backoffDoublesUpToTheCap() {
        Duration initial = Duration.ofSeconds(1);
        Duration max = Duration.ofSeconds(5);
        assertEquals(List.of(1000L, 2000L, 4000L, 5000L, 5000L), List.of(1, 2, 3, 4, 9).stream()
                .map(a -> WebhookDispatcher.backoffMillis(initial, max, a)).toList());
    }
}
