package io.edgefleet.server.alert;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** REST shapes of rules, alerts and re-compression requests. Enum fields are strings so a bad value gets a field-level 400. */
public final class AlertDtos {
    private AlertDtos() {
    }

    /** Create or replace a rule; absent fields take the documented defaults. */
    @Schema(description = "An alert rule to create or replace; fields left out take the documented defaults.")
    public record RuleRequest(
            @Schema(description = "Rule id (letters, digits, - and _); generated from the name when absent on "
                    + "create, must match the path on PUT.")
            String id,
            @Schema(description = "Alert name, as in Alertmanager (default: the metric's alert name, e.g. "
                    + "EdgefleetErrorRateHigh).")
            String name,
            @Schema(description = "What is watched: P95_LATENCY_MS, ERROR_RATE, ENERGY_MJ_PER_INFERENCE, "
                    + "DRIFT_SCORE, OFFLINE_SHARE or ROLLBACK_RATE. Bad when above the threshold.")
            String metric,
            @Schema(description = "One alert per CLASS, MODEL, VERSION or DEVICE group (default CLASS).")
            String scope,
            @Schema(description = "Only groups of this device class; null for every class.")
            String classId,
            @Schema(description = "Only groups running this model; null for every model.")
            String modelName,
            @Schema(description = "Only groups running this version of modelName; null for every version.")
            Long modelVersion,
            @Schema(description = "Only this device; null for every device.")
            String deviceId,
            @Schema(description = "The value above which the condition holds; null takes the metric default or "
                    + "the class SLO.")
            Double threshold,
            @Schema(description = "Fewer inferences (devices, finished targets) in the lookback are \"no "
                    + "data\", not a breach (default 1).")
            Long minSamples,
            @Schema(description = "The time range the metric is computed over, ending at the evaluation "
                    + "(default 60).")
            Long lookbackSeconds,
            @Schema(description = "How long the condition must hold before PENDING turns FIRING (default 0).")
            Long forSeconds,
            @Schema(description = "critical, warning or info (Alertmanager label).")
            String severity,
            @Schema(description = "What happens once when the alert fires: NONE, ROLLBACK or RECOMPRESS "
                    + "(default NONE).")
            String action,
            @Schema(description = "Link to the runbook for this alert, at most 1000 characters.")
            String runbookUrl,
            @Schema(description = "Free text for the people who receive the alert, at most 1000 characters.")
            String description,
            @Schema(description = "False keeps the rule but stops evaluating it (default true).")
            Boolean enabled) {
    }

    @Schema(description = "An alert rule as stored, with its defaults filled in.")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuleView(
            @Schema(description = "Rule id.")
            String id,
            @Schema(description = "Alert name, as in Alertmanager (default: the metric's alert name, e.g. "
                    + "EdgefleetErrorRateHigh).")
            String name,
            @Schema(description = "What is watched; bad when above the threshold.")
            AlertMetric metric,
            @Schema(description = "The grouping: one alert per CLASS, MODEL, VERSION or DEVICE.")
            AlertScope scope,
            @Schema(description = "Only groups of this device class; null for every class.")
            String classId,
            @Schema(description = "Only groups running this model; null for every model.")
            String modelName,
            @Schema(description = "Only groups running this version of modelName; null for every version.")
            Long modelVersion,
            @Schema(description = "Only this device; null for every device.")
            String deviceId,
            @Schema(description = "The threshold in force; null when each group uses its class SLO.")
            Double threshold,
            @Schema(description = "Where the threshold comes from: rule, metric default or class SLO.")
            String thresholdSource,
            @Schema(description = "Groups with fewer inferences (devices, finished targets) in the lookback are "
                    + "\"no data\".")
            long minSamples,
            @Schema(description = "The time range the metric is computed over.")
            long lookbackSeconds,
            @Schema(description = "How long the condition must hold before the alert fires.")
            long forSeconds,
            @Schema(description = "critical, warning or info (Alertmanager label).")
            String severity,
            @Schema(description = "What happens once when the alert fires.")
            AlertAction action,
            @Schema(description = "Link to the runbook (the built-in rules point at docs/runbooks).")
            String runbookUrl,
            @Schema(description = "Free text for the people who receive the alert, at most 1000 characters.")
            String description,
            @Schema(description = "Whether the rule is evaluated.")
            boolean enabled,
            @Schema(description = "True for the rules the server ships; they can be replaced or disabled but "
                    + "not deleted.")
            boolean builtin,
            @Schema(description = "Where the rule is defined: 'builtin' (seeded, thresholds from the class SLOs), 'file'"
                    + " (edgefleet.alerts.rules-file: read-only over REST, edit the file) or 'api' (REST).")
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

    @Schema(description = "One alert: a rule's condition for one group, from PENDING through FIRING to "
            + "RESOLVED.")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AlertView(
            @Schema(description = "Alert id.")
            long id,
            @Schema(description = "Id of the rule that raised it.")
            String rule,
            @Schema(description = "Alert name (the rule's).")
            String name,
            @Schema(description = "PENDING (condition holds, forSeconds not yet over), FIRING or RESOLVED.")
            AlertState state,
            @Schema(description = "critical, warning or info.")
            String severity,
            @Schema(description = "Stable hash of the labels: the same group keeps the same fingerprint.")
            String fingerprint,
            @Schema(description = "Alertmanager labels: alertname, severity and the group keys (class, model, "
                    + "version, device).")
            Map<String, String> labels,
            @Schema(description = "Alertmanager annotations: summary, description, runbook_url.")
            Map<String, String> annotations,
            @Schema(description = "The metric value at the last evaluation.")
            Double value,
            @Schema(description = "The threshold it was compared with.")
            Double threshold,
            @Schema(description = "When the condition was first seen, epoch milliseconds.")
            long activeAt,
            @Schema(description = "When it turned FIRING, epoch milliseconds; null while PENDING.")
            Long firedAt,
            @Schema(description = "When it resolved, epoch milliseconds; null while open.")
            Long resolvedAt,
            @Schema(description = "What the rule's action did when the alert fired (e.g. the deployments rolled "
                    + "back).")
            String actionResult) {
    }

    @Schema(description = "A re-compression request recorded by a RECOMPRESS alert, for the planner to take up.")
    public record RecompressionView(
            @Schema(description = "Request id.")
            long id,
            @Schema(description = "The alert that recorded it.")
            long alertId,
            @Schema(description = "Id of that alert's rule.")
            String rule,
            @Schema(description = "Device class to re-plan for.")
            String classId,
            @Schema(description = "Model to re-compress.")
            String modelName,
            @Schema(description = "Version the devices ran; null when the alert was about the model as a whole.")
            Long modelVersion,
            @Schema(description = "Why: the alert's metric, value and threshold.")
            String reason,
            @Schema(description = "OPEN while no plan has taken it up (the only status this server version records).")
            String status,
            @Schema(description = "When it was recorded, epoch milliseconds.")
            long createdAt) {

        static RecompressionView of(RecompressionRequestEntity e) {
            return new RecompressionView(e.id, e.alertId, e.ruleId, e.classId, e.modelName, e.modelVersion, e.reason,
                    e.status, e.createdAt);
        }
    }
}
