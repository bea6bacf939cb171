package io.edgefleet.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.Pass;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.report.ReportWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompressCliTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path valid;

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CompressCli.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void files() throws Exception {
        OnnxModel m = SampleModels.mlp(5);
        model = dir.resolve("tiny.onnx");
        m.write(model);
        TensorData x = TestData.mlpInputs(60, 3);
        valid = TestData.writeNpz(dir.resolve("valid.npz"), x, TestData.labelsWithErrors(m, x, 2),
                TestData.cohorts(60, 2));
        // A recipe that ruins the model (zeroes every weight) and one that crashes, to drive exit codes 3 and 1.
        RecipeRegistry.register(Recipe.compression("test-zero", "test: zero weights", false, List.of(), new Pass() {
            @Override
            public String name() {
                return "zero";
            }

            @Override
            public OnnxModel apply(OnnxModel mm, PassContext ctx) {
                var g = mm.edit();
                for (String n : g.initializerNames()) {
                    TensorData t = g.initializer(n);
                    g.setInitializer(TensorData.ofFloats(n, t.shape(), new float[t.elementCount()]));
                }
                return g.toModel();
            }
        }));
        RecipeRegistry.register(Recipe.compression("test-crash", "test: crashes", false, List.of(), new Pass() {
            @Override
            public String name() {
                return "crash";
            }

            @Override
            public OnnxModel apply(OnnxModel mm, PassContext ctx) {
                throw new IllegalStateException("boom");
            }
        }));
    }

    @Test
    void compressWritesVariantAndReportsAndExitsZero() throws Exception {
        Path out = dir.resolve("out-ok");
        Result r = cli("compress", "--model", model.toString(), "--recipe", "identity", "--validation",
                valid.toString(), "--latency-runs", "5", "--out", out.toString());
        assertEquals(CompressCli.OK, r.code(), r.err());
        assertTrue(r.out().startsWith("PASSED"), r.out());
        assertTrue(r.out().contains("baseline"), r.out());
        Path variant = out.resolve("tiny-identity.onnx");
        try (OrtRunner runner = OrtRunner.open(OnnxModel.read(variant))) {
            assertEquals(List.of("logits"), runner.outputNames());
        }
        JsonNode json = ReportWriter.mapper().readTree(Files.readString(out.resolve("report.json")));
        assertEquals(OnnxModel.read(variant).sha256(), json.at("/variant/sha256").asText());
        assertEquals("tiny-identity.onnx", json.at("/variant/fileName").asText());
        assertTrue(Files.readString(out.resolve("report.md")).contains("**Gate: PASSED**"));
        assertTrue(Files.readString(out.resolve("report.html")).contains("<strong>Gate: PASSED</strong>"));
        assertTrue(r.err().contains("[100%]"), "progress goes to stderr: " + r.err());
    }

    @Test
    void rejectedVariantsExitThreeAndAreMarked() throws Exception {
        Path out = dir.resolve("out-rejected");
        Result r = cli("compress", "--model", model.toString(), "--recipe", "test-zero", "--validation",
                valid.toString(), "--latency-runs", "0", "--quiet", "--budget-overall", "0.5", "--out",
                out.toString());
        assertEquals(CompressCli.GATE_REJECTED, r.code(), r.err());
        assertTrue(r.out().startsWith("REJECTED"), r.out());
        assertTrue(r.out().contains("overall: top-1 accuracy drops"), r.out());
        assertTrue(Files.exists(out.resolve("tiny-test-zero.rejected.onnx")));
        assertFalse(Files.exists(out.resolve("tiny-test-zero.onnx")));
        OnnxModel.read(out.resolve("tiny-test-zero.rejected.onnx")); // still a valid model
        assertTrue(Files.readString(out.resolve("report.md")).contains("REJECTED"));
        assertEquals("", r.err(), "--quiet");
    }

    @Test
    void badInputExitsTwoWithAMessage() throws Exception {
        Path junk = dir.resolve("junk.onnx");
        Files.writeString(junk, "this is not a model");
        Path notDir = dir.resolve("a-file");
        Files.writeString(notDir, "x");
        Path wrongNpz = TestData.writeNpz(dir.resolve("wrong.npz"),
                TensorData.ofFloats("input", new long[] {2, 64}, new float[128]), null, null);
        List<String[]> cases = List.of(
                new String[] {"compress", "--model", junk.toString(), "--recipe", "identity", "--out", "o1"},
                new String[] {"compress", "--model", dir.resolve("missing.onnx").toString(), "--recipe", "identity",
                        "--out", "o2"},
                new String[] {"compress", "--model", model.toString(), "--recipe", "no-such", "--out", "o3"},
                new String[] {"compress", "--model", model.toString(), "--recipe", "identity", "--validation",
                        wrongNpz.toString(), "--out", dir.resolve("o4").toString()},
                new String[] {"compress", "--model", model.toString(), "--recipe", "identity", "--budget-overall",
                        "-1", "--out", "o5"},
                new String[] {"compress", "--model", model.toString(), "--recipe", "identity", "--out",
                        notDir.toString()},
                new String[] {"compress", "--model", model.toString(), "--out", "o6"},
                new String[] {"compress", "--model", model.toString(), "--recipe", "identity", "--threads", "many",
                        "--out", "o7"},
                new String[] {"inspect", "--model", junk.toString()});
        List<String> expectedInMessage = List.of("not an ONNX model", "not found", "unknown recipe 'no-such'",
                "missing array 'x'", "budgets", "not a directory", "--recipe", "many", "not an ONNX model");
        for (int i = 0; i < cases.size(); i++) {
            Result r = cli(cases.get(i));
            assertEquals(CompressCli.BAD_INPUT, r.code(), "case " + i + ": " + r.err());
            assertTrue(r.err().contains(expectedInMessage.get(i)), "case " + i + ": " + r.err());
            assertFalse(r.err().contains("Exception"), "no stack traces for bad input: " + r.err());
        }
    }

    @Test
    void internalErrorsExitOne() {
        Result r = cli("compress", "--model", model.toString(), "--recipe", "test-crash", "--quiet", "--out",
                dir.resolve("out-crash").toString());
        assertEquals(CompressCli.INTERNAL_ERROR, r.code());
        assertTrue(r.err().startsWith("internal error:") && r.err().contains("boom"), r.err());
    }

    @Test
    void inspectPrintsTheModel() {
        Result r = cli("inspect", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("input     x float32[N,64]"), r.out());
        assertTrue(r.out().contains("output    logits float32[N,10]"), r.out());
        assertTrue(r.out().contains("opsets    ai.onnx 17"), r.out());
        assertTrue(r.out().contains("params    2,410 (9,640 bytes)"), r.out());
        assertTrue(r.out().contains("MACs      2,368 per sample"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  Gemm +2\\n.*"), r.out());
        Result withData = cli("inspect", "--model", model.toString(), "--data", valid.toString());
        assertTrue(withData.out().contains("first sample of valid.npz"), withData.out());
    }

    @Test
    void badParameterValuesExitTwoBeforeAnythingIsRead() {
        Path out = dir.resolve("out-bad-param");
        // the model does not even exist: parameters are checked first, and nothing is written
        Result r = cli("compress", "--model", dir.resolve("missing.onnx").toString(), "--recipe", "prune-iterative",
                "--param", "checkFraction=2", "--param", "splitSeed=x", "--out", out.toString());
        assertEquals(CompressCli.BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().startsWith("error: recipe 'prune-iterative': parameter 'checkFraction' must be a number in "
                + "(0, 1), got '2'; parameter 'splitSeed' must be an integer, got 'x'"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void recipesListsTheBaselineAndEveryParameterWithItsType() {
        Result r = cli("recipes");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("identity") && r.out().contains("baseline"), r.out());
        assertTrue(r.out().matches("(?s).*\\n      checkFraction +number +0\\.25 +\\(0, 1\\)\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n      blockSize +integer +32 +32, 64, 128\\n.*"), r.out());
    }

    /** The parameter tables in docs/compression-jobs.md are the output of {@code recipes --markdown}. */
    @Test
    void theDocumentedParameterTablesAreTheGeneratedOnes() throws Exception {
        Path doc = Path.of("../../docs/compression-jobs.md");
        assertTrue(Files.exists(doc), doc.toAbsolutePath().toString());
        String text = Files.readString(doc);
        String begin = "<!-- recipe-parameters:begin (generated by `recipes --markdown`) -->\n";
        String end = "<!-- recipe-parameters:end -->";
        assertTrue(text.contains(begin) && text.contains(end), "markers in " + doc);
        String documented = text.substring(text.indexOf(begin) + begin.length(), text.indexOf(end));
        String generated = CompressCli.markdown(RecipeRegistry.builtIn());
        assertEquals(generated, documented, "regenerate the tables with `recipes --markdown`");
        assertTrue(generated.contains("| `checkFraction` | number | `0.25` | (0, 1) |"), generated);
    }

    @Test
    void noSubcommandPrintsUsage() {
        Result r = cli();
        assertEquals(CompressCli.BAD_INPUT, r.code());
        assertTrue(r.err().contains("compress") && r.err().contains("inspect"), r.err());
    }

    @Test
    void digitsFixtureEndToEnd() throws Exception {
        Path base = io.edgefleet.engine.TestFixtures.digits();
        assumeTrue(Files.exists(base.resolve("digits-mlp.onnx")));
        Path out = dir.resolve("out-digits");
        Result r = cli("compress", "--model", base.resolve("digits-mlp.onnx").toString(), "--recipe", "identity",
                "--calibration", base.resolve("digits-mlp-calibration.npz").toString(), "--validation",
                base.resolve("digits-mlp-validation.npz").toString(), "--latency-runs", "5", "--quiet", "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode json = ReportWriter.mapper().readTree(Files.readString(out.resolve("report.json")));
        assertTrue(json.at("/accuracy/quality/overall/baseAccuracy").asDouble() > 0.9, json.toString());
        assertTrue(json.at("/accuracy/quality/cohorts").size() > 1);
    }
}
