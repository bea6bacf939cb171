package io.edgefleet.agent.inference;

/**
 * Receives the outcome of every inference, whichever path ran it (the built-in loop or an application
 * call); telemetry, energy and drift all count from here.
 */
public interface InferenceListener {
    /** @param latencyNanos wall time of the inference including the emulated slow-down */
    void onSuccess(long latencyNanos);

    void onError(Throwable error);

    /**
     * A successful inference with the CPU time the calling thread spent in it (ONNX Runtime runs on the
     * calling thread with one intra-op thread) and what it saw, or null when not captured. The default
     * counts only the latency.
     */
    default void onInference(long latencyNanos, long cpuNanos, Observation observation) {
        onSuccess(latencyNanos);
    }
}
