package io.edgefleet.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place ({@code \r}) on stderr. Drawn only when stderr is a terminal, so
 * a script's captured output never holds bar fragments; redraws at most when the shown percentage changes.
 */
public final class Progress {
    static final int WIDTH = 30;

    private final PrintWriter err;
    private final boolean enabled;
    private final String label;
    private int lastPermille = -1;
    private boolean drawn;

    public Progress(CliContext ctx, String label) {
        this.err = ctx.err();
        this.enabled = ctx.tty();
        this.label = label;
    }

    /** Bytes sent out of total. */
    public synchronized void bytes(long done, long total) {
        double f = total <= 0 ? 1 : (double) done / total;
        draw(f, Table.bytes(done) + " / " + Table.bytes(total));
    }

    /** A fraction in [0, 1] with a status word, e.g. a job's RUNNING. */
    public synchronized void fraction(double f, String status) {
        draw(f, status);
    }

    private void draw(double fraction, String detail) {
        if (!enabled) {
            return;
        }
        double f = Math.max(0, Math.min(1, fraction));
        int permille = (int) Math.floor(f * 1000);
        if (permille == lastPermille && drawn) {
            return;
        }
        lastPermille = permille;
        err.print("\r" + render(label, permille / 1000.0, detail));
        err.flush();
        drawn = true;
    }

    /** Ends the bar's line so later output starts on a fresh one. */
    public synchronized void done() {
        if (drawn) {
            err.println();
            err.flush();
            drawn = false;
        }
    }

    static String render(String label, double fraction, String detail) {
        int full = (int) Math.floor(fraction * WIDTH);
        String bar = "#".repeat(full) + "-".repeat(WIDTH - full);
        return String.format(Locale.ROOT, "%s [%s] %5.1f%% %s", label, bar, fraction * 100, detail == null ? "" : detail);
    }
}
