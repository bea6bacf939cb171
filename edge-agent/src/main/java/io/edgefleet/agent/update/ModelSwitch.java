package io.edgefleet.agent.update;

import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.protocol.ModelRef;

/** Puts a loaded model into service (closing the previous one); the agent wires it to the inference loop and telemetry. */
public interface ModelSwitch {
    void activate(LoadedModel model, ModelRef ref);
}
