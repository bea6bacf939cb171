package io.edgefleet.agent.inference;

import io.edgefleet.protocol.drift.TensorSample;
import java.util.List;

/** What one inference saw, as plain arrays: its input tensors and its tensor outputs (for drift statistics). */
public record Observation(List<TensorSample> inputs, List<TensorSample> outputs) {
}
