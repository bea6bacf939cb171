package io.edgefleet.engine.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.edgefleet.engine.onnx.OnnxFormatException;
import io.edgefleet.engine.onnx.OnnxModel;

/**
 * Promise 7, fuzzed: the engine's ONNX reader takes arbitrary bytes and either returns a checked
 * model or refuses with {@link OnnxFormatException} (and its reason); anything else is a finding.
 * Seeds: {@code src/test/resources/io/edgefleet/engine/fuzz/OnnxFuzzTestInputs/read/}, made by
 * {@code OnnxSeeds} from the project's own test models.
 */
class OnnxFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void read(byte[] data) {
        try {
            OnnxModel.read(data);
        } catch (OnnxFormatException e) {
            if (e.reason() == null) {
                throw new AssertionError("a refusal without a reason", e);
            }
        }
    }
}
