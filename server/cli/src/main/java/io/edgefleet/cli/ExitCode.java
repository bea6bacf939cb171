package io.edgefleet.cli;

/**
 * The CLI's documented exit codes (docs/cli.md), one per kind of outcome so scripts can branch on them.
 * HTTP answers map by status, except that an {@code UNKNOWN_*} error code (a reference to something that does
 * not exist, which the server answers with 400) is "not found" too.
 */
public final class ExitCode {
    private ExitCode() {
    }

    public static final int OK = 0;
    /** The server failed (5xx), or a job/plan/rollout ended FAILED or CANCELLED. */
    public static final int SERVER_ERROR = 1;
    /** Bad command line or bad input (a 400, a missing local file). */
    public static final int USAGE = 2;
    public static final int NOT_FOUND = 3;
    /** No token, or the server refused it (401/403). */
    public static final int AUTH = 4;
    /** 409, or an outcome that refused the change: a compression the gate rejected, a rollout that did not complete. */
    public static final int CONFLICT = 5;
    /** No answer: connection refused, DNS, timeout. */
    public static final int UNREACHABLE = 6;

    /** The exit code for an HTTP error answer. */
    public static int forHttp(int status, String errorCode) {
        if (status == 404 || (errorCode != null && errorCode.startsWith("UNKNOWN_"))) {
            return NOT_FOUND;
        }
        if (status == 401 || status == 403) {
            return AUTH;
        }
        if (status == 409) {
            return CONFLICT;
        }
        if (status >= 500) {
            return SERVER_ERROR;
        }
        if (status >= 400) {
            return USAGE;
        }
        return SERVER_ERROR; // a redirect or an unexpected status: the server did not do what was asked
    }
}
