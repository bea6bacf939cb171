package io.edgefleet.server.alert;

/**
 * One rule as the evaluator sees it (plain data, validated by {@link RuleValidator}).
 *
 * @param threshold       null: the class SLO (latency, energy) or the metric's default
 * @param minSamples      groups with fewer inferences (telemetry metrics), devices (offline share) or
 *                        finished targets (rollback rate) are "no data", not a breach
 * @param lookbackSeconds the range the metric is computed over, ending at the evaluation time
 * @param forSeconds      how long the condition must hold before the alert fires
 */
public record AlertRule(
        String id,
        String name,
        AlertMetric metric,
        AlertScope scope,
        String classId,
        String modelName,
        Long modelVersion,
        String deviceId,
        Double threshold,
        long minSamples,
        long lookbackSeconds,
        long forSeconds,
        Severity severity,
        AlertAction action,
        String runbookUrl,
        String description,
        boolean enabled,
        boolean builtin) {

    /** True when a group with these keys is one this rule watches (the rule's filters). */
    public boolean selects(String groupClass, String groupModel, Long groupVersion, String groupDevice) {
        return (classId == null || classId.equals(groupClass))
                && (modelName == null || modelName.equals(groupModel))
                && (modelVersion == null || modelVersion.equals(groupVersion))
                && (deviceId == null || deviceId.equals(groupDevice));
    }
}
