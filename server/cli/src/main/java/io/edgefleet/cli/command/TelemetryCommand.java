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
        subcommands = {TelemetryCommand.Tail.class})
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
}
