package io.edgefleet.cli;

/** A failure the CLI reports as {@code error: CODE: message} on stderr and exits with {@link #exitCode()}. */
public class CliException extends RuntimeException {
    private final String code;
    private final int exitCode;

    public CliException(String code, String message, int exitCode) {
        super(message);
        this.code = code;
        this.exitCode = exitCode;
    }

    public String code() {
        return code;
    }

    public int exitCode() {
        return exitCode;
    }

    public static CliException usage(String message) {
        return new CliException("BAD_INPUT", message, ExitCode.USAGE);
    }

    /** How the CLI prints it. */
    public String render() {
        return "error: " + code + ": " + getMessage();
    }
}
