package io.edgefleet.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What a command may touch outside itself: its output streams, the environment, the home directory and the
 * clock. {@link EdgefleetCli#main} builds it from the real process; tests build it with captured streams, a
 * chosen environment and a temporary home, and run commands in-process.
 *
 * @param tty          stderr is a terminal: progress bars are drawn (they are never drawn into a pipe or a file)
 * @param pollInterval how often waiting commands ({@code --wait}, {@code watch}, {@code tail}) ask the server
 */
public record CliContext(PrintWriter out, PrintWriter err, Map<String, String> env, Path home, boolean tty,
                         Duration pollInterval) {

    public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);

    public String env(String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    public void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("INTERRUPTED", "interrupted", ExitCode.SERVER_ERROR);
        }
    }
}
