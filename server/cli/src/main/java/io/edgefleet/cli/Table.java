package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A plain-text table for humans: a header in capitals, columns padded to their widest cell, {@code -} for a
 * missing value. Scripts use {@code --json} instead, so the layout may change; the JSON does not.
 */
public final class Table {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private record Column(String header, Function<JsonNode, String> cell) {
    }

    private final List<Column> columns = new ArrayList<>();

    public Table col(String header, Function<JsonNode, String> cell) {
        columns.add(new Column(header, cell));
        return this;
    }

    /** A column showing the text at a JSON pointer such as {@code /slo/p95LatencyMs}. */
    public Table col(String header, String pointer) {
        return col(header, n -> text(n.at(pointer)));
    }

    /** Widths fixed by {@link #printHeaderAndRows} for the rows streamed after it. */
    private int[] streamWidths;

    /**
     * For a stream ({@code tail}): prints the header and the first rows, and fixes the column widths (at least
     * 10) so the rows printed later by {@link #printRows} line up with them.
     */
    public void printHeaderAndRows(PrintWriter out, List<JsonNode> rows) {
        streamWidths = new int[columns.size()];
        for (int c = 0; c < columns.size(); c++) {
            streamWidths[c] = Math.max(10, columns.get(c).header().length());
        }
        List<String[]> cells = cells(rows, streamWidths);
        String[] head = columns.stream().map(Column::header).toArray(String[]::new);
        out.println(line(head, streamWidths));
        cells.forEach(l -> out.println(line(l, streamWidths)));
        out.flush();
    }

    public void printRows(PrintWriter out, List<JsonNode> rows) {
        int[] width = streamWidths != null ? streamWidths : new int[columns.size()];
        cells(rows, width.clone()).forEach(l -> out.println(line(l, width)));
        out.flush();
    }

    private List<String[]> cells(List<JsonNode> rows, int[] width) {
        List<String[]> cells = new ArrayList<>();
        for (JsonNode row : rows) {
            String[] line = new String[columns.size()];
            for (int c = 0; c < columns.size(); c++) {
                String v = columns.get(c).cell().apply(row);
                line[c] = v == null || v.isEmpty() ? "-" : v.replaceAll("\\s+", " ");
                width[c] = Math.max(width[c], line[c].length());
            }
            cells.add(line);
        }
        return cells;
    }

    public void print(PrintWriter out, List<JsonNode> rows) {
        List<String[]> cells = new ArrayList<>();
        int[] width = new int[columns.size()];
        String[] head = new String[columns.size()];
        for (int c = 0; c < columns.size(); c++) {
            head[c] = columns.get(c).header();
            width[c] = head[c].length();
        }
        cells.addAll(cells(rows, width));
        out.println(line(head, width));
        for (String[] line : cells) {
            out.println(line(line, width));
        }
        out.flush();
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                sb.append("  ");
            }
            sb.append(cells[c]);
            if (c < cells.length - 1) {
                sb.append(" ".repeat(Math.max(0, width[c] - cells[c].length())));
            }
        }
        return sb.toString();
    }

    /** Key/value lines for one object: {@code key: value}, keys padded. */
    public static void printFields(PrintWriter out, List<String[]> fields) {
        int w = 0;
        for (String[] f : fields) {
            w = Math.max(w, f[0].length());
        }
        for (String[] f : fields) {
            out.println(f[0] + ":" + " ".repeat(w - f[0].length() + 1) + (f[1] == null || f[1].isEmpty() ? "-" : f[1]));
        }
        out.flush();
    }

    public static String text(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return "";
        }
        if (n.isArray()) {
            List<String> parts = new ArrayList<>();
            n.forEach(e -> parts.add(text(e)));
            return String.join(",", parts);
        }
        if (n.isFloatingPointNumber()) {
            return number(n.asDouble());
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }

    /** Up to three decimals, no trailing zeros. */
    public static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        String s = String.format(java.util.Locale.ROOT, "%.3f", v);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /** Epoch milliseconds as UTC {@code yyyy-MM-dd HH:mm:ss}. */
    public static String time(JsonNode epochMillis) {
        if (epochMillis == null || !epochMillis.isNumber()) {
            return "";
        }
        return TIME.format(Instant.ofEpochMilli(epochMillis.asLong()));
    }

    /** 1536 -> "1.5 KiB". */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        do {
            v /= 1024;
            u++;
        } while (v >= 1024 && u < units.length - 1);
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A model reference object {@code {model, version}} as {@code model:version}. */
    public static String ref(JsonNode r) {
        if (r == null || r.isNull() || r.isMissingNode()) {
            return "";
        }
        return r.path("model").asText() + ":" + r.path("version").asText();
    }
}
