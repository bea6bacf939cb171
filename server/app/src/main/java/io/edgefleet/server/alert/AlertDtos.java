package io.edgefleet.server.alert;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import java.util.Map;

/** REST shapes of rules, alerts and re-compression requests. Enum fields are strings so a bad value gets a field-level 400. */
public final class AlertDtos {
    private AlertDtos() {
    }

    /** Create or replace a rule; absent fields take the documented defaults. */
    public record RuleRequest(
            String id,
            String name,
            String metric,
            String scope,
            String classId,
            String modelName,
            Long modelVersion,
            String deviceId,
            Double threshold,
            Long minSamples,
            Long lookbackSeconds,
            Long forSeconds,
            String severity,
            String action,
            String runbookUrl,
            String description,
            Boolean enabled) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuleView(
            String id,
            String name,
            AlertMetric metric,
            AlertScope scope,
            String classId,
            String modelName,
            Long modelVersion,
            String deviceId,
            Double threshold,
            String thresholdSource,
            long minSamples,
            long lookbackSeconds,
            long forSeconds,
            String severity,
            AlertAction action,
            String runbookUrl,
            String description,
            boolean enabled,
            boolean builtin,
            @Schema(description = "Where the rule is defined: 'builtin' (seeded, thresholds from the class SLOs), 'file'"
                    + " (edgefleet.alerts.rules-file: read-only over REST, edit the file) or 'api' (REST)")
            String source) {

        static RuleView of(AlertRule r, String runbookUrl) {
            return of(r, runbookUrl, r.builtin() ? "builtin" : "api");
        }

        static RuleView of(AlertRule r, String runbookUrl, String source) {
            Double threshold = r.threshold() != null ? r.threshold() : r.metric().defaultThreshold();
            String thresholdSource = r.threshold() != null ? "rule" : threshold != null ? "metric default" : "class SLO";
            return new RuleView(r.id(), r.name(), r.metric(), r.scope(), r.classId(), r.modelName(), r.modelVersion(),
                    r.deviceId(), threshold, thresholdSource, r.minSamples(), r.lookbackSeconds(), r.forSeconds(),
                    r.severity().label(), r.action(), runbookUrl, r.description(), r.enabled(), r.builtin(), source);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AlertView(
            long id,
            String rule,
            String name,
            AlertState state,
            String severity,
            String fingerprint,
            Map<String, String> labels,
            Map<String, String> annotations,
            Double value,
            Double threshold,
            long activeAt,
            Long firedAt,
            Long resolvedAt,
            String actionResult) {
    }

    public record RecompressionView(long id, long alertId, String rule, String classId, String modelName,
            Long modelVersion, String reason, String status, long createdAt) {

        static RecompressionView of(RecompressionRequestEntity e) {
            return new RecompressionView(e.id, e.alertId, e.ruleId, e.classId, e.modelName, e.modelVersion, e.reason,
                    e.status, e.createdAt);
        }
    }
}
