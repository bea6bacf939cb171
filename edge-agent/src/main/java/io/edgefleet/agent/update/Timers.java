package io.edgefleet.agent.update;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Delayed tasks on the agent thread. Tests use a manual implementation to fire timeouts on demand. */
public interface Timers {

    interface Handle {
        void cancel();
    }

    Handle schedule(Runnable task, long delayMs);

    static Timers on(ScheduledExecutorService executor) {
        return (task, delayMs) -> {
            var f = executor.schedule(task, delayMs, TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
    }
}
