package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The ONNX fuzz seed is built in code, not a fixture: it is the bytes of {@link OnnxModelTest#richModel()}
 * (control flow, initializers, value infos). {@code -Dfuzz.writeSeeds=true} rewrites it; a normal run
 * checks the checked-in file is still exactly that model.
 */
class FuzzSeedsTest {
    static final Path SEED = Path.of("src/test/resources/io/edgefleet/engine/fuzz/OnnxFuzzTestInputs/read/rich-model.onnx");

    @Test
    void theCheckedInSeedIsTheModelTheBuilderMakes() throws IOException {
        byte[] built = OnnxModelTest.richModel().toByteArray();
        if (Boolean.getBoolean("fuzz.writeSeeds")) {
            Files.createDirectories(SEED.getParent());
            Files.write(SEED, built);
        }
        assertArrayEquals(built, Files.readAllBytes(SEED));
        OnnxModel.read(built);
    }
}
