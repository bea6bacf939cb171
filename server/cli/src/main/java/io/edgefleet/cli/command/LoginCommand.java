package io.edgefleet.cli.command;

import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliConfig;
import io.edgefleet.cli.CliException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "login", mixinStandardHelpOptions = true,
        description = "Save the server URL and API token in the config file (mode 0600), after checking them against the server.")
public class LoginCommand extends Base {

    @Option(names = "--token", required = true, paramLabel = "TOKEN",
            description = "The operator API token (the server's edgefleet.api.token or its data-dir/api-token).")
    String token;

    @Option(names = "--no-verify", description = "Save without asking the server whether the token works.")
    boolean noVerify;

    @Override
    public Integer call() {
        if (token.isBlank()) {
            throw CliException.usage("--token is empty");
        }
        String server = CliConfig.resolve(ctx(), root().serverFlag()).server();
        if (!noVerify) {
            new ApiClient(server, token.trim()).get("/api/v1/device-classes");
        }
        Path file = CliConfig.write(ctx(), server, token.trim());
        if (json()) {
            printJson(ApiClient.JSON.createObjectNode().put("server", server).put("config", file.toString())
                    .put("verified", !noVerify));
        } else {
            out().println("logged in to " + server + (noVerify ? " (not verified)" : "") + "; token saved in " + file);
        }
        return 0;
    }
}
