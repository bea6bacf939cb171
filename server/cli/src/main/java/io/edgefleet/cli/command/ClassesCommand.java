package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliException;
import io.edgefleet.cli.ExitCode;
import io.edgefleet.cli.Table;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "classes", mixinStandardHelpOptions = true, description = "Device classes: hardware profiles with their SLOs.",
        subcommands = {ClassesCommand.ListCmd.class, ClassesCommand.Get.class, ClassesCommand.Create.class,
                ClassesCommand.Update.class, ClassesCommand.Loop.class, ClassesCommand.Benchmark.class,
                ClassesCommand.Benchmarks.class, ClassesCommand.CostModel.class})
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
    @Command(name = "loop", mixinStandardHelpOptions = true,
            description = "Show a class's closed-loop switch, or set it with --mode (automatic, approve, off); setting "
                    + "any mode also re-enables a class that backed off.")
    static class Loop extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--mode", paramLabel = "MODE", description = "automatic, approve or off.")
        String mode;

        @Option(names = "--fresh-dataset", paramLabel = "NAME",
                description = "With --mode: a dataset of fresh inputs to recalibrate on when no device captured any.")
        String freshDataset;

        @Override
        public Integer call() {
            String path = PATH + "/" + seg(id) + "/loop";
            JsonNode v;
            if (mode == null) {
                if (freshDataset != null) {
                    throw CliException.usage("--fresh-dataset needs --mode");
                }
                v = api().get(path);
            } else {
                ObjectNode body = ApiClient.JSON.createObjectNode()
                        .put("mode", mode);
                if (freshDataset != null) {
                    body.put("freshDataset", freshDataset);
                }
                v = api().put(path, body);
            }
            if (json()) {
                printJson(v);
            } else {
                out().println("class " + v.path("classId").asText() + ": loop mode " + v.path("mode").asText()
                        + (v.path("explicit").asBoolean() ? "" : " (default)")
                        + (v.hasNonNull("freshDataset") ? ", fresh dataset " + v.get("freshDataset").asText() : "")
                        + (v.hasNonNull("backedOffAt") ? ", backed off since " + Table.time(v.get("backedOffAt")) + ": "
                        + Table.text(v.get("backedOffReason")) : ""));
            }
            return 0;
        }
    }

    static Table benchmarkTable() {
        return new Table().col("JOB", "/id").col("MODEL", n -> n.path("model").asText() + ":" + n.path("version").asText())
                .col("STATUS", "/status")
                .col("DEVICES", n -> n.path("results").size() + "/" + n.path("devices").size())
                .col("SERVER_P95_MS", "/serverP95Ms")
                .col("DEVICE_P95_MS", n -> joined(n.path("results"), "p95Ms"))
                .col("ENERGY_MJ", n -> joined(n.path("results"), "energyMj"))
                .col("CREATED", n -> Table.time(n.get("createdAt")));
    }

    private static String joined(JsonNode results, String field) {
        List<String> out = new ArrayList<>();
        results.forEach(r -> {
            if (r.hasNonNull(field)) {
                out.add(Table.number(r.get(field).asDouble()));
            }
        });
        return String.join(",", out);
    }

    /** No standard help mixin: its {@code --version} would take the place of the model's {@code --version}. */
    @Command(name = "benchmark",
            description = "Run a model version on online devices of the class without activating it; the devices report "
                    + "latency and energy, and the class's cost model is refitted when the job ends. --wait follows it: "
                    + "exit 0 COMPLETED, 5 PARTIAL, 1 FAILED.")
    static class Benchmark extends Base {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Parameters(paramLabel = "CLASS")
        String id;

        @Option(names = "--model", required = true, paramLabel = "NAME")
        String model;

        @Option(names = "--version", required = true, paramLabel = "VERSION")
        long version;

        @Option(names = "--devices", paramLabel = "N", description = "How many online devices run it (default 1).")
        Integer devices;

        @Option(names = "--seconds", paramLabel = "S", description = "Duration on the device (1-600).")
        Integer seconds;

        @Option(names = "--runs", paramLabel = "N", description = "Timed inferences; with --seconds, whichever ends first.")
        Integer runs;

        @Option(names = "--batch", paramLabel = "N", description = "Samples per inference (default 1).")
        Integer batch;

        @Option(names = "--interval-ms", paramLabel = "MS", description = "Pace the runs: one every MS ms as the devices "
                + "run their model (0: each device's own inference interval; default: back to back). The class's cost "
                + "model is fitted from the jobs paced like its newest one.")
        Integer intervalMs;

        @Option(names = "--wait", description = "Follow the job to its end.")
        boolean await;

        @Override
        public Integer call() {
            ObjectNode body = ApiClient.JSON.createObjectNode()
                    .put("model", model).put("version", version);
            if (intervalMs != null) {
                body.put("intervalMs", intervalMs);
            }
            if (devices != null) {
                body.put("devices", devices);
            }
            if (seconds != null) {
                body.put("seconds", seconds);
            }
            if (runs != null) {
                body.put("runs", runs);
            }
            if (batch != null) {
                body.put("batch", batch);
            }
            ApiClient api = api();
            JsonNode job = api.post(PATH + "/" + seg(id) + "/benchmarks", body);
            if (await) {
                job = Waiter.await(ctx(), api, PATH + "/" + seg(id) + "/benchmarks/" + seg(job.path("id").asText()), job,
                        "benchmark " + model + ":" + version);
            }
            if (json()) {
                printJson(job);
            } else if (!await) {
                out().println("benchmark " + job.path("id").asText() + " " + job.path("status").asText() + " on "
                        + job.path("devices").size() + " device(s) (--wait follows it; classes benchmarks " + id + ")");
            } else {
                out().println("benchmark " + job.path("id").asText() + " " + job.path("status").asText() + ": "
                        + job.path("message").asText(""));
                List<JsonNode> results = new ArrayList<>();
                job.path("results").forEach(results::add);
                new Table().col("DEVICE", "/deviceId").col("STATUS", "/status").col("REASON", "/reason")
                        .col("INFERENCES", "/inferences").col("P50_MS", "/p50Ms").col("P95_MS", "/p95Ms")
                        .col("P99_MS", "/p99Ms").col("ENERGY_MJ", "/energyMj").col("ENERGY_SOURCE", "/energySource")
                        .print(out(), results);
            }
            if (!await) {
                return 0;
            }
            return switch (job.path("status").asText()) {
                case "COMPLETED" -> ExitCode.OK;
                case "PARTIAL" -> ExitCode.CONFLICT;
                default -> ExitCode.SERVER_ERROR;
            };
        }
    }

    @Command(name = "benchmarks", mixinStandardHelpOptions = true, description = "A class's benchmark jobs, newest first.")
    static class Benchmarks extends Base {
        @Parameters(paramLabel = "CLASS")
        String id;

        @Option(names = "--limit", paramLabel = "N", description = "At most N jobs (default 50).")
        Integer limit;

        @Override
        public Integer call() {
            List<JsonNode> items = api().page(ApiClient.query(PATH + "/" + seg(id) + "/benchmarks",
                    ApiClient.params("limit", limit))).items();
            if (json()) {
                printJson(items);
            } else {
                benchmarkTable().print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "cost-model", mixinStandardHelpOptions = true,
            description = "The class's latency and energy cost model: fitted from N device benchmark reports (with its "
                    + "error), or the declared profile.")
    static class CostModel extends Base {
        @Parameters(paramLabel = "CLASS")
        String id;

        @Override
        public Integer call() {
            JsonNode c = api().get(PATH + "/" + seg(id) + "/cost-model");
            if (json()) {
                printJson(c);
                return 0;
            }
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"class", Table.text(c.get("deviceClassId"))});
            f.add(new String[] {"source", Table.text(c.get("source"))});
            f.add(new String[] {"reports", Table.text(c.get("reports")) + " from " + Table.text(c.get("artifacts"))
                    + " artifact(s)"});
            // a server from before the median basis sends no basis: its lines scaled the server's p95 and mean
            String p95Basis = c.path("p95Basis").asText("p95");
            String meanBasis = c.path("meanBasis").asText("mean");
            f.add(new String[] {"p95", Table.text(c.get("p95Scale")) + " x server " + p95Basis + " + "
                    + Table.text(c.get("p95OffsetMs")) + " ms"});
            f.add(new String[] {"mean", Table.text(c.get("meanScale")) + " x server " + meanBasis + " + "
                    + Table.text(c.get("meanOffsetMs")) + " ms"});
            f.add(new String[] {"energy", c.hasNonNull("energyMjPerServerMs") ? Table.text(c.get("energyMjPerServerMs"))
                    + " mJ per server-ms of " + meanBasis : ""});
            f.add(new String[] {"latency error", c.hasNonNull("latencyErrorPercent")
                    ? Table.text(c.get("latencyErrorPercent")) + " %" : ""});
            f.add(new String[] {"energy error", c.hasNonNull("energyErrorPercent")
                    ? Table.text(c.get("energyErrorPercent")) + " %" : ""});
            f.add(new String[] {"summary", Table.text(c.get("summary"))});
            f.add(new String[] {"fitted", Table.time(c.get("fittedAt"))});
            Table.printFields(out(), f);
            return 0;
        }
    }
}
