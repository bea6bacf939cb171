package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Recipe parameters are a contract: a job may only override what its recipe declares (a misspelt name must not be
 * ignored while the job quietly runs on the default), every declared parameter has a spec that a value must pass when
 * the recipe is configured (so a bad value is refused at submission, not when the job runs minutes later), and the
 * passes read each value through the spec the recipe declares (so what submission accepts is what the pass uses).
 */
class RecipeParametersTest {

    @Test
    void everyParameterAPassOrReferenceReadsIsDeclaredWithTheSameRule() {
        OnnxModel mlp = SampleModels.mlp(11);
        Dataset mlpData = Dataset.of(Map.of("x", TestData.mlpInputs(96, 21)), null, null);
        OnnxModel cnn = SampleModels.cnn(3);
        Dataset cnnData = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {48, 1, 8, 8},
                OnnxBuilder.randomUniform(5, 48 * 64, 0, 1))), null, null);
        Set<String> checked = new TreeSet<>();
        for (Recipe r : RecipeRegistry.builtIn()) {
            boolean conv = r.name().startsWith("prune-structured");
            OnnxModel model = conv ? cnn : mlp;
            Dataset data = conv ? cnnData : mlpData;
            // as a job runs it: the recipe's declared parameters (8 channels cannot be cut in multiples of 8)
            Recipe configured = conv ? r.withParameters(Map.of("channelMultiple", "1")) : r;
            PassContext ctx = context(configured, model, data);
            OnnxModel current = model;
            for (Pass p : r.passes()) {
                current = p.apply(current, ctx);
            }
            assertReadAsDeclared(r, ctx, "passes");
            PassContext refCtx = context(configured, model, data);
            configured.aggressiveReference(model, current, ctx.decisions(), refCtx);
            assertReadAsDeclared(r, refCtx, "aggressive reference");
            checked.add(r.name());
        }
        assertTrue(checked.containsAll(Set.of("identity", "dynamic-int8", "int4-weight-only", "prune-structured",
                "prune-hessian", "prune-iterative", "lowrank-svd")), checked.toString());
    }

    private static PassContext context(Recipe r, OnnxModel model, Dataset data) {
        return new PassContext(r.name(), model, data, OrtRunner.Options.defaults(), r.parameters(), Progress.NONE,
                null);
    }

    private static void assertReadAsDeclared(Recipe r, PassContext ctx, String what) {
        Set<String> undeclared = new TreeSet<>(ctx.parametersRead().keySet());
        undeclared.removeAll(r.parameters().keySet());
        assertTrue(undeclared.isEmpty(), r.name() + ": its " + what + " read undeclared parameters " + undeclared);
        ctx.parametersRead().forEach((name, read) -> {
            ParamSpec<?> declared = r.spec(name).orElseThrow();
            assertTrue(declared.sameRuleAs(read), r.name() + ": its " + what + " read " + read + " but the recipe "
                    + "declares " + declared);
        });
    }

    @Test
    void everyDeclaredParameterHasASpecThatItsDefaultPasses() {
        // a recipe whose declaration does not hold (say, a default its spec refuses) drops its provider's recipes
        assertEquals(List.of(), RecipeRegistry.loadProblems());
        assertTrue(RecipeRegistry.builtIn().size() > 10, RecipeRegistry.builtIn().toString());
        for (Recipe r : RecipeRegistry.builtIn()) {
            List<String> specNames = r.specs().stream().map(ParamSpec::name).sorted().toList();
            assertEquals(List.copyOf(r.parameters().keySet()), specNames, r.name());
            for (ParamSpec<?> s : r.specs()) {
                String value = r.parameters().get(s.name());
                assertEquals(s.defaultValue(), value, r.name() + "." + s.name());
                s.parse(value);
                assertFalse(s.allowed().isBlank(), r.name() + "." + s.name());
            }
            // configuring a recipe with its own defaults changes nothing
            assertEquals(r.parameters(), r.withParameters(r.parameters()).parameters(), r.name());
        }
    }

    /** {recipe, parameter, bad value, what the message must say is allowed}. */
    private static final List<String[]> BAD_VALUES = List.of(
            new String[] {"prune-iterative", "checkFraction", "2", "a number in (0, 1)"},
            new String[] {"prune-iterative", "budgetPoints", "-0.5", "a number >= 0"},
            new String[] {"prune-iterative", "splitSeed", "1.5", "an integer"},
            new String[] {"prune-magnitude", "sparsity", "abc", "a number in (0, 1)"},
            new String[] {"prune-magnitude", "scope", "everywhere", "one of per_layer, global"},
            new String[] {"prune-structured", "target", "0", "a number in (0, 1]"},
            new String[] {"prune-structured", "criterion", "vibes", "one of l1, l2, bn_scale, activation, "
                    + "contribution"},
            new String[] {"prune-structured", "channelMultiple", "0", "an integer >= 1"},
            new String[] {"prune-structured-int8", "int8Method", "magic", "one of minmax, percentile, entropy"},
            new String[] {"prune-hessian", "nm", "4:2", "N:M"},
            new String[] {"prune-hessian", "reconstruct", "maybe", "true or false"},
            new String[] {"lowrank-svd", "energy", "1.01", "a number in (0, 1]"},
            new String[] {"dynamic-int8", "minWeightElements", "-1", "an integer >= 0"},
            new String[] {"dynamic-int8-smooth", "alpha", "NaN", "a number in [0, 1]"},
            new String[] {"dynamic-int8-smooth", "syntheticSequences", "100000", "an integer in [1, 4096]"},
            new String[] {"static-int8-minmax", "maxCalibrationSamples", "0", "an integer >= 1"},
            new String[] {"int4-weight-only", "blockSize", "48", "one of 32, 64, 128"},
            new String[] {"int4-weight-only", "rounding", "stochastic", "one of auto, nearest, gptq"},
            new String[] {"int4-weight-only", "embeddings", "int4", "one of int8, float"},
            new String[] {"mixed-precision", "budget", "-1", "a number >= 0"},
            new String[] {"mixed-precision", "method", "", "one of minmax, percentile, entropy"});

    @Test
    void badValuesAreRefusedWhenTheRecipeIsConfiguredNamingParameterValueAndWhatIsAllowed() {
        for (String[] c : BAD_VALUES) {
            Recipe r = RecipeRegistry.get(c[0]);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> r.withParameters(Map.of(c[1], c[2])), String.join(" ", c));
            String m = e.getMessage();
            assertTrue(m.startsWith("recipe '" + c[0] + "': parameter '" + c[1] + "' must be ") && m.contains(c[3])
                    && m.endsWith(", got '" + c[2] + "'"), m);
        }
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        BadInputException e = assertThrows(BadInputException.class, () -> RecipeRegistry.get("prune-iterative")
                .withParameters(Map.of("checkFraction", "2", "step", "0", "scope", "per_layer")));
        assertTrue(e.getMessage().contains("'checkFraction'") && e.getMessage().contains("'step'")
                && !e.getMessage().contains("'scope'"), e.getMessage());
    }

    @Test
    void valuesAreReadTheWayTheSpecAcceptedThem() {
        // case and '-' for '_' in choices, yes/no for booleans: accepted at submission and understood by the pass
        Recipe r = RecipeRegistry.get("prune-structured").withParameters(Map.of("measure", "PARAMS",
                "recalibration", "bias-correction", "target", " 0.6 "));
        PassContext ctx = PassContext.standalone(SampleModels.cnn(3), null, r.parameters());
        Map<String, Object> seen = new TreeMap<>();
        for (ParamSpec<?> s : r.specs()) {
            seen.put(s.name(), ctx.get(s));
        }
        assertEquals("PARAMS", seen.get("measure").toString());
        assertEquals("BIAS_CORRECTION", seen.get("recalibration").toString());
        assertEquals(0.6, seen.get("target"));
        assertEquals("nearest", RecipeRegistry.get("int4-weight-only").spec("rounding").orElseThrow().parse("NEAREST"));
        assertEquals(true, RecipeRegistry.get("prune-hessian").spec("reconstruct").orElseThrow().parse("yes"));
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
