package io.edgefleet.agent.testing;

import io.edgefleet.agent.update.Timers;
import java.util.ArrayList;
import java.util.List;

/** Timers that fire only when the test advances the clock. */
public final class ManualTimers implements Timers {
    private final class Task implements Handle {
        final Runnable run;
        final long due;
        boolean cancelled;

        Task(Runnable run, long due) {
            this.run = run;
            this.due = due;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    private final List<Task> tasks = new ArrayList<>();
    private long now;

    @Override
    public Handle schedule(Runnable task, long delayMs) {
        Task t = new Task(task, now + delayMs);
        tasks.add(t);
        return t;
    }

    /** Moves the clock forward, running every task that falls due, in due order. */
    public void advance(long ms) {
        long target = now + ms;
        while (true) {
            Task next = null;
            for (Task t : tasks) {
                if (!t.cancelled && t.due <= target && (next == null || t.due < next.due)) {
                    next = t;
                }
            }
            if (next == null) {
                break;
            }
            tasks.remove(next);
            now = next.due;
            next.run.run();
        }
        now = target;
    }

    public long pending() {
        return tasks.stream().filter(t -> !t.cancelled).count();
    }
}
