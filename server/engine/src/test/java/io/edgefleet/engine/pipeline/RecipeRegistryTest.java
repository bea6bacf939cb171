package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.SampleModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecipeRegistryTest {

    @Test
    void identityIsAlwaysThereAndIsNotCompression() {
        Recipe id = RecipeRegistry.get("identity");
        assertEquals(Recipe.Kind.BASELINE, id.kind());
        assertTrue(id.description().contains("Not a compression"));
        assertTrue(RecipeRegistry.all().stream().anyMatch(r -> r.name().equals("identity")));
        PassContext ctx = PassContext.standalone(SampleModels.mlp(1), null, Map.of());
        assertEquals(SampleModels.mlp(1).sha256(), id.passes().get(0).apply(SampleModels.mlp(1), ctx).sha256());
    }

    @Test
    void unknownRecipesListTheKnownOnes() {
        BadInputException e = assertThrows(BadInputException.class, () -> RecipeRegistry.get("int3-magic"));
        assertTrue(e.getMessage().contains("unknown recipe 'int3-magic'") && e.getMessage().contains("identity"),
                e.getMessage());
    }

    @Test
    void registeredRecipesCanBeFoundAndAreSorted() {
        RecipeRegistry.register(TestPasses.noiseRecipe(0.1));
        assertEquals("test-noise", RecipeRegistry.get("test-noise").name());
        List<String> names = RecipeRegistry.all().stream().map(Recipe::name).toList();
        assertEquals(names.stream().sorted().toList(), names);
    }

    @Test
    void namesAndParametersAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Recipe.compression("Bad Name", "", false, Map.of()));
        Recipe r = TestPasses.noiseRecipe(0.1).withParameters(Map.of("noise", "0.3"));
        assertEquals(Map.of("noise", "0.3"), r.parameters());
        assertThrows(io.edgefleet.engine.BadInputException.class,
                () -> TestPasses.noiseRecipe(0.1).withParameters(Map.of("extra", "1")));
        assertEquals(List.of("weight-noise"), r.passNames());
    }

    @Test
    void contextParameterParsing() {
        PassContext ctx = PassContext.standalone(SampleModels.mlp(1), null,
                Map.of("n", "12", "f", "0.25", "b", "yes", "bad", "x"));
        assertEquals(12, ctx.intParam("n", 0));
        assertEquals(0.25, ctx.doubleParam("f", 0));
        assertTrue(ctx.boolParam("b", false));
        assertEquals(7, ctx.intParam("missing", 7));
        assertThrows(BadInputException.class, () -> ctx.intParam("bad", 0));
        assertThrows(BadInputException.class, () -> ctx.doubleParam("bad", 0));
        assertThrows(BadInputException.class, () -> ctx.boolParam("bad", false));
        assertThrows(BadInputException.class, ctx::requireCalibration);
    }
}
