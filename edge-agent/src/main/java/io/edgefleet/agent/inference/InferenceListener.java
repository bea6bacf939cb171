package io.edgefleet.agent.inference;

/** Receives the outcome of every inference the loop runs. */
public interface InferenceListener {
    /** @param latencyNanos wall time of the inference including the emulated slow-down */
    void onSuccess(long latencyNanos);

    void onError(Throwable error);
}
