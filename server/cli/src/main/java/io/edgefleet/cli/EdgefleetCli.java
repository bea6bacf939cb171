package io.edgefleet.cli;

import io.edgefleet.cli.command.AlertsCommand;
import io.edgefleet.cli.command.ClassesCommand;
import io.edgefleet.cli.command.CompressCommand;
import io.edgefleet.cli.command.DatasetsCommand;
import io.edgefleet.cli.command.DevicesCommand;
import io.edgefleet.cli.command.LoginCommand;
import io.edgefleet.cli.command.LoopsCommand;
import io.edgefleet.cli.command.ModelsCommand;
import io.edgefleet.cli.command.PlanCommand;
import io.edgefleet.cli.command.RolloutsCommand;
import io.edgefleet.cli.command.TelemetryCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code edgefleet}: the operators' fleet CLI over the REST API. docs/cli.md lists every command and exit code. */
@Command(name = "edgefleet", mixinStandardHelpOptions = true, versionProvider = EdgefleetCli.Version.class,
        description = "Operate an edgefleet server: device classes, devices, models, datasets, compression, plans, "
                + "rollouts, alerts, closed loops, benchmarks, capture and telemetry.",
        subcommands = {LoginCommand.class, ClassesCommand.class, DevicesCommand.class, ModelsCommand.class,
                DatasetsCommand.class, CompressCommand.class, PlanCommand.class, RolloutsCommand.class,
                AlertsCommand.class, LoopsCommand.class, TelemetryCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:ok",
                "1:server error (5xx), or a job/plan/rollout ended FAILED or CANCELLED",
                "2:usage error or bad input (400)",
                "3:not found (404, or an UNKNOWN_* error code)",
                "4:authentication (no token, 401/403)",
                "5:conflict (409), compression rejected by the gate, plan without a choice, rollout not COMPLETED",
                "6:server unreachable"})
public class EdgefleetCli implements Runnable {
    private final CliContext ctx;

    @Option(names = "--server", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "Server base URL (default: $EDGEFLEET_SERVER, then the config file, then " + CliConfig.DEFAULT_SERVER + ").")
    String server;

    @Option(names = "--json", scope = ScopeType.INHERIT,
            description = "Print the server's JSON instead of tables (for scripts).")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public EdgefleetCli(CliContext ctx) {
        this.ctx = ctx;
    }

    public CliContext ctx() {
        return ctx;
    }

    public String serverFlag() {
        return server;
    }

    public boolean json() {
        return json;
    }

    /** The API client for the resolved server and token. */
    public ApiClient api() {
        CliConfig.Resolved r = CliConfig.resolve(ctx, server);
        return new ApiClient(r.server(), r.token());
    }

    @Override
    public void run() {
        spec.commandLine().usage(ctx.out());
    }

    /** A command line wired to {@code ctx}: its streams, and failures mapped to the documented exit codes. */
    public static CommandLine commandLine(CliContext ctx) {
        CommandLine cl = new CommandLine(new EdgefleetCli(ctx));
        cl.setOut(ctx.out());
        cl.setErr(ctx.err());
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            if (ex instanceof CliException ce) {
                ctx.err().println(ce.render());
                ctx.err().flush();
                return ce.exitCode();
            }
            ctx.err().println("error: INTERNAL: " + ex);
            ctx.err().flush();
            return ExitCode.SERVER_ERROR;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            ctx.err().println("error: USAGE: " + ex.getMessage());
            ctx.err().println("(see '" + c.getCommandSpec().qualifiedName() + " --help')");
            ctx.err().flush();
            return ExitCode.USAGE;
        });
        return cl;
    }

    /** Runs one command line in {@code ctx} and answers its exit code (tests call this in-process). */
    public static int execute(CliContext ctx, String... args) {
        int code = commandLine(ctx).execute(args);
        ctx.out().flush();
        ctx.err().flush();
        return code;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        CliContext ctx = new CliContext(out, err, System.getenv(), Path.of(System.getProperty("user.home")),
                System.console() != null, CliContext.DEFAULT_POLL);
        System.exit(execute(ctx, args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = EdgefleetCli.class.getPackage().getImplementationVersion();
            return new String[] {"edgefleet CLI " + (v == null ? "(development build)" : v)};
        }
    }
}
