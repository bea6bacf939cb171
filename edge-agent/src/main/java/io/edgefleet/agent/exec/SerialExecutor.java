package io.edgefleet.agent.exec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A single-threaded scheduled executor without a thread of its own: tasks run one at a time, in submission
 * order, on a shared pool, and delayed or periodic tasks wait on a shared timer. Many of these (one per
 * agent) share a few threads; each still sees the guarantee the agent's logic relies on, that no two of its
 * tasks run at once and that one task's effects are visible to the next.
 *
 * <p>Semantics follow {@link java.util.concurrent.ScheduledThreadPoolExecutor} with one thread, except that
 * {@link #shutdown} also cancels delayed tasks that have not fired (the agent's timers are timeouts, moot once
 * it stops). A periodic task that throws is not run again; a fixed-rate tick that finds the previous run still
 * queued or running is skipped rather than queued twice.
 */
public final class SerialExecutor extends AbstractExecutorService implements ScheduledExecutorService {
    private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());
    /** Tasks run per turn on the pool before the turn is handed back, so one busy agent cannot hold a pool thread. */
    static final int BATCH = 32;

    private final String name;
    private final Executor pool;
    private final ScheduledExecutorService timer;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private final Set<Timed<?>> timed = ConcurrentHashMap.newKeySet();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private boolean active;
    private volatile boolean shutdown;

    /**
     * @param name  for log lines
     * @param pool  runs the tasks (shared)
     * @param timer fires delayed and periodic tasks (shared; its thread only hands them to this executor's queue)
     */
    public SerialExecutor(String name, Executor pool, ScheduledExecutorService timer) {
        this.name = name;
        this.pool = pool;
        this.timer = timer;
    }

    @Override
    public void execute(Runnable task) {
        if (task == null) {
            throw new NullPointerException();
        }
        synchronized (this) {
            if (shutdown) {
                throw new RejectedExecutionException(name + " is shut down");
            }
            queue.addLast(task);
            if (active) {
                return;
            }
            active = true;
        }
        submitTurn();
    }

    /** Queues without the shutdown check: a delayed task that fired before shutdown still runs. */
    private void enqueueFired(Runnable task) {
        synchronized (this) {
            if (shutdown) {
                return;
            }
            queue.addLast(task);
            if (active) {
                return;
            }
            active = true;
        }
        submitTurn();
    }

    private void submitTurn() {
        try {
            pool.execute(this::turn);
        } catch (RejectedExecutionException e) {
            // The shared pool is gone (the whole runtime is closing): nothing can run any more.
            List<Runnable> dropped;
            synchronized (this) {
                active = false;
                dropped = new ArrayList<>(queue);
                queue.clear();
                shutdown = true;
            }
            terminated.countDown();
            if (!dropped.isEmpty()) {
                LOG.log(System.Logger.Level.DEBUG, name + ": pool closed, " + dropped.size() + " tasks not run");
            }
        }
    }

    private void turn() {
        for (int i = 0; i < BATCH; i++) {
            Runnable next;
            synchronized (this) {
                next = queue.pollFirst();
                if (next == null) {
                    active = false;
                    if (shutdown) {
                        terminated.countDown();
                    }
                    return;
                }
            }
            try {
                next.run();
            } catch (Throwable t) {
                // Plain execute() tasks have no future to carry the failure; a dead pool thread would hurt every agent.
                LOG.log(System.Logger.Level.ERROR, name + ": task failed: " + t, t);
            }
        }
        submitTurn();
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return schedule(() -> {
            command.run();
            return null;
        }, delay, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        checkOpen();
        OneShot<V> task = new OneShot<>(callable);
        timed.add(task);
        task.timerFuture = timer.schedule(() -> enqueueFired(task), delay, unit);
        return task;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        if (period <= 0) {
            throw new IllegalArgumentException("period must be > 0");
        }
        checkOpen();
        Periodic task = new Periodic(command, -1);
        timed.add(task);
        task.timerFuture = timer.scheduleAtFixedRate(task::tick, initialDelay, period, unit);
        return task;
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        if (delay <= 0) {
            throw new IllegalArgumentException("delay must be > 0");
        }
        checkOpen();
        Periodic task = new Periodic(command, unit.toNanos(delay));
        timed.add(task);
        task.timerFuture = timer.schedule(task::tick, initialDelay, unit);
        return task;
    }

    private void checkOpen() {
        if (shutdown) {
            throw new RejectedExecutionException(name + " is shut down");
        }
    }

    @Override
    public void shutdown() {
        boolean idle;
        synchronized (this) {
            shutdown = true;
            idle = !active;
        }
        for (Timed<?> t : timed) {
            t.cancel(false);
        }
        if (idle) {
            terminated.countDown();
        }
    }

    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> left;
        synchronized (this) {
            left = new ArrayList<>(queue);
            queue.clear();
        }
        shutdown();
        return left;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    /** Common part of delayed and periodic tasks: the timer's future gives the delay and is cancelled with them. */
    private abstract class Timed<V> implements ScheduledFuture<V> {
        volatile ScheduledFuture<?> timerFuture;

        @Override
        public long getDelay(TimeUnit unit) {
            ScheduledFuture<?> f = timerFuture;
            return f == null ? 0 : f.getDelay(unit);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        void cancelTimer() {
            ScheduledFuture<?> f = timerFuture;
            if (f != null) {
                f.cancel(false);
            }
            timed.remove(this);
        }
    }

    private final class OneShot<V> extends Timed<V> implements Runnable {
        private final FutureTask<V> body;

        OneShot(Callable<V> callable) {
            this.body = new FutureTask<>(callable);
        }

        @Override
        public void run() {
            timed.remove(this);
            body.run();
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            cancelTimer();
            return body.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean isCancelled() {
            return body.isCancelled();
        }

        @Override
        public boolean isDone() {
            return body.isDone();
        }

        @Override
        public V get() throws InterruptedException, ExecutionException {
            return body.get();
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            return body.get(timeout, unit);
        }
    }

    /** Fixed rate ({@code delayNanos < 0}) or fixed delay; done only when cancelled or failed. */
    private final class Periodic extends Timed<Object> {
        private final Runnable command;
        private final long delayNanos;
        private final CompletableFuture<Object> outcome = new CompletableFuture<>();
        private boolean pending;

        Periodic(Runnable command, long delayNanos) {
            this.command = command;
            this.delayNanos = delayNanos;
        }

        /** On the timer thread: queue one run unless the previous one has not finished. */
        void tick() {
            synchronized (this) {
                if (pending || outcome.isDone()) {
                    return;
                }
                pending = true;
            }
            enqueueFired(this::runOnce);
        }

        private void runOnce() {
            if (outcome.isDone()) {
                return;
            }
            try {
                command.run();
            } catch (Throwable t) {
                outcome.completeExceptionally(t);
                cancelTimer();
                LOG.log(System.Logger.Level.ERROR, name + ": periodic task failed and stops: " + t, t);
                return;
            } finally {
                synchronized (this) {
                    pending = false;
                }
            }
            if (delayNanos >= 0 && !outcome.isDone()) {
                try {
                    timerFuture = timer.schedule(this::tick, delayNanos, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    outcome.cancel(false);
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = outcome.cancel(false);
            cancelTimer();
            return cancelled;
        }

        @Override
        public boolean isCancelled() {
            return outcome.isCancelled();
        }

        @Override
        public boolean isDone() {
            return outcome.isDone();
        }

        @Override
        public Object get() throws InterruptedException, ExecutionException {
            try {
                return outcome.get();
            } catch (CancellationException e) {
                throw e;
            }
        }

        @Override
        public Object get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            return outcome.get(timeout, unit);
        }
    }
}
