package io.edgefleet.agent.inference;

/**
 * Faults injected into the built-in inference loop, for the simulator and tests: a drifting input
 * stream, slowdowns and error bursts. Applications never see this; the default is no fault.
 */
public interface InferenceFaults {
    InferenceFaults NONE = new InferenceFaults() {
    };

    /** Called before each run; throw to make this inference fail (an error burst). */
    default void beforeRun() throws Exception {
    }

    /** The float input the model gets instead of {@code values}; return {@code values} for no change. */
    default float[] input(String name, float[] values) {
        return values;
    }

    /** Whether {@link #input} changes anything right now (so unchanged inputs are not copied). */
    default boolean transformsInputs() {
        return false;
    }

    /**
     * The class distribution the built-in loop samples a labelled {@code .npz} input folder with right now (class-mix
     * drift); null to feed the samples in their order. Ignored for synthetic inputs and for files without
     * {@code labels}.
     */
    default ClassMix classMix() {
        return null;
    }

    /** Extra wall time in nanoseconds to add to an inference that took {@code elapsedNanos} (a slowdown). */
    default long extraNanos(long elapsedNanos) {
        return 0;
    }
}
