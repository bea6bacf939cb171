package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.Table;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "classes", mixinStandardHelpOptions = true, description = "Device classes: hardware profiles with their SLOs.",
        subcommands = {ClassesCommand.ListCmd.class, ClassesCommand.Get.class, ClassesCommand.Create.class,
                ClassesCommand.Update.class})
public class ClassesCommand {
    static final String PATH = "/api/v1/device-classes";

    static Table table() {
        return new Table().col("ID", "/id").col("NAME", "/name").col("ARCH", "/arch").col("CORES", "/cores")
                .col("RAM_MB", "/ramMb").col("PRECISIONS", "/precisions").col("P95_MS", "/slo/p95LatencyMs")
                .col("MAX_MODEL", n -> n.at("/slo/maxModelBytes").isNumber() ? Table.bytes(n.at("/slo/maxModelBytes").asLong()) : "")
                .col("MAX_ENERGY_MJ", "/slo/maxEnergyMj");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List device classes.")
    static class ListCmd extends Base {
        @Override
        public Integer call() {
            List<JsonNode> items = api().list(PATH);
            if (json()) {
                printJson(items);
            } else {
                table().print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one device class.")
    static class Get extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode c = api().get(PATH + "/" + seg(id));
            if (json()) {
                printJson(c);
            } else {
                printClass(c);
            }
            return 0;
        }

        void printClass(JsonNode c) {
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"id", Table.text(c.get("id"))});
            f.add(new String[] {"name", Table.text(c.get("name"))});
            f.add(new String[] {"arch", Table.text(c.get("arch"))});
            f.add(new String[] {"cores", Table.text(c.get("cores"))});
            f.add(new String[] {"ram", Table.text(c.get("ramMb")) + " MB"});
            f.add(new String[] {"storage", Table.text(c.get("storageMb")) + " MB"});
            f.add(new String[] {"precisions", Table.text(c.get("precisions"))});
            f.add(new String[] {"slo.p95LatencyMs", Table.text(c.at("/slo/p95LatencyMs"))});
            f.add(new String[] {"slo.maxModelBytes", Table.text(c.at("/slo/maxModelBytes"))});
            f.add(new String[] {"slo.maxEnergyMj", Table.text(c.at("/slo/maxEnergyMj"))});
            f.add(new String[] {"power", c.hasNonNull("power") ? "idle " + Table.text(c.at("/power/idleWatts")) + " W, active "
                    + Table.text(c.at("/power/activeWatts")) + " W" : ""});
            f.add(new String[] {"accuracyBudget", c.hasNonNull("accuracyBudget") ? "overall " + Table.text(c.at("/accuracyBudget/overallPoints"))
                    + " pt, cohort " + Table.text(c.at("/accuracyBudget/cohortPoints")) + " pt" : ""});
            f.add(new String[] {"updated", Table.time(c.get("updatedAt"))});
            Table.printFields(out(), f);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a device class from a JSON file (the body of POST /api/v1/device-classes).")
    static class Create extends Base {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "CLASS.json")
        Path file;

        @Override
        public Integer call() {
            JsonNode created = api().post(PATH, readJsonFile(file));
            if (json()) {
                printJson(created);
            } else {
                out().println("created device class " + created.path("id").asText());
            }
            return 0;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Replace a device class with the JSON file's content (PUT).")
    static class Update extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = {"-f", "--file"}, required = true, paramLabel = "CLASS.json")
        Path file;

        @Override
        public Integer call() {
            JsonNode updated = api().put(PATH + "/" + seg(id), readJsonFile(file));
            if (json()) {
                printJson(updated);
            } else {
                out().println("updated device class " + updated.path("id").asText());
            }
            return 0;
        }
    }
}
