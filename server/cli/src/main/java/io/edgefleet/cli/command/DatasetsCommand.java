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

@Command(name = "datasets", mixinStandardHelpOptions = true, description = "Calibration and validation datasets (.npz).",
        subcommands = {DatasetsCommand.ListCmd.class, DatasetsCommand.Upload.class})
public class DatasetsCommand {
    static final String PATH = "/api/v1/datasets";

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List datasets.")
    static class ListCmd extends Base {
        @Override
        public Integer call() {
            List<JsonNode> items = api().list(PATH);
            if (json()) {
                printJson(items);
            } else {
                new Table().col("NAME", "/name").col("SAMPLES", "/sampleCount")
                        .col("LABELS", n -> n.path("hasLabels").asBoolean() ? "yes" : "no")
                        .col("COHORTS", n -> n.path("hasCohort").asBoolean() ? "yes" : "no")
                        .col("SIZE", n -> Table.bytes(n.path("size").asLong()))
                        .col("SHA256", n -> ModelsCommand.shortSha(n.get("sha256")))
                        .col("CREATED", n -> Table.time(n.get("createdAt"))).print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = "Upload an .npz dataset under NAME (streamed; a progress bar on a terminal). "
                    + "The same bytes again are accepted as a no-op.")
    static class Upload extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "FILE.npz")
        Path file;

        @Override
        public Integer call() throws Exception {
            requireFile(file);
            long size = Files.size(file);
            Progress progress = new Progress(ctx(), "upload " + file.getFileName());
            JsonNode d;
            try {
                d = api().upload(PATH + "/" + seg(name), file, "application/octet-stream", sent -> progress.bytes(sent, size));
            } finally {
                progress.done();
            }
            if (json()) {
                printJson(d);
            } else {
                out().println("uploaded dataset " + d.path("name").asText() + " (" + d.path("sampleCount").asText()
                        + " samples, " + (d.path("hasLabels").asBoolean() ? "labels" : "no labels")
                        + (d.path("hasCohort").asBoolean() ? ", cohorts" : "") + ", " + Table.bytes(d.path("size").asLong())
                        + ", sha256 " + d.path("sha256").asText() + ")");
            }
            return 0;
        }
    }
}
