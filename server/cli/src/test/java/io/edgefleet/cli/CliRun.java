package io.edgefleet.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Runs the CLI in-process with captured output, a chosen environment and home directory. */
final class CliRun {
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    final Map<String, String> env = new HashMap<>();
    final Path home;
    boolean tty;

    CliRun(Path home) {
        this.home = home;
    }

    CliRun env(String k, String v) {
        env.put(k, v);
        return this;
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext ctx = new CliContext(new PrintWriter(out, true), new PrintWriter(err, true), Map.copyOf(env), home, tty,
                Duration.ofMillis(5));
        int code = EdgefleetCli.execute(ctx, args);
        return new Result(code, out.toString(), err.toString());
    }
}
