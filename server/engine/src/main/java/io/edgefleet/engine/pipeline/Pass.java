package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.onnx.OnnxModel;

/**
 * One step of a recipe: takes a model, returns a new one (models are immutable; edit through
 * {@link OnnxModel#edit()}). A pass must be stateless so a recipe can run many times, and it must leave control-flow
 * bodies (If/Loop) valid. It records what it did per layer through {@link PassContext#decide}.
 *
 * <p>Bad input a pass detects (e.g. a parameter out of range) is a {@link io.edgefleet.engine.BadInputException};
 * anything else it throws is treated as an engine error.
 */
public interface Pass {
    /** Short stable name, e.g. "dynamic-int8-weights". */
    String name();

    OnnxModel apply(OnnxModel model, PassContext context);
}
