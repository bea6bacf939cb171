package io.edgefleet.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.Table;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "alerts", mixinStandardHelpOptions = true, description = "Alerts and the rules that raise them.",
        subcommands = {AlertsCommand.ListCmd.class, AlertsCommand.Rules.class})
public class AlertsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Open and past alerts, newest first.")
    static class ListCmd extends Base {
        @Option(names = "--state", paramLabel = "STATE", description = "pending, firing or resolved.")
        String state;

        @Option(names = "--rule", paramLabel = "RULE", description = "Only alerts of this rule.")
        String rule;

        @Option(names = "--limit", paramLabel = "N", description = "At most N alerts (server default 200).")
        Integer limit;

        @Override
        public Integer call() {
            String path = ApiClient.query("/api/v1/alerts", ApiClient.params(
                    "state", state == null ? null : state.toUpperCase(Locale.ROOT), "rule", rule, "limit", limit));
            List<JsonNode> items = limit == null ? api().list(path) : api().page(path).items();
            if (json()) {
                printJson(items);
            } else {
                new Table().col("ID", "/id").col("STATE", "/state").col("SEVERITY", "/severity").col("RULE", "/rule")
                        .col("NAME", "/name").col("VALUE", "/value").col("THRESHOLD", "/threshold")
                        .col("LABELS", n -> labels(n.get("labels")))
                        .col("SINCE", n -> Table.time(n.hasNonNull("firedAt") ? n.get("firedAt") : n.get("activeAt")))
                        .col("RESOLVED", n -> Table.time(n.get("resolvedAt")))
                        .col("RUNBOOK", "/annotations/runbook_url")
                        .print(out(), items);
            }
            return 0;
        }

        static String labels(JsonNode labels) {
            if (labels == null || !labels.isObject()) {
                return "";
            }
            StringBuilder sb = new StringBuilder();
            labels.fields().forEachRemaining(e -> {
                if (!e.getKey().equals("alertname") && !e.getKey().equals("severity")) {
                    sb.append(sb.isEmpty() ? "" : ",").append(e.getKey()).append('=').append(e.getValue().asText());
                }
            });
            return sb.toString();
        }
    }

    @Command(name = "rules", mixinStandardHelpOptions = true, description = "List alert rules.")
    static class Rules extends Base {
        @Override
        public Integer call() {
            List<JsonNode> items = api().list("/api/v1/alert-rules");
            if (json()) {
                printJson(items);
            } else {
                new Table().col("ID", "/id").col("NAME", "/name").col("METRIC", "/metric").col("SCOPE", "/scope")
                        .col("THRESHOLD", n -> Table.text(n.get("threshold"))
                                + (n.hasNonNull("thresholdSource") ? " (" + n.get("thresholdSource").asText() + ")" : ""))
                        .col("FOR_S", "/forSeconds").col("SEVERITY", "/severity").col("ACTION", "/action")
                        .col("ENABLED", n -> n.path("enabled").asBoolean(true) ? "yes" : "no")
                        .print(out(), items);
            }
            return 0;
        }
    }
}
