package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.Progress;
import io.edgefleet.cli.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "models", mixinStandardHelpOptions = true, description = "The model registry.",
        subcommands = {ModelsCommand.ListCmd.class, ModelsCommand.Versions.class, ModelsCommand.Upload.class})
public class ModelsCommand {
    static final String PATH = "/api/v1/models";

    static String shortSha(JsonNode n) {
        String s = n == null ? "" : n.asText("");
        return s.length() > 12 ? s.substring(0, 12) : s;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List models with their latest version.")
    static class ListCmd extends Base {
        @Override
        public Integer call() {
            List<JsonNode> items = api().list(PATH);
            if (json()) {
                printJson(items);
            } else {
                new Table().col("NAME", "/name").col("VERSIONS", "/versions").col("LATEST", "/latestVersion")
                        .col("SHA256", n -> shortSha(n.get("latestSha256")))
                        .col("UPDATED", n -> Table.time(n.get("updatedAt"))).print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "versions", mixinStandardHelpOptions = true, description = "List a model's versions and their lineage.")
    static class Versions extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            List<JsonNode> items = api().list(PATH + "/" + seg(name) + "/versions");
            if (json()) {
                printJson(items);
            } else {
                new Table().col("VERSION", "/version").col("SHA256", n -> shortSha(n.get("sha256")))
                        .col("SIZE", n -> Table.bytes(n.path("size").asLong())).col("OPSET", "/opset")
                        .col("PARENT", "/parentVersion").col("RECIPE", "/recipe/name")
                        .col("CREATED", n -> Table.time(n.get("createdAt"))).print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = "Upload an .onnx file as the model's next version (streamed; a progress bar on a terminal).")
    static class Upload extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "FILE.onnx")
        Path file;

        @Override
        public Integer call() throws Exception {
            requireFile(file);
            long size = Files.size(file);
            Progress progress = new Progress(ctx(), "upload " + file.getFileName());
            JsonNode v;
            try {
                v = api().upload(PATH + "/" + seg(name) + "/versions", file, "application/octet-stream",
                        sent -> progress.bytes(sent, size));
            } finally {
                progress.done();
            }
            if (json()) {
                printJson(v);
            } else {
                out().println("uploaded " + v.path("name").asText() + " version " + v.path("version").asText() + " ("
                        + Table.bytes(v.path("size").asLong()) + ", sha256 " + v.path("sha256").asText() + ")");
            }
            return 0;
        }
    }
}
