package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Recipe parameters are a contract: a job may only override what its recipe declares (a misspelt name must not be
 * ignored while the job quietly runs on the default), so every parameter a pass reads has to be declared.
 */
class RecipeParametersTest {

    @Test
    void everyParameterAPassReadsIsDeclaredByItsRecipe() {
        OnnxModel mlp = SampleModels.mlp(11);
        Dataset mlpData = Dataset.of(Map.of("x", TestData.mlpInputs(96, 21)), null, null);
        OnnxModel cnn = SampleModels.cnn(3);
        Dataset cnnData = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {48, 1, 8, 8},
                OnnxBuilder.randomUniform(5, 48 * 64, 0, 1))), null, null);
        Set<String> checked = new TreeSet<>();
        for (Recipe r : RecipeRegistry.all()) {
            boolean conv = r.name().startsWith("prune-structured");
            OnnxModel model = conv ? cnn : mlp;
            // as a job runs it: the recipe's declared parameters (8 channels cannot be cut in multiples of 8)
            Recipe configured = conv ? r.withParameters(Map.of("channelMultiple", "1")) : r;
            PassContext ctx = PassContext.standalone(model, conv ? cnnData : mlpData, configured.parameters());
            OnnxModel current = model;
            for (Pass p : r.passes()) {
                current = p.apply(current, ctx);
            }
            Set<String> undeclared = new TreeSet<>(ctx.parametersRead());
            undeclared.removeAll(r.parameters().keySet());
            assertTrue(undeclared.isEmpty(), r.name() + " reads undeclared parameters " + undeclared);
            checked.add(r.name());
        }
        assertTrue(checked.containsAll(Set.of("identity", "dynamic-int8", "int4-weight-only", "prune-structured",
                "prune-hessian", "prune-iterative", "lowrank-svd")), checked.toString());
    }

    @Test
    void unknownParametersAreRefusedWithTheKnownOnes() {
        Recipe r = RecipeRegistry.get("prune-magnitude");
        BadInputException e = assertThrows(BadInputException.class, () -> r.withParameters(Map.of("sparsty", "0.6")));
        assertTrue(e.getMessage().contains("has no parameter sparsty") && e.getMessage().contains("sparsity"),
                e.getMessage());
        assertEquals("0.6", r.withParameters(Map.of("sparsity", "0.6")).parameters().get("sparsity"));
        BadInputException none = assertThrows(BadInputException.class,
                () -> RecipeRegistry.get("identity").withParameters(Map.of("a", "1", "b", "2")));
        assertTrue(none.getMessage().contains("no parameters a, b; it takes none"), none.getMessage());
    }
}
