package io.edgefleet.engine;

/**
 * Progress of a long-running engine task: a fraction in [0, 1] and a short message. The server's async job maps it to
 * its status endpoint, the CLI to stderr. Implementations must be cheap; they are called from the working thread.
 */
@FunctionalInterface
public interface Progress {
    Progress NONE = (fraction, message) -> { };

    void report(double fraction, String message);

    /** A view that maps this task's [0, 1] onto [from, to] of the parent, so steps compose. */
    default Progress slice(double from, double to) {
        Progress parent = this;
        return (fraction, message) -> {
            double f = Math.max(0, Math.min(1, fraction));
            parent.report(from + (to - from) * f, message);
        };
    }
}
