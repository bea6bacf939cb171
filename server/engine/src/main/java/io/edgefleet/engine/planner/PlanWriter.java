package io.edgefleet.engine.planner;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.planner.Plan.CandidateResult;
import io.edgefleet.engine.planner.Plan.SloCheck;
import io.edgefleet.engine.report.ReportWriter;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * A plan as JSON (sorted keys, nulls left out, like the compression report) and as a standalone HTML page with a
 * Pareto plot drawn as inline SVG on the server: no script, nothing fetched.
 */
public final class PlanWriter {
    private PlanWriter() {
    }

    public static String json(Plan plan) {
        try {
            return ReportWriter.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(plan) + "\n";
        } catch (JsonProcessingException e) {
            throw new EngineException("cannot write the plan as JSON: " + e.getMessage(), e);
        }
    }

    public static String html(Plan plan) {
        StringBuilder h = new StringBuilder();
        String title = "Plan: " + plan.model().name() + " for class " + plan.deviceClass();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").append(esc(title))
                .append("</title>\n<style>\nbody{font-family:system-ui,sans-serif;max-width:75rem;margin:2rem auto;"
                        + "padding:0 1rem;color:#222}table{border-collapse:collapse;font-size:.85rem}"
                        + "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
                        + ".met{color:#176117}.missed{color:#a11}.unknown{color:#a60}.chosen{background:#e8f6e8}"
                        + "code{font-size:.85rem}\n</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        h.append("<p><b>").append(plan.choice() == null ? "No choice" : "Choice: <code>" + esc(plan.choice())
                + "</code>").append("</b> — ").append(esc(plan.reason())).append("</p>\n");
        h.append("<p>Search: ").append(esc(plan.stoppedBecause())).append(String.format(Locale.ROOT,
                " (%.1f s). Pick rule: ", plan.seconds())).append(esc(plan.pickRule())).append(".</p>\n");
        h.append("<ul>\n<li>Latency: ").append(esc(plan.sources().latency())).append("</li>\n<li>Energy: ")
                .append(esc(plan.sources().energy())).append("</li>\n<li>Memory: ").append(esc(plan.sources().memory()))
                .append("</li>\n<li>Accuracy: ").append(esc(plan.sources().accuracy())).append("</li>\n</ul>\n");
        h.append("<h2>Pareto plot</h2>\n").append(svg(plan)).append('\n');
        if (!plan.closest().isEmpty()) {
            h.append("<h2>Closest candidates</h2>\n<ul>\n");
            for (Plan.Closest c : plan.closest()) {
                h.append("<li><code>").append(esc(c.id())).append("</code>: ")
                        .append(esc(String.join("; ", c.misses()))).append("</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("<h2>Candidates</h2>\n<table>\n<tr><th>#</th><th>candidate</th><th>accuracy %</th><th>drop</th>"
                + "<th>bytes</th><th>device p95 ms</th><th>energy mJ</th><th>memory bytes</th><th>frontier</th>"
                + "<th>SLOs</th></tr>\n");
        for (CandidateResult c : plan.candidates()) {
            h.append("<tr").append(c.id().equals(plan.choice()) ? " class=\"chosen\"" : "").append("><td>")
                    .append(c.index() + 1).append("</td><td><code>").append(esc(c.id())).append("</code></td>");
            if (c.status() == Plan.Status.FAILED) {
                h.append("<td colspan=\"8\" class=\"missed\">failed: ").append(esc(c.error())).append("</td></tr>\n");
                continue;
            }
            h.append("<td>").append(fmt(c.accuracyPercent())).append("</td><td>").append(fmt(c.dropPoints()))
                    .append("</td><td>").append(c.bytes()).append("</td><td>").append(fmt(c.deviceP95Ms()))
                    .append("</td><td>").append(fmt(c.energyMj())).append("</td><td>").append(c.peakMemoryBytes())
                    .append("</td><td>").append(c.onFrontier() ? "yes" : "").append("</td><td>");
            for (SloCheck s : c.slos()) {
                String cls = s.verdict().name().toLowerCase(Locale.ROOT);
                h.append("<span class=\"").append(cls).append("\">").append(esc(s.slo())).append(' ')
                        .append(s.verdict() == Plan.Verdict.MET ? "✓" : s.verdict() == Plan.Verdict.MISSED ? "✗" : "?")
                        .append(" (").append(fmt(s.value())).append(" / ").append(fmt(s.limit())).append(")</span><br>");
            }
            h.append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (!plan.skipped().isEmpty()) {
            h.append("<h2>Not tried</h2>\n<ul>\n");
            plan.skipped().forEach(s -> h.append("<li>").append(esc(s)).append("</li>\n"));
            h.append("</ul>\n");
        }
        if (!plan.baselines().isEmpty()) {
            h.append("<h2>Baselines</h2>\n<ul>\n");
            for (Plan.Baseline b : plan.baselines()) {
                h.append("<li><b>").append(esc(b.role())).append("</b>: ").append(esc(b.description()))
                        .append(b.bytes() == null ? "" : ", " + b.bytes() + " bytes")
                        .append(b.accuracyPercent() == null ? "" : ", accuracy " + fmt(b.accuracyPercent()) + " %")
                        .append("</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /**
     * Accuracy (up) against device p95 latency (or artifact bytes when latency is unknown); circle area grows with
     * bytes, the frontier is joined by a line, the choice is filled green, candidates missing an SLO are hollow.
     */
    static String svg(Plan plan) {
        List<CandidateResult> pts = plan.candidates().stream().filter(c -> c.status() == Plan.Status.EVALUATED)
                .toList();
        int w = 640;
        int hgt = 360;
        int left = 70;
        int right = 20;
        int top = 20;
        int bottom = 50;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(hgt)
                .append("\" viewBox=\"0 0 ").append(w).append(' ').append(hgt).append("\" role=\"img\" aria-label=\"")
                .append("Pareto plot of accuracy against latency\">\n");
        if (pts.isEmpty()) {
            s.append("<text x=\"20\" y=\"40\">no evaluated candidate</text>\n</svg>");
            return s.toString();
        }
        boolean latency = pts.stream().allMatch(c -> c.deviceP95Ms() != null);
        ToDoubleFunction<CandidateResult> xf = latency ? CandidateResult::deviceP95Ms : c -> c.bytes();
        String xLabel = latency ? "device p95 latency (ms, estimated)" : "artifact bytes";
        double xMin = pts.stream().mapToDouble(xf).min().orElse(0);
        double xMax = pts.stream().mapToDouble(xf).max().orElse(1);
        double yMin = pts.stream().mapToDouble(CandidateResult::accuracyPercent).min().orElse(0);
        double yMax = pts.stream().mapToDouble(CandidateResult::accuracyPercent).max().orElse(100);
        if (latency) {
            // show the SLO line when it is near the points; a loose SLO far to the right would squash them
            double lim = plan.candidates().get(0).slos().stream().filter(c -> c.slo().equals("p95LatencyMs"))
                    .mapToDouble(SloCheck::limit).findFirst().orElse(xMax);
            if (lim <= 2 * xMax) {
                xMax = Math.max(xMax, lim);
            }
        }
        double xPad = Math.max((xMax - xMin) * 0.08, Math.abs(xMax) * 0.05 + 1e-9);
        double yPad = Math.max((yMax - yMin) * 0.1, 0.5);
        double x0 = Math.max(0, xMin - xPad);
        double x1 = xMax + xPad;
        double y0 = yMin - yPad;
        double y1 = Math.min(100.5, yMax + yPad);
        double pw = w - left - right;
        double ph = hgt - top - bottom;
        java.util.function.DoubleUnaryOperator sx = v -> left + (v - x0) / (x1 - x0) * pw;
        java.util.function.DoubleUnaryOperator sy = v -> top + (1 - (v - y0) / (y1 - y0)) * ph;
        s.append("<rect x=\"").append(left).append("\" y=\"").append(top).append("\" width=\"").append(f(pw))
                .append("\" height=\"").append(f(ph)).append("\" fill=\"#fafafa\" stroke=\"#999\"/>\n");
        for (int i = 0; i <= 4; i++) {
            double xv = x0 + (x1 - x0) * i / 4;
            double yv = y0 + (y1 - y0) * i / 4;
            s.append("<text x=\"").append(f(sx.applyAsDouble(xv))).append("\" y=\"").append(hgt - bottom + 16)
                    .append("\" font-size=\"11\" text-anchor=\"middle\">").append(fmt(xv)).append("</text>\n");
            s.append("<text x=\"").append(left - 6).append("\" y=\"").append(f(sy.applyAsDouble(yv) + 4))
                    .append("\" font-size=\"11\" text-anchor=\"end\">").append(fmt(yv)).append("</text>\n");
        }
        s.append("<text x=\"").append(f(left + pw / 2)).append("\" y=\"").append(hgt - 10)
                .append("\" font-size=\"12\" text-anchor=\"middle\">").append(esc(xLabel)).append("</text>\n");
        s.append("<text x=\"16\" y=\"").append(f(top + ph / 2)).append("\" font-size=\"12\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 16 ").append(f(top + ph / 2)).append(")\">accuracy (%)</text>\n");
        if (latency) {
            double lim = plan.candidates().get(0).slos().stream().filter(c -> c.slo().equals("p95LatencyMs"))
                    .mapToDouble(SloCheck::limit).findFirst().orElse(Double.NaN);
            if (!Double.isNaN(lim) && lim <= x1) {
                double lx = sx.applyAsDouble(lim);
                s.append("<line x1=\"").append(f(lx)).append("\" y1=\"").append(top).append("\" x2=\"").append(f(lx))
                        .append("\" y2=\"").append(f(top + ph)).append("\" stroke=\"#a11\" stroke-dasharray=\"4 3\"/>"
                                + "\n<text x=\"").append(f(lx + 3)).append("\" y=\"").append(top + 12)
                        .append("\" font-size=\"10\" fill=\"#a11\">p95 SLO</text>\n");
            }
        }
        List<CandidateResult> front = pts.stream().filter(CandidateResult::onFrontier)
                .sorted(java.util.Comparator.comparingDouble(xf)).toList();
        if (front.size() > 1) {
            s.append("<polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"1.5\" points=\"");
            for (CandidateResult c : front) {
                s.append(f(sx.applyAsDouble(xf.applyAsDouble(c)))).append(',')
                        .append(f(sy.applyAsDouble(c.accuracyPercent()))).append(' ');
            }
            s.append("\"/>\n");
        }
        long maxBytes = pts.stream().mapToLong(CandidateResult::bytes).max().orElse(1);
        for (CandidateResult c : pts) {
            double r = 4 + 8 * Math.sqrt((double) c.bytes() / maxBytes);
            boolean chosen = c.id().equals(plan.choice());
            String fill = chosen ? "#2a2" : c.meetsAll() ? "#6af" : "none";
            String stroke = c.onFrontier() ? "#36c" : "#888";
            s.append("<circle cx=\"").append(f(sx.applyAsDouble(xf.applyAsDouble(c)))).append("\" cy=\"")
                    .append(f(sy.applyAsDouble(c.accuracyPercent()))).append("\" r=\"").append(f(r))
                    .append("\" fill=\"").append(fill).append("\" fill-opacity=\"0.7\" stroke=\"").append(stroke)
                    .append("\" stroke-width=\"1.5\"><title>").append(esc(c.id())).append(": ")
                    .append(fmt(c.accuracyPercent())).append(" %, ").append(c.bytes()).append(" bytes")
                    .append(c.deviceP95Ms() == null ? "" : ", p95 " + fmt(c.deviceP95Ms()) + " ms")
                    .append(c.meetsAll() ? ", meets every SLO" : ", misses an SLO").append("</title></circle>\n");
            s.append("<text x=\"").append(f(sx.applyAsDouble(xf.applyAsDouble(c)) + r + 2)).append("\" y=\"")
                    .append(f(sy.applyAsDouble(c.accuracyPercent()) + 3)).append("\" font-size=\"9\" fill=\"#444\">")
                    .append(c.index() + 1).append("</text>\n");
        }
        s.append("</svg>");
        return s.toString();
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String fmt(Double v) {
        if (v == null) {
            return "—";
        }
        double a = Math.abs(v);
        return a != 0 && (a < 0.01 || a >= 1e6) ? String.format(Locale.ROOT, "%.3g", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
