package io.edgefleet.server.alert;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/** Runs an evaluation pass every {@code edgefleet.alerts.evaluation-interval}; a slow pass skips the next, never overlaps. */
@ApplicationScoped
public class AlertScheduler {
    private static final Logger LOG = Logger.getLogger(AlertScheduler.class);

    @Inject
    AlertService alerts;

    @Inject
    AlertsConfig config;

    @Scheduled(every = "${edgefleet.alerts.evaluation-interval:15s}", delayed = "${edgefleet.alerts.evaluation-interval:15s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void evaluate() {
        if (!config.enabled()) {
            return;
        }
        try {
            alerts.evaluate(System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warnf(e, "Alert evaluation failed; retried at the next interval");
        }
    }
}
