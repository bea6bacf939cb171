package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The closed loop's audit trail and approvals ({@code /api/v1/loops}, docs/closed-loop.md). */
@Command(name = "loops", mixinStandardHelpOptions = true,
        description = "Closed loops: alert -> re-plan -> gated variant -> canary rollout; approve or reject waiting ones.",
        subcommands = {LoopsCommand.ListCmd.class, LoopsCommand.Show.class, LoopsCommand.Approve.class,
                LoopsCommand.Reject.class})
public class LoopsCommand {
    static final String PATH = "/api/v1/loops";

    /** {@code loop ID: STATE (reason)}: the one line an action prints. */
    static String line(JsonNode l) {
        String reason = l.path("reason").asText("");
        return "loop " + l.path("id").asText() + ": " + l.path("state").asText()
                + (l.hasNonNull("decidedBy") ? " by " + l.get("decidedBy").asText() : "")
                + (reason.isEmpty() ? "" : " (" + reason + ")");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Loops, newest first.")
    static class ListCmd extends Base {
        @Option(names = "--class", paramLabel = "CLASS", description = "Only this device class.")
        String classId;

        @Option(names = "--state", paramLabel = "STATE",
                description = "Only loops in this state (awaiting_approval, planning, canary, promoted, ...).")
        String state;

        @Option(names = "--limit", paramLabel = "N", description = "At most N loops (default 100, at most 1000).")
        Integer limit;

        @Override
        public Integer call() {
            List<JsonNode> items = api().page(ApiClient.query(PATH, ApiClient.params("classId", classId,
                    "state", state == null ? null : state.toUpperCase(Locale.ROOT), "limit", limit))).items();
            if (json()) {
                printJson(items);
            } else {
                new Table().col("ID", "/id").col("CLASS", "/classId").col("MODEL", "/model").col("STATE", "/state")
                        .col("STRATEGY", "/strategy").col("METRIC", "/metric").col("ALERT", "/alertId")
                        .col("PLAN", "/planId")
                        .col("VARIANT", n -> n.hasNonNull("resultVersion") ? n.path("model").asText() + ":"
                                + n.get("resultVersion").asText() : "")
                        .col("ROLLOUT", "/deploymentId").col("OUTCOME", "/outcome")
                        .col("CREATED", n -> Table.time(n.get("createdAt")))
                        .print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "One loop's audit trail: alert, decision, re-plan, variant, canary rollout, outcome, transitions.")
    static class Show extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode l = api().get(PATH + "/" + seg(id));
            if (json()) {
                printJson(l);
                return 0;
            }
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"id", l.path("id").asText()});
            f.add(new String[] {"state", Table.text(l.get("state"))});
            f.add(new String[] {"class", Table.text(l.get("classId"))});
            f.add(new String[] {"model", Table.text(l.get("model")) + (l.hasNonNull("fromVersion")
                    ? " from v" + l.get("fromVersion").asText() + (l.hasNonNull("fromCandidate")
                    ? " (" + l.get("fromCandidate").asText() + ")" : "") : "")});
            f.add(new String[] {"alert", l.hasNonNull("alertId") ? "#" + l.get("alertId").asText() + " rule "
                    + Table.text(l.get("ruleId")) + " metric " + Table.text(l.get("metric")) + " fired "
                    + Table.time(l.get("alertFiredAt")) : ""});
            f.add(new String[] {"decision", Table.text(l.get("mode")) + " / " + Table.text(l.get("strategy"))
                    + ": " + Table.text(l.get("reason"))});
            f.add(new String[] {"decided by", Table.text(l.get("decidedBy"))});
            f.add(new String[] {"re-plan", l.hasNonNull("planId") ? l.get("planId").asText() + " (GET /api/v1/plans/"
                    + l.get("planId").asText() + ")" : ""});
            f.add(new String[] {"variant", l.hasNonNull("resultVersion") ? l.path("model").asText() + ":"
                    + l.get("resultVersion").asText() + " " + Table.text(l.get("choice")) : ""});
            f.add(new String[] {"canary rollout", Table.text(l.get("deploymentId"))});
            f.add(new String[] {"outcome", Table.text(l.get("outcome"))});
            f.add(new String[] {"alert to canary", l.hasNonNull("alertToCanaryMs") ? l.get("alertToCanaryMs").asText()
                    + " ms" : ""});
            f.add(new String[] {"created", Table.time(l.get("createdAt"))});
            f.add(new String[] {"finished", Table.time(l.get("finishedAt"))});
            Table.printFields(out(), f);
            List<JsonNode> history = new ArrayList<>();
            l.path("history").forEach(history::add);
            out().println();
            new Table().col("TIME", n -> Table.time(n.get("at"))).col("STATE", "/state").col("NOTE", "/note")
                    .print(out(), history);
            return 0;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approve a loop awaiting approval: its re-plan starts at the next loop pass.")
    static class Approve extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode l = api().post(PATH + "/" + seg(id) + "/approve", ApiClient.JSON.createObjectNode());
            if (json()) {
                printJson(l);
            } else {
                out().println(line(l));
            }
            return 0;
        }
    }

    @Command(name = "reject", mixinStandardHelpOptions = true,
            description = "Reject a loop awaiting approval: it ends REJECTED, nothing is planned or deployed.")
    static class Reject extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Kept in the audit trail.")
        String reason;

        @Override
        public Integer call() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (reason != null) {
                body.put("reason", reason);
            }
            JsonNode l = api().post(PATH + "/" + seg(id) + "/reject", body);
            if (json()) {
                printJson(l);
            } else {
                out().println(line(l));
            }
            return 0;
        }
    }
}
