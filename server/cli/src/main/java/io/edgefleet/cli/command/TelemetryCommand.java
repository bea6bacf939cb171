package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "telemetry", mixinStandardHelpOptions = true, description = "Device telemetry windows.",
        subcommands = {TelemetryCommand.Tail.class, TelemetryCommand.Hourly.class})
public class TelemetryCommand {

    static String summary(JsonNode t) {
        return Table.ref(t.get("model")) + ", " + t.path("inferences").asText("0") + " inferences, "
                + t.path("errors").asText("0") + " errors, p95 " + Table.text(t.at("/latency/p95")) + " ms"
                + (t.hasNonNull("energyMj") ? ", " + Table.text(t.get("energyMj")) + " mJ" : "")
                + (t.hasNonNull("drift") ? ", drift " + Table.text(t.get("drift")) : "")
                + " (window ending " + Table.time(t.get("windowEnd")) + ")";
    }

    static Table table() {
        return new Table().col("WINDOW_END", n -> Table.time(n.get("windowEnd")))
            .col("SEQ", "/seq").col("MODEL", n -> Table.ref(n.get("model"))).col("INFERENCES", "/inferences")
            .col("ERRORS", "/errors").col("P50_MS", "/latency/p50").col("P95_MS", "/latency/p95")
            .col("P99_MS", "/latency/p99").col("ENERGY_MJ", "/energyMj").col("DRIFT", "/drift")
            .col("DROPPED", "/dropped");
    }

    @Command(name = "tail", mixinStandardHelpOptions = true,
            description = "Print a device's latest telemetry windows, then each new one as it arrives, until Ctrl-C "
                    + "or --count windows were printed. With --json: one JSON object per line.")
    static class Tail extends Base {
        @Parameters(paramLabel = "DEVICE")
        String device;

        @Option(names = {"-n", "--last"}, defaultValue = "10", paramLabel = "N",
                description = "Windows already stored to print first (default: ${DEFAULT-VALUE}).")
        int last;

        @Option(names = "--count", paramLabel = "N", description = "Stop after printing N windows in all.")
        Integer count;

        @Override
        public Integer call() {
            ApiClient api = api();
            String path = ApiClient.query("/api/v1/devices/" + seg(device) + "/telemetry", ApiClient.params("limit", 100));
            Set<String> seen = new LinkedHashSet<>();
            int printed = 0;
            boolean first = true;
            while (true) {
                List<JsonNode> newest = new ArrayList<>(api.page(path).items());
                Collections.reverse(newest); // the server answers newest first
                List<JsonNode> fresh = new ArrayList<>();
                for (JsonNode w : newest) {
                    if (seen.add(key(w))) {
                        fresh.add(w);
                    }
                }
                if (first) {
                    fresh = fresh.subList(Math.max(0, fresh.size() - Math.max(0, last)), fresh.size());
                }
                if (count != null) {
                    fresh = fresh.subList(0, Math.min(fresh.size(), count - printed));
                }
                print(fresh, first);
                printed += fresh.size();
                first = false;
                if (count != null && printed >= count) {
                    return 0;
                }
                while (seen.size() > 10_000) {
                    seen.remove(seen.iterator().next());
                }
                ctx().sleep(ctx().pollInterval());
            }
        }

        private static String key(JsonNode w) {
            return w.hasNonNull("id") ? w.get("id").asText() : w.path("seq").asText() + "@" + w.path("windowEnd").asText();
        }

        private final Table table = table();

        private void print(List<JsonNode> windows, boolean header) {
            if (json()) {
                windows.forEach(this::printJsonLine);
                return;
            }
            if (header) {
                table.printHeaderAndRows(out(), windows);
            } else if (!windows.isEmpty()) {
                table.printRows(out(), windows);
            }
        }
    }
    @Command(name = "hourly", mixinStandardHelpOptions = true,
            description = "Hourly rollups of a device or a class (GET /api/v1/telemetry/hourly), per model version, "
                    + "oldest first: what remains of telemetry beyond the raw windows' retention. Only completed hours "
                    + "are rolled up; --current adds the hours not rolled up yet.")
    static class Hourly extends Base {
        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Scope scope;

        static class Scope {
            @Option(names = "--device", required = true, paramLabel = "ID", description = "One device's rollups.")
            String device;

            @Option(names = "--class", required = true, paramLabel = "CLASS", description = "One class's rollups.")
            String classId;
        }

        @Option(names = "--days", defaultValue = "7", paramLabel = "N",
                description = "Hours starting in the last N days (default: ${DEFAULT-VALUE}).")
        int days;

        @Option(names = "--current", description = "Also the hours not rolled up yet, computed from the raw windows "
                + "(?current=true); the running hour is marked partial. A fleet younger than an hour shows rows.")
        boolean current;

        @Override
        public Integer call() {
            if (days < 1) {
                throw io.edgefleet.cli.CliException.usage("--days must be at least 1");
            }
            long hour = 3_600_000L;
            long from = (System.currentTimeMillis() - days * 24L * hour) / hour * hour;
            List<JsonNode> rows = api().page(ApiClient.query("/api/v1/telemetry/hourly", ApiClient.params(
                    "deviceId", scope.device, "classId", scope.classId, "from", from, "current", current ? true : null)))
                    .items();
            if (json()) {
                printJson(rows);
            } else {
                new Table().col("HOUR", n -> Table.time(n.get("hourStart")) + (n.path("partial").asBoolean() ? " partial" : ""))
                        .col("MODEL", n -> n.hasNonNull("model") ? n.get("model").asText() + ":" + n.path("version").asText() : "")
                        .col("DEVICES", "/devices").col("WINDOWS", "/windows").col("INFERENCES", "/inferences")
                        .col("ERRORS", "/errors").col("ERROR_RATE", "/errorRate").col("P95_MAX_MS", "/p95LatencyMsMax")
                        .col("ENERGY_MJ", "/energyMjPerInference").col("DRIFT_MAX", "/driftMax")
                        .print(out(), rows);
            }
            return 0;
        }
    }
}
