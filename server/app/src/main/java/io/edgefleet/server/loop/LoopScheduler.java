package io.edgefleet.server.loop;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/** Runs a loop pass every {@code edgefleet.loop.interval}; a slow pass skips the next, never overlaps. */
@ApplicationScoped
public class LoopScheduler {
    private static final Logger LOG = Logger.getLogger(LoopScheduler.class);

    @Inject
    LoopService loops;

    @Inject
    LoopConfig config;

    @Scheduled(every = "${edgefleet.loop.interval:10s}", delayed = "${edgefleet.loop.interval:10s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        if (!config.enabled()) {
            return;
        }
        try {
            loops.tick(System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warnf(e, "Loop pass failed; retried at the next interval");
        }
    }
}
