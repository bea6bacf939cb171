package io.edgefleet.agent.exec;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Steps that run one at a time, in order, where a step may end with a future (a publish waiting for its
 * PUBACK): the next step starts only once that future completed, but no thread waits for it in between.
 * Each step runs on {@code executor} (a {@link SerialExecutor} on a shared pool, or a thread of its own), so
 * one step's effects are visible to the next exactly as on a single sender thread that blocked on every
 * PUBACK; ten thousand agents waiting for their brokers' answers hold no thread at all.
 */
public final class StepQueue {
    private static final System.Logger LOG = System.getLogger(StepQueue.class.getName());
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final String name;
    private final Executor executor;
    private final ArrayDeque<Supplier<? extends CompletionStage<?>>> steps = new ArrayDeque<>();
    /** A step is queued on the executor or its future is pending. */
    private boolean busy;
    private boolean closed;

    /**
     * @param name     for log lines
     * @param executor runs each step and each continuation; a step never runs beside another of this queue
     */
    public StepQueue(String name, Executor executor) {
        this.name = name;
        this.executor = executor;
    }

    /** A step that is over when it returns. */
    public void execute(Runnable step) {
        submit(() -> {
            step.run();
            return DONE;
        });
    }

    /** A step that is over when the future it returns completes (normally or not); null counts as done. */
    public void submit(Supplier<? extends CompletionStage<?>> step) {
        synchronized (this) {
            if (closed) {
                return;
            }
            steps.addLast(step);
            if (busy) {
                return;
            }
            busy = true;
        }
        next();
    }

    /** A future that completes once every step queued before it is over (or at once when closed). */
    public CompletableFuture<Void> barrier() {
        CompletableFuture<Void> reached = new CompletableFuture<>();
        submit(() -> {
            reached.complete(null);
            return DONE;
        });
        synchronized (this) {
            if (closed) {
                reached.complete(null);
            }
        }
        return reached;
    }

    /** Drops the steps not started yet and takes no more; a step in progress still finishes. */
    public void close() {
        synchronized (this) {
            closed = true;
            steps.clear();
        }
    }

    /** Steps queued and not started (tests, reports). */
    public synchronized int pending() {
        return steps.size();
    }

    private void next() {
        try {
            executor.execute(this::runOne);
        } catch (RejectedExecutionException e) {
            synchronized (this) { // the executor is shut down: nothing queued here can run any more
                busy = false;
                steps.clear();
                closed = true;
            }
        }
    }

    private void runOne() {
        Supplier<? extends CompletionStage<?>> step;
        synchronized (this) {
            step = steps.pollFirst();
            if (step == null) {
                busy = false;
                return;
            }
        }
        CompletionStage<?> stage;
        try {
            stage = step.get();
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, name + ": step failed: " + e);
            stage = DONE;
        }
        if (stage == null) {
            stage = DONE;
        }
        stage.whenComplete((result, error) -> next());
    }
}
