package io.edgefleet.server.alert;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.api.ApiError.FieldError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a rule request into a rule, or refuses it with a 400 naming every bad field and why (plain
 * Java; the lookups are the only contact with the database).
 */
public final class RuleValidator {
    /** Prometheus' label-name syntax, so the alertname is also a sane runbook file name. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    public static final long DEFAULT_LOOKBACK_SECONDS = 60;
    public static final long MAX_FOR_SECONDS = 7 * 24 * 3600;

    /** What the validator must ask the database. */
    public interface Lookups {
        boolean classExists(String id);

        boolean deviceExists(String id);

        boolean modelExists(String name, Long version);
    }

    private record Problem(ErrorCode code, String field, String reason) {
    }

    private RuleValidator() {
    }

    /**
     * @param id                the rule's id (from the path on a replace; from the body on create)
     * @param maxLookbackSeconds how long raw telemetry is kept: a longer lookback would read windows already deleted
     */
    public static AlertRule validate(String id, RuleRequest r, boolean builtin, Lookups lookups, long maxLookbackSeconds) {
        List<Problem> problems = new ArrayList<>();
        if (id == null || !Topics.isId(id)) {
            problems.add(new Problem(ErrorCode.INVALID_ID, "id", "must be 1-64 characters of letters, digits, '.', '_', '-'"
                    + " starting with a letter or digit"));
        }
        AlertMetric metric = parse(AlertMetric.class, r.metric(), "metric", true, ErrorCode.UNKNOWN_METRIC, problems);
        AlertScope scope = r.scope() == null ? AlertScope.VERSION
                : parse(AlertScope.class, r.scope(), "scope", true, ErrorCode.VALIDATION_FAILED, problems);
        Severity severity = r.severity() == null ? Severity.WARNING
                : parse(Severity.class, r.severity(), "severity", true, ErrorCode.VALIDATION_FAILED, problems);
        AlertAction action = r.action() == null ? AlertAction.NONE
                : parse(AlertAction.class, r.action(), "action", true, ErrorCode.VALIDATION_FAILED, problems);
        String name = r.name() != null ? r.name() : metric != null ? metric.defaultName() : null;
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "name",
                    "must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters): it is the alertname label"));
        }
        if (metric != null && r.threshold() != null) {
            double t = r.threshold();
            if (!Double.isFinite(t) || t < metric.min() || t >= metric.max()) {
                problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "threshold", metric.isRatio()
                        ? "must be a ratio in [0, 1) for " + metric + " (the alert fires when the value is above it)"
                        : "must be a finite number >= 0 for " + metric));
            }
        }
        if (r.classId() != null && !lookups.classExists(r.classId())) {
            problems.add(new Problem(ErrorCode.UNKNOWN_DEVICE_CLASS, "classId", "device class '" + r.classId() + "' does not exist"));
        }
        if (r.deviceId() != null && !lookups.deviceExists(r.deviceId())) {
            problems.add(new Problem(ErrorCode.UNKNOWN_DEVICE, "deviceId", "device '" + r.deviceId() + "' does not exist"));
        }
        if (r.modelVersion() != null && r.modelName() == null) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "modelVersion", "needs modelName"));
        } else if (r.modelName() != null && !lookups.modelExists(r.modelName(), r.modelVersion())) {
            problems.add(new Problem(ErrorCode.UNKNOWN_MODEL, r.modelVersion() == null ? "modelName" : "modelVersion",
                    "model " + r.modelName() + (r.modelVersion() == null ? "" : ":" + r.modelVersion()) + " does not exist"));
        }
        long minSamples = r.minSamples() == null ? 1 : r.minSamples();
        if (minSamples < 0) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "minSamples", "must be >= 0"));
        }
        long lookback = r.lookbackSeconds() == null ? DEFAULT_LOOKBACK_SECONDS : r.lookbackSeconds();
        if (lookback < 1 || lookback > maxLookbackSeconds) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "lookbackSeconds", "must be between 1 and "
                    + maxLookbackSeconds + " (raw telemetry is kept that long; edgefleet.telemetry.raw-retention)"));
        }
        long forSeconds = r.forSeconds() == null ? 0 : r.forSeconds();
        if (forSeconds < 0 || forSeconds > MAX_FOR_SECONDS) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "forSeconds", "must be between 0 and " + MAX_FOR_SECONDS));
        }
        if (action == AlertAction.RECOMPRESS && scope == AlertScope.CLASS && r.modelName() == null) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "action",
                    "RECOMPRESS needs a model: use scope MODEL, VERSION or DEVICE, or set modelName"));
        }
        if (action == AlertAction.ROLLBACK && metric == AlertMetric.OFFLINE_SHARE) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "action",
                    "ROLLBACK cannot reach offline devices; an OFFLINE_SHARE rule cannot roll back"));
        }
        if (r.runbookUrl() != null && r.runbookUrl().length() > 1000) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "runbookUrl", "must be at most 1000 characters"));
        }
        if (r.description() != null && r.description().length() > 1000) {
            problems.add(new Problem(ErrorCode.VALIDATION_FAILED, "description", "must be at most 1000 characters"));
        }
        if (!problems.isEmpty()) {
            String message = "invalid alert rule: " + problems.stream().map(p -> p.field() + " " + p.reason())
                    .collect(Collectors.joining("; "));
            throw new ApiException(problems.get(0).code(), message,
                    problems.stream().map(p -> new FieldError(p.field(), p.reason())).toList(), null);
        }
        return new AlertRule(id, name, metric, scope, r.classId(), r.modelName(), r.modelVersion(), r.deviceId(),
                r.threshold(), minSamples, lookback, forSeconds, severity, action, r.runbookUrl(), r.description(),
                r.enabled() == null || r.enabled(), builtin);
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String value, String field, boolean required,
            ErrorCode code, List<Problem> problems) {
        if (value == null) {
            if (required) {
                problems.add(new Problem(ErrorCode.VALIDATION_FAILED, field, "is required; one of " + names(type)));
            }
            return null;
        }
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(code, field, "unknown " + field + " '" + value + "'; one of " + names(type)));
            return null;
        }
    }

    private static String names(Class<? extends Enum<?>> type) {
        return Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
