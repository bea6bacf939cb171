package io.edgefleet.engine.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.eval.Latency;
import io.edgefleet.engine.eval.ModelStats;
import io.edgefleet.engine.eval.Quality;
import io.edgefleet.engine.pipeline.LayerDecision;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

/** Renders a {@link Report} as JSON (sorted keys, "\n" line ends, no clock) and as a Markdown page. */
public final class ReportWriter {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
                    JsonInclude.Include.NON_NULL))
            .build();
    private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private ReportWriter() {
    }

    /** The full report, measurements included. */
    public static String json(Report report) {
        try {
            return WRITER.writeValueAsString(report) + "\n";
        } catch (JsonProcessingException e) {
            throw new EngineException("cannot serialize report", e);
        }
    }

    public static byte[] jsonBytes(Report report) {
        return json(report).getBytes(StandardCharsets.UTF_8);
    }

    /** The deterministic body: the report without its measurements section. */
    public static String deterministicJson(Report report) {
        return json(report.withoutMeasurements());
    }

    /** The object mapper used for reports, e.g. for the server to read a stored report back. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    // ---------------------------------------------------------------- HTML

    private static final List<Extension> MD_EXTENSIONS =
            List.of(TablesExtension.create());
    private static final Parser MD_PARSER =
            Parser.builder().extensions(MD_EXTENSIONS).build();
    /** Raw HTML in the Markdown is escaped, not passed through: model names and notes come from users. */
    private static final HtmlRenderer HTML_RENDERER =
            HtmlRenderer.builder().extensions(MD_EXTENSIONS).escapeHtml(true).build();

    /** The Markdown report as a standalone HTML page (for a browser, from the CLI's output or the server). */
    public static String html(Report r) {
        return htmlPage(markdown(r), r.inputs().model().name() + " — " + r.recipe().name());
    }

    /** Any report Markdown as a standalone HTML page; markup in the text is shown, never interpreted. */
    public static String htmlPage(String markdown, String title) {
        String body = HTML_RENDERER.render(MD_PARSER.parse(markdown));
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title)
                + "</title>\n<style>\nbody{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
                + "line-height:1.45}\ntable{border-collapse:collapse;margin:1rem 0}\nth,td{border:1px solid #ccc;"
                + "padding:.25rem .5rem;text-align:left;font-variant-numeric:tabular-nums}\nth{background:#f4f4f4}\n"
                + "code{background:#f4f4f4;padding:0 .2rem}\n</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    // ---------------------------------------------------------------- Markdown

    public static String markdown(Report r) {
        StringBuilder md = new StringBuilder();
        boolean baseline = "BASELINE".equals(r.recipe().kind());
        md.append("# ").append(r.inputs().model().name()).append(" — recipe `").append(r.recipe().name())
                .append("`\n\n");
        if (r.gate().passed()) {
            md.append("**Gate: PASSED** — ").append(r.gate().summary()).append("\n\n");
        } else {
            md.append("**Gate: REJECTED** — do not deploy this variant.\n\n");
            for (String reason : r.gate().reasons()) {
                md.append("- ").append(reason).append('\n');
            }
            md.append('\n');
        }
        if (baseline) {
            md.append("> This is a baseline report on the unchanged float model, not a compression.\n\n");
        }

        md.append("## Recipe\n\n");
        md.append("- name: `").append(r.recipe().name()).append("` (").append(r.recipe().kind().toLowerCase(Locale.ROOT))
                .append(")\n");
        md.append("- ").append(r.recipe().description()).append('\n');
        md.append("- passes: ").append(r.recipe().passes().isEmpty() ? "none" : String.join(" → ",
                r.recipe().passes())).append('\n');
        if (!r.recipe().parameters().isEmpty()) {
            md.append("- parameters: ");
            boolean first = true;
            for (Map.Entry<String, String> e : r.recipe().parameters().entrySet()) {
                md.append(first ? "" : ", ").append('`').append(e.getKey()).append('=').append(e.getValue())
                        .append('`');
                first = false;
            }
            md.append('\n');
        }
        md.append('\n');

        md.append("## Inputs and output\n\n| | name | sha256 | size |\n|---|---|---|---|\n");
        Report.ModelInfo m = r.inputs().model();
        md.append("| model | ").append(m.name()).append(" (opset ").append(m.opset()).append(") | `").append(m.sha256())
                .append("` | ").append(bytes(m.bytes())).append(" |\n");
        data(md, "calibration", r.inputs().calibration());
        data(md, "validation", r.inputs().validation());
        md.append("| variant | ").append(r.variant().fileName()).append(" | `").append(r.variant().sha256())
                .append("` | ").append(bytes(r.variant().bytes())).append(" |\n\n");

        md.append("## Size and compute\n\n| | base | variant | variant / base |\n|---|---:|---:|---:|\n");
        ModelStats b = r.stats().base();
        ModelStats v = r.stats().variant();
        md.append(row("file size", bytes(b.bytes()), bytes(v.bytes()), ratio(v.bytes(), b.bytes())));
        md.append(row("parameters", count(b.parameters()), count(v.parameters()), ratio(v.parameters(),
                b.parameters())));
        md.append(row("parameter bytes", bytes(b.parameterBytes()), bytes(v.parameterBytes()),
                ratio(v.parameterBytes(), b.parameterBytes())));
        md.append(row("MACs per sample", count(b.macs()), count(v.macs()), ratio(v.macs(), b.macs())));
        md.append("\nMACs count Conv, ConvTranspose, Gemm, MatMul and their integer/quantized forms at batch 1; "
                + "element-wise ops and If/Loop bodies are not counted.\n\n");

        md.append("## Accuracy\n\n");
        Quality q = r.accuracy().quality();
        if (q == null) {
            md.append("Not measured: no validation or calibration data was given.\n\n");
        } else {
            md.append("Evaluated on the ").append(r.accuracy().evaluatedOn()).append(" data, output `")
                    .append(q.outputName()).append("`. ");
            md.append(q.labeled() ? "Accuracy is top-1 against the labels.\n\n"
                    : "No labels: the score is top-1 agreement with the base model (base = 100 %).\n\n");
            md.append("| slice | samples | base % | variant % | drop (points) | top-1 agreement | mean cosine | "
                    + "worst cosine | max abs error | NaN/inf |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            slice(md, q.overall());
            for (Quality.Slice c : q.cohorts()) {
                slice(md, c);
            }
            md.append('\n');
        }

        baselines(md, r);

        md.append("## Gate\n\nBudget: ").append(fmt(r.gate().numbers().getOrDefault("budget.overallPoints", 0.0)))
                .append(" points overall, ").append(fmt(r.gate().numbers().getOrDefault("budget.cohortPoints", 0.0)))
                .append(" points per cohort. ").append(r.gate().summary()).append("\n\n");

        md.append("## Latency (measured, batch 1)\n\n");
        Report.Measurements meas = r.measurements();
        if (meas == null || meas.latency() == null) {
            md.append("Not measured.\n\n");
        } else {
            Latency l = meas.latency();
            md.append("| | p50 ms | p95 ms | mean ms |\n|---|---:|---:|---:|\n");
            md.append("| base | ").append(ms(l.base().p50())).append(" | ").append(ms(l.base().p95())).append(" | ")
                    .append(ms(l.base().mean())).append(" |\n");
            md.append("| variant | ").append(ms(l.variant().p50())).append(" | ").append(ms(l.variant().p95()))
                    .append(" | ").append(ms(l.variant().mean())).append(" |\n\n");
            md.append(l.runs()).append(" interleaved runs per model, ").append(l.threads())
                    .append(" intra-op thread(s). ").append(meas.note()).append("\n\n");
        }

        md.append("## Per-layer decisions\n\n");
        if (r.decisions().isEmpty()) {
            md.append("None recorded.\n\n");
        } else {
            md.append("| pass | node | op | action | reason | metrics |\n|---|---|---|---|---|---|\n");
            for (LayerDecision d : r.decisions()) {
                md.append("| ").append(d.pass()).append(" | ").append(cell(d.node())).append(" | ").append(d.opType())
                        .append(" | ").append(d.action()).append(" | ").append(cell(d.reason())).append(" | ");
                boolean first = true;
                for (Map.Entry<String, Double> e : d.metrics().entrySet()) {
                    md.append(first ? "" : ", ").append(e.getKey()).append('=').append(num(e.getValue()));
                    first = false;
                }
                md.append(" |\n");
            }
            md.append('\n');
        }
        if (!r.notes().isEmpty()) {
            md.append("## Notes\n\n");
            for (String n : r.notes()) {
                md.append("- ").append(n).append('\n');
            }
            md.append('\n');
        }
        md.append("---\nedgefleet engine ").append(r.engineVersion()).append('\n');
        return md.toString();
    }

    /** The variant between the uncompressed model and the aggressive reference, all measured the same way. */
    private static void baselines(StringBuilder md, Report r) {
        md.append("## Baselines\n\n");
        if ("BASELINE".equals(r.recipe().kind())) {
            md.append("This report is itself about the uncompressed model; there is nothing to compare with.\n\n");
            return;
        }
        if (r.baselines().isEmpty()) {
            md.append("None recorded.\n\n");
            return;
        }
        md.append("Same evaluator and validation data as the variant; latency is not measured for baselines.\n\n");
        md.append("| model | what | size | parameters | MACs per sample | MACs / base | overall % | drop (points) "
                + "| worst cohort drop |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        ModelStats base = r.stats().base();
        for (Report.Baseline b : r.baselines()) {
            md.append("| ").append(b.role()).append(" | ").append(cell(b.description())).append(" | ");
            if (b.stats() == null) {
                md.append("— | — | — | — | ");
            } else {
                md.append(bytes(b.stats().bytes())).append(" | ").append(count(b.stats().parameters())).append(" | ")
                        .append(count(b.stats().macs())).append(" | ").append(ratio(b.stats().macs(), base.macs()))
                        .append(" | ");
            }
            scores(md, b.scores());
        }
        Quality q = r.accuracy().quality();
        md.append("| variant | this job's output | ").append(bytes(r.stats().variant().bytes())).append(" | ")
                .append(count(r.stats().variant().parameters())).append(" | ").append(count(r.stats().variant().macs()))
                .append(" | ").append(ratio(r.stats().variant().macs(), base.macs())).append(" | ");
        if (q == null || !"validation".equals(r.accuracy().evaluatedOn())) {
            md.append("— | — | — |\n");
        } else {
            List<Report.Score> vs = new ArrayList<>();
            vs.add(new Report.Score(q.overall().label(), q.overall().samples(), q.overall().variantPercent(),
                    q.overall().dropPoints()));
            for (Quality.Slice c : q.cohorts()) {
                vs.add(new Report.Score(c.label(), c.samples(), c.variantPercent(), c.dropPoints()));
            }
            scores(md, vs);
        }
        md.append('\n');
        for (Report.Baseline b : r.baselines()) {
            if (b.note() != null) {
                md.append("- ").append(b.role()).append(": ").append(b.note()).append('\n');
            }
        }
        md.append('\n');
    }

    private static void scores(StringBuilder md, List<Report.Score> scores) {
        if (scores.isEmpty()) {
            md.append("— | — | — |\n");
            return;
        }
        Report.Score overall = scores.get(0);
        String worst = "—";
        if (scores.size() > 1) {
            double w = Double.NEGATIVE_INFINITY;
            for (Report.Score s : scores.subList(1, scores.size())) {
                w = Math.max(w, s.dropPoints());
            }
            worst = fmt(w);
        }
        md.append(fmt(overall.percent())).append(" | ").append(fmt(overall.dropPoints())).append(" | ").append(worst)
                .append(" |\n");
    }

    private static void data(StringBuilder md, String role, Report.DataInfo d) {
        if (d == null) {
            md.append("| ").append(role).append(" | — | — | — |\n");
            return;
        }
        md.append("| ").append(role).append(" | ").append(d.source()).append(" | `").append(d.sha256()).append("` | ")
                .append(d.samples()).append(" samples").append(d.labels() ? ", labels" : "")
                .append(d.cohorts() ? ", cohorts" : "").append(" |\n");
    }

    private static void slice(StringBuilder md, Quality.Slice s) {
        md.append("| ").append(s.label()).append(" | ").append(s.samples()).append(" | ").append(fmt(s.basePercent()))
                .append(" | ").append(fmt(s.variantPercent())).append(" | ").append(fmt(s.dropPoints())).append(" | ")
                .append(fmt(100 * s.top1Agreement())).append(" % | ").append(num(s.meanCosine())).append(" | ")
                .append(num(s.worstCosine())).append(" | ").append(num(s.maxAbsError())).append(" | ")
                .append(s.nonFinite()).append(" |\n");
    }

    private static String row(String what, String base, String variant, String ratio) {
        return "| " + what + " | " + base + " | " + variant + " | " + ratio + " |\n";
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }

    static String fmt(double d) {
        return String.format(Locale.ROOT, "%.2f", d);
    }

    static String ms(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    static String num(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return Double.toString(d);
        }
        return String.format(Locale.ROOT, "%.6g", d);
    }

    static String ratio(long variant, long base) {
        return base == 0 ? "—" : String.format(Locale.ROOT, "%.3f", (double) variant / base);
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static String bytes(long n) {
        if (n < 10_000) {
            return n + " B";
        }
        if (n < 10_000_000) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024.0));
    }
}
