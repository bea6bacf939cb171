package io.edgefleet.server.alert;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@code edgefleet.alerts.*}: rule evaluation and webhook delivery. */
@ConfigMapping(prefix = "edgefleet.alerts")
public interface AlertsConfig {

    /** Evaluate rules on a schedule ({@code evaluation-interval}). */
    @WithDefault("true")
    boolean enabled();

    /** How often rules are evaluated (read by the scheduler as {@code edgefleet.alerts.evaluation-interval}). */
    @WithName("evaluation-interval")
    @WithDefault("15s")
    Duration evaluationInterval();

    /** Seed one rule per metric whose thresholds follow each class's SLOs; false removes the seeded ones. */
    @WithName("default-rules")
    @WithDefault("true")
    boolean defaultRules();

    /** Alertmanager-format webhook receivers; none: alerts are only in the API and the metrics. */
    @WithName("webhook-urls")
    Optional<List<String>> webhookUrls();

    /** The {@code receiver} field of webhook payloads. */
    @WithName("receiver")
    @WithDefault("edgefleet")
    String receiver();

    /** Base of the {@code externalURL} and {@code generatorURL} fields; defaults to this server's HTTP address. */
    @WithName("external-url")
    Optional<String> externalUrl();

    /** Runbook pages are {@code <base><alertname>.md}; point it at where the repository's docs are hosted. */
    @WithName("runbook-base-url")
    @WithDefault("docs/runbooks/")
    String runbookBaseUrl();

    /**
     * A firing alert is sent to the webhooks again this long after its last notification, as Alertmanager's
     * {@code repeat_interval}; {@code 0s} never repeats. A resolved alert is sent once.
     */
    @WithName("repeat-interval")
    @WithDefault("4h")
    Duration repeatInterval();

    /** A YAML or JSON file of alert rules loaded at start (docs/alerts.md: format and precedence); none when unset. */
    @WithName("rules-file")
    Optional<String> rulesFile();

    Webhook webhook();

    interface Webhook {
        /** Delivery attempts per notification and receiver before it is given up (and counted). */
        @WithName("max-attempts")
        @WithDefault("8")
        int maxAttempts();

        /** Delay before the first retry; doubled per attempt up to {@code max-backoff}. */
        @WithName("initial-backoff")
        @WithDefault("1s")
        Duration initialBackoff();

        @WithName("max-backoff")
        @WithDefault("60s")
        Duration maxBackoff();

        @WithDefault("5s")
        Duration timeout();

        /** Notifications waiting for delivery; more are dropped (and counted), evaluation never waits. */
        @WithName("queue-size")
        @WithDefault("1000")
        int queueSize();
    }
}
