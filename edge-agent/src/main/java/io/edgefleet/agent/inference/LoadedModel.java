package io.edgefleet.agent.inference;

/** A model held by the runtime, with the input feed that drives it. Holds native memory: close it. */
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
     * One inference on synthetic input before activation; throws SMOKE_TEST_FAILED when it fails or
     * produces non-finite numbers.
     */
    void smokeTest() throws ModelException;

    @Override
    void close();
}
