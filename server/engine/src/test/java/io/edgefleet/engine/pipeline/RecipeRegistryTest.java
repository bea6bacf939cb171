package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.pipeline.ParamSpec.Bounds;
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
        assertThrows(IllegalArgumentException.class, () -> Recipe.compression("Bad Name", "", false, List.of()));
        Recipe r = TestPasses.noiseRecipe(0.1).withParameters(Map.of("noise", "0.3"));
        assertEquals(Map.of("noise", "0.3"), r.parameters());
        assertThrows(BadInputException.class, () -> TestPasses.noiseRecipe(0.1).withParameters(Map.of("extra", "1")));
        assertEquals(List.of("weight-noise"), r.passNames());
    }

    @Test
    void theContextReadsParametersThroughTheirSpecs() {
        PassContext ctx = PassContext.standalone(SampleModels.mlp(1), null,
                Map.of("n", "12", "f", "0.25", "b", "yes", "badInt", "x", "badNumber", "x", "badBool", "x"));
        ParamSpec<Integer> n = ParamSpec.integer("n", "0", Bounds.atLeast(0));
        assertEquals(12, ctx.get(n));
        assertEquals(0.25, ctx.get(ParamSpec.number("f", "0", Bounds.closed(0, 1))));
        assertTrue(ctx.get(ParamSpec.bool("b", "false")));
        assertEquals(7, ctx.get(ParamSpec.integer("missing", "7", Bounds.ANY)), "no value: the spec's default");
        BadInputException e = assertThrows(BadInputException.class,
                () -> ctx.get(ParamSpec.integer("badInt", "0", Bounds.ANY)));
        assertTrue(e.getMessage().contains("recipe 'standalone': parameter 'badInt' must be an integer, got 'x'"),
                e.getMessage());
        assertThrows(BadInputException.class, () -> ctx.get(ParamSpec.number("badNumber", "0", Bounds.ANY)));
        assertThrows(BadInputException.class, () -> ctx.get(ParamSpec.bool("badBool", "false")));
        // one name, one rule: a pass that reads a parameter differently from another is a programming error
        assertThrows(IllegalStateException.class, () -> ctx.get(ParamSpec.integer("n", "1", Bounds.atLeast(1))));
        assertEquals(n.defaultValue(), ctx.parametersRead().get("n").defaultValue());
        assertEquals(List.of("b", "badBool", "badInt", "badNumber", "f", "missing", "n"),
                List.copyOf(ctx.parametersRead().keySet()));
        assertThrows(BadInputException.class, ctx::requireCalibration);
    }
}
