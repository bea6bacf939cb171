package io.edgefleet.engine.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.LayerDecision;
import io.edgefleet.engine.pipeline.ParamSpec;
import io.edgefleet.engine.pipeline.ParamSpec.Bounds;
import io.edgefleet.engine.pipeline.Pass;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {

    /** A pass that records decisions (in a fixed order) and leaves the numerics alone. */
    static Recipe annotating() {
        Pass p = new Pass() {
            @Override
            public String name() {
                return "annotate";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext ctx) {
                for (var n : model.edit().nodes()) {
                    ctx.decide(n.getName(), n.getOpType(), "kept-float", "sensitivity probe",
                            Map.of("sensitivity", 0.5, "order", 1.0));
                }
                return model;
            }
        };
        return Recipe.compression("annotate", "test recipe | with a pipe", false, List.of(ParamSpec.integer("b", "2", Bounds.ANY),
                ParamSpec.integer("a", "1", Bounds.ANY)), p);
    }

    static JobResult run(OnnxModel m, Recipe r, Dataset calib, Dataset valid) {
        return CompressionJob.builder(m, r).calibration(calib).validation(valid)
                .evaluation(Evaluator.Options.defaults().withLatencyRuns(1, 5)).build().run();
    }

    @Test
    void sameInputsGiveTheSameBytesExceptMeasurements() {
        OnnxModel m = SampleModels.cnn(3);
        Dataset calib = Dataset.of(Map.of("x", io.edgefleet.engine.onnx.TensorData.ofFloats("x",
                new long[] {8, 1, 8, 8}, io.edgefleet.engine.onnx.OnnxBuilder.randomUniform(1, 512, 0, 1))),
                null, null);
        Dataset valid = Dataset.of(Map.of("x", io.edgefleet.engine.onnx.TensorData.ofFloats("x",
                new long[] {12, 1, 8, 8}, io.edgefleet.engine.onnx.OnnxBuilder.randomUniform(2, 768, 0, 1))),
                new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}, TestData.cohorts(12, 2));
        Report a = run(m, annotating(), calib, valid).report();
        Report b = run(OnnxModel.read(m.toBytes()), annotating(), calib, valid).report();
        assertEquals(ReportWriter.deterministicJson(a), ReportWriter.deterministicJson(b));
        assertFalse(ReportWriter.deterministicJson(a).contains("measurements"));
        assertTrue(ReportWriter.json(a).contains("\"measurements\""));
        // A different dataset changes the body (hashes at least).
        Dataset other = valid.head(11);
        assertNotEquals(ReportWriter.deterministicJson(a),
                ReportWriter.deterministicJson(run(m, annotating(), calib, other).report()));
    }

    @Test
    void jsonHasSortedKeysAndTheFieldsTheServerReads() throws Exception {
        OnnxModel m = SampleModels.mlp(1);
        Report r = run(m, annotating(), null, TestData.labelledMlp(m, 30, 1, 1)).report();
        String json = ReportWriter.json(r);
        assertFalse(json.contains("\r"));
        JsonNode root = ReportWriter.mapper().readTree(json);
        List<String> keys = new ArrayList<>();
        Iterator<String> it = root.fieldNames();
        it.forEachRemaining(keys::add);
        assertEquals(keys.stream().sorted().toList(), keys);
        assertEquals(List.of("accuracy", "baselines", "decisions", "engineVersion", "gate", "inputs", "measurements", "notes",
                "recipe", "stats", "variant"), keys);
        assertEquals(m.sha256(), root.at("/inputs/model/sha256").asText());
        assertEquals(r.variant().sha256(), root.at("/variant/sha256").asText());
        assertTrue(root.at("/gate/passed").asBoolean());
        assertEquals(29.0 / 30, root.at("/accuracy/quality/overall/baseAccuracy").asDouble(), 1e-12);
        assertEquals("a", root.at("/recipe/parameters").fieldNames().next());
        assertEquals(m.edit().nodeCount(), root.at("/decisions").size());
        assertEquals(0.5, root.at("/decisions/0/metrics/sensitivity").asDouble());
        assertTrue(root.at("/measurements/latency/base/p50").asDouble() > 0);
        assertTrue(root.at("/calibration").isMissingNode(), "absent inputs are omitted, not null");
        // Round trip through the mapper keeps the records intact.
        Report back = ReportWriter.mapper().readValue(json, Report.class);
        assertEquals(r.withoutMeasurements().decisions(), back.withoutMeasurements().decisions());
        assertEquals(r.gate(), back.gate());
    }

    @Test
    void markdownShowsVerdictNumbersAndDecisions() {
        OnnxModel m = SampleModels.mlp(1);
        Report r = run(m, annotating(), null, TestData.labelledMlp(m, 30, 1, 1)).report();
        String md = ReportWriter.markdown(r);
        assertTrue(md.startsWith("# mlp — recipe `annotate`"), md);
        assertTrue(md.contains("**Gate: PASSED**"));
        assertTrue(md.contains("| overall | 30 | 96.67 | 96.67 | 0.00 |"), md);
        assertTrue(md.contains("| cohort 2 | 10 |"), md);
        assertTrue(md.contains("| annotate | fc1 | Gemm | kept-float | sensitivity probe | order=1.00000, "
                + "sensitivity=0.500000 |"), md);
        assertTrue(md.contains("`" + m.sha256() + "`"));
        assertTrue(md.contains("test recipe | with a pipe"));
        assertTrue(md.contains("MACs per sample | 2,368 | 2,368 | 1.000"), md);
        assertTrue(md.contains("`a=1`, `b=2`"));
        assertFalse(md.contains("baseline report"));
    }

    @Test
    void htmlPageRendersTheTablesAndShowsMarkupInsteadOfRunningIt() {
        OnnxModel m = SampleModels.mlp(1);
        Report r = run(m, annotating(), null, TestData.labelledMlp(m, 30, 1, 1)).report();
        String html = ReportWriter.html(r);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertTrue(html.contains("<title>mlp — annotate</title>"), html);
        assertTrue(html.contains("<table>") && html.contains("<td>overall</td>"), html);
        assertTrue(html.contains("<strong>Gate: PASSED</strong>"), html);
        assertEquals(html, ReportWriter.html(r), "same report, same bytes");
        // names and notes come from users: a script in them is text on the page
        String page = ReportWriter.htmlPage("# <script>alert(1)</script>\n\n| a |\n|---|\n| <img src=x onerror=y> |\n",
                "<b>t</b>");
        assertFalse(page.contains("<script>") || page.contains("<img"), page);
        assertTrue(page.contains("&lt;script&gt;") && page.contains("<title>&lt;b&gt;t&lt;/b&gt;</title>"), page);
    }

    @Test
    void markdownMarksRejectionsAndBaselines() {
        OnnxModel m = SampleModels.mlp(1);
        Report rejected = CompressionJob.builder(m, RecipeRegistry.identity()).measureLatency(false).build().run()
                .report();
        String md = ReportWriter.markdown(rejected);
        assertTrue(md.contains("**Gate: REJECTED** — do not deploy this variant."), md);
        assertTrue(md.contains("could not be measured"));
        assertTrue(md.contains("not a compression"));
        assertTrue(md.contains("Latency (measured, batch 1)\n\nNot measured."));
        assertTrue(md.contains("Not measured: no validation or calibration data was given."));
    }

    @Test
    void decisionsAreValueObjects() {
        LayerDecision d = new LayerDecision("p", "n", "Conv", "int8", null, null);
        assertEquals("", d.reason());
        assertTrue(d.metrics().isEmpty());
    }
}
