package io.edgefleet.agent.inference;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A model held by the runtime, with the input feed that drives it. Holds native memory: close it, and
 * only once nothing runs on it any more (the serving layer's lease guarantees that for requests).
 */
public interface LoadedModel extends AutoCloseable {

    /** Runs one inference on the next input of the configured feed; throws when the runtime fails. */
    void infer() throws Exception;

    /**
     * Runs one inference like {@link #infer} and returns its inputs and outputs as plain arrays, for the
     * drift statistics; null when this model does not capture them.
     */
    default Observation inferObserved() throws Exception {
        infer();
        return null;
    }

    /**
     * Like {@link #inferObserved} and tells {@code modelNanos} how long the model itself ran: without
     * preparing the feed's next input and without copying what it saw for the drift statistics, so the
     * built-in loop's latency measures what the inference API's does (the model's run on given inputs).
     * It may be told more than once (a cascade runs two models); the times add up. This default, for
     * models without a feed to leave out, times the whole call.
     */
    default Observation inferTimed(java.util.function.LongConsumer modelNanos) throws Exception {
        long start = System.nanoTime();
        Observation seen = inferObserved();
        modelNanos.accept(System.nanoTime() - start);
        return seen;
    }

    /**
     * One inference on synthetic input before activation; throws SMOKE_TEST_FAILED when it fails or
     * produces non-finite numbers.
     */
    void smokeTest() throws ModelException;

    /** The model's declared inputs, in the model's order. */
    List<TensorSpec> inputs();

    /** The model's declared outputs, in the model's order. */
    List<TensorSpec> outputs();

    /**
     * One inference on the caller's inputs, which must match {@link #inputs()} (the caller validates);
     * returns the named outputs in the order asked. Safe to call from several threads at once.
     *
     * @throws Exception when the runtime fails on these inputs
     */
    Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> outputNames) throws Exception;

    @Override
    void close();
}
