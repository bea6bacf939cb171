package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliException;
import io.edgefleet.cli.ExitCode;
import io.edgefleet.cli.Table;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Rollouts are the server's deployments ({@code /api/v1/deployments}), advanced in waves by their policy. */
@Command(name = "rollouts", mixinStandardHelpOptions = true, description = "Rollouts (deployments) and their waves.",
        subcommands = {RolloutsCommand.Create.class, RolloutsCommand.ListCmd.class, RolloutsCommand.Get.class,
                RolloutsCommand.Watch.class, RolloutsCommand.Pause.class, RolloutsCommand.Resume.class,
                RolloutsCommand.Abort.class, RolloutsCommand.Rollback.class, RolloutsCommand.Fleet.class})
public class RolloutsCommand {
    static final String PATH = "/api/v1/deployments";
    /** A deployment in one of these may still change; any other status is final. */
    static final Set<String> RUNNING = Set.of("IN_PROGRESS", "PAUSED");

    /** "3" -> {"count":3}; "25%" -> {"percent":25.0}. */
    static ObjectNode share(String value, String option, String countField) {
        String v = value.trim();
        ObjectNode n = ApiClient.JSON.createObjectNode();
        try {
            if (v.endsWith("%")) {
                double p = Double.parseDouble(v.substring(0, v.length() - 1));
                if (!(p > 0 && p <= 100)) {
                    throw CliException.usage(option + " " + value + ": a percentage must be in (0, 100]");
                }
                n.put("percent", p);
            } else {
                int c = Integer.parseInt(v);
                if (c < 1) {
                    throw CliException.usage(option + " " + value + ": a device count must be at least 1");
                }
                n.put(countField, c);
            }
        } catch (NumberFormatException e) {
            throw CliException.usage(option + " " + value + ": give a device count (3) or a percentage (25%)");
        }
        return n;
    }

    static String summary(JsonNode d) {
        JsonNode s = d.path("summary");
        int total = 0;
        for (String k : new String[] {"pending", "inProgress", "committed", "rolledBack", "failed", "timedOut", "cancelled"}) {
            total += s.path(k).asInt(0);
        }
        return s.path("committed").asInt() + "/" + total + " committed";
    }

    static String wave(JsonNode d) {
        JsonNode w = d.path("waves");
        if (!w.isObject() || w.path("count").asInt(0) == 0) {
            return "";
        }
        String phase = w.path("phase").asText("");
        return w.path("current").asText() + "/" + w.path("count").asText() + (phase.isEmpty() ? "" : " " + phase);
    }

    static Table listTable() {
        return new Table().col("ID", "/id").col("MODEL", n -> n.path("model").asText() + ":" + n.path("version").asText())
                .col("TARGET", n -> n.hasNonNull("classId") ? "class " + n.get("classId").asText()
                        : n.hasNonNull("tags") ? "tags " + Table.text(n.get("tags")) : "devices")
                .col("STATUS", "/status").col("WAVE", RolloutsCommand::wave)
                .col("PENDING", "/summary/pending").col("IN_PROGRESS", "/summary/inProgress")
                .col("COMMITTED", "/summary/committed").col("ROLLED_BACK", "/summary/rolledBack")
                .col("FAILED", "/summary/failed").col("CREATED", n -> Table.time(n.get("createdAt")));
    }

    /** No standard help mixin: its {@code --version} would take the place of the model's {@code --version}. */
    @Command(name = "create",
            description = "Roll a model version out to a device class, tags or devices. Any of --canary, --batch, --soak, "
                    + "--min-committed, --abort-threshold, --target-timeout, --gate-* sends a wave policy (the server "
                    + "fills the rest with its defaults); without them the server's default waves apply (a canary first); "
                    + "--all-at-once sends every target the model at once.")
    static class Create extends Base {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--model", required = true, paramLabel = "NAME")
        String model;

        @Option(names = "--version", required = true, paramLabel = "VERSION")
        long version;

        @Option(names = "--class", paramLabel = "CLASS", description = "Target this device class.")
        String classId;

        @Option(names = "--tag", paramLabel = "TAG", description = "Target devices carrying the tag (repeatable; with --class, narrows it).")
        List<String> tags = new ArrayList<>();

        @Option(names = "--device", paramLabel = "ID", description = "Target this device (repeatable; not with --class/--tag).")
        List<String> devices = new ArrayList<>();

        @Mixin
        PolicyOptions policyOptions;

        @Override
        public Integer call() {
            if (!devices.isEmpty() && (classId != null || !tags.isEmpty())) {
                throw CliException.usage("give --device, or --class and/or --tag, not both");
            }
            if (devices.isEmpty() && classId == null && tags.isEmpty()) {
                throw CliException.usage("give a target: --class, --tag or --device");
            }
            ObjectNode body = ApiClient.JSON.createObjectNode().put("model", model).put("version", version);
            if (classId != null) {
                body.put("classId", classId);
            }
            if (!tags.isEmpty()) {
                tags.forEach(body.putArray("tags")::add);
            }
            if (!devices.isEmpty()) {
                devices.forEach(body.putArray("deviceIds")::add);
            }
            ObjectNode policy = policyOptions.policy();
            if (!policy.isEmpty()) {
                body.set("policy", policy);
            }
            JsonNode d = api().post(PATH, body);
            if (json()) {
                printJson(d);
            } else {
                String waves = wave(d);
                out().println("rollout " + d.path("id").asText() + " created: " + d.path("model").asText() + ":"
                        + d.path("version").asText() + ", " + d.path("status").asText() + ", " + summary(d)
                        + (waves.isEmpty() ? "" : ", wave " + waves));
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List rollouts.")
    static class ListCmd extends Base {
        @Override
        public Integer call() {
            List<JsonNode> items = api().list(PATH);
            if (json()) {
                printJson(items);
            } else {
                listTable().print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a rollout: status, waves, gates, halt, targets.")
    static class Get extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--targets", description = "Also list every target device.")
        boolean targets;

        @Override
        public Integer call() {
            JsonNode d = api().get(PATH + "/" + seg(id));
            if (json()) {
                printJson(d);
                return 0;
            }
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"id", d.path("id").asText()});
            f.add(new String[] {"model", d.path("model").asText() + ":" + d.path("version").asText()});
            f.add(new String[] {"target", d.hasNonNull("classId") ? "class " + d.get("classId").asText() : ""});
            if (d.hasNonNull("tags")) {
                f.add(new String[] {"tags", Table.text(d.get("tags"))});
            }
            f.add(new String[] {"status", d.path("status").asText()});
            f.add(new String[] {"wave", wave(d)});
            f.add(new String[] {"targets", summary(d)});
            JsonNode halt = d.path("halt");
            if (halt.isObject()) {
                f.add(new String[] {"halted by", Table.text(halt.get("rule")) + ": " + Table.text(halt.get("detail"))});
            }
            if (d.hasNonNull("rollbackReason")) {
                f.add(new String[] {"rollback reason", d.get("rollbackReason").asText()});
            }
            f.add(new String[] {"created", Table.time(d.get("createdAt"))});
            f.add(new String[] {"updated", Table.time(d.get("updatedAt"))});
            Table.printFields(out(), f);
            List<JsonNode> waves = new ArrayList<>();
            d.at("/waves/waves").forEach(waves::add);
            if (!waves.isEmpty()) {
                out().println();
                new Table().col("WAVE", "/wave").col("SIZE", "/size").col("PENDING", "/pending")
                        .col("IN_PROGRESS", "/inProgress").col("COMMITTED", "/committed").col("ROLLED_BACK", "/rolledBack")
                        .col("FAILED", "/failed").col("TIMED_OUT", "/timedOut").col("CANCELLED", "/cancelled")
                        .print(out(), waves);
            }
            printGates(d.path("gates"));
            if (targets) {
                List<JsonNode> t = new ArrayList<>();
                d.path("targets").forEach(t::add);
                out().println();
                new Table().col("DEVICE", "/deviceId").col("CLASS", "/classId").col("WAVE", "/wave").col("STATE", "/state")
                        .col("REASON", "/reason").col("UPDATED", n -> Table.time(n.get("updatedAt"))).print(out(), t);
            }
            return 0;
        }

        /** The last gate verdict, whatever its exact shape: a list of gates, or an object holding one. */
        private void printGates(JsonNode gates) {
            if (gates == null || gates.isNull() || gates.isMissingNode()) {
                return;
            }
            List<JsonNode> rows = new ArrayList<>();
            JsonNode list = gates.isArray() ? gates : gates.has("gates") && gates.get("gates").isArray() ? gates.get("gates") : null;
            out().println();
            if (list == null) {
                out().println("gates: " + gates);
                return;
            }
            list.forEach(rows::add);
            new Table().col("GATE", n -> n.hasNonNull("gate") ? Table.text(n.get("gate")) : Table.text(n.get("name")))
                    .col("VERDICT", n -> n.hasNonNull("verdict") ? Table.text(n.get("verdict"))
                            : n.has("passed") ? (n.path("passed").asBoolean() ? "PASSED" : "FAILED") : "")
                    .col("VALUE", "/value").col("LIMIT", "/limit").col("BASELINE", "/baseline").col("DETAIL", "/detail")
                    .print(out(), rows);
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = "Follow a rollout, printing a line whenever it changes, until it ends; "
                    + "exits 0 when it COMPLETED and 5 when it ended otherwise.")
    static class Watch extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            ApiClient api = api();
            String last = null;
            while (true) {
                JsonNode d = api.get(PATH + "/" + seg(id));
                String line = d.path("status").asText() + "  wave " + (wave(d).isEmpty() ? "-" : wave(d)) + "  " + summary(d)
                        + summaryRest(d);
                if (!line.equals(last)) {
                    if (json()) {
                        ObjectNode compact = d.deepCopy();
                        compact.remove("targets");
                        printJsonLine(compact);
                    } else {
                        out().println(Instant.now().toString().substring(11, 19) + "  " + line);
                        out().flush();
                    }
                    last = line;
                }
                String status = d.path("status").asText();
                if (!RUNNING.contains(status)) {
                    if (!json() && d.path("halt").isObject()) {
                        out().println("halted by " + Table.text(d.at("/halt/rule")) + ": " + Table.text(d.at("/halt/detail")));
                    }
                    return status.equals("COMPLETED") ? ExitCode.OK : ExitCode.CONFLICT;
                }
                ctx().sleep(ctx().pollInterval());
            }
        }

        private static String summaryRest(JsonNode d) {
            JsonNode s = d.path("summary");
            StringBuilder sb = new StringBuilder();
            for (String k : new String[] {"inProgress", "pending", "failed", "rolledBack", "timedOut", "cancelled"}) {
                if (s.path(k).asInt(0) > 0) {
                    sb.append(", ").append(s.path(k).asInt()).append(' ').append(k);
                }
            }
            return sb.toString();
        }
    }

    abstract static class Action extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        abstract String action();

        JsonNode body() {
            return null;
        }

        @Override
        public Integer call() {
            JsonNode r = api().post(PATH + "/" + seg(id) + "/" + action(), body());
            if (json()) {
                printJson(r);
            } else {
                print(r);
            }
            return 0;
        }

        void print(JsonNode d) {
            out().println("rollout " + d.path("id").asText(id) + ": " + d.path("status").asText() + ", " + summary(d));
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause a running rollout: no new wave, no new commands (exit 5 when it is not IN_PROGRESS).")
    static class Pause extends Action {
        @Override
        String action() {
            return "pause";
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a PAUSED rollout where it stopped.")
    static class Resume extends Action {
        @Override
        String action() {
            return "resume";
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "Halt a rollout (ABORTED): devices that activated it go back, the rest are cancelled.")
    static class Abort extends Action {
        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        String action() {
            return "abort";
        }

        @Override
        JsonNode body() {
            return reason == null ? ApiClient.JSON.createObjectNode() : ApiClient.JSON.createObjectNode().put("reason", reason);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Send every device of the rollout back to its previous model (ends ROLLED_BACK).")
    static class Rollback extends Action {
        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        String action() {
            return "rollback";
        }

        @Override
        JsonNode body() {
            return reason == null ? ApiClient.JSON.createObjectNode() : ApiClient.JSON.createObjectNode().put("reason", reason);
        }

        @Override
        void print(JsonNode r) {
            out().println("rollout " + r.path("deploymentId").asText(id) + " rolled back: " + r.path("sent").size()
                    + " rollback command(s) sent, " + r.path("cancelled").size() + " target(s) cancelled");
        }
    }
    /** No standard help mixin, as {@link Create}: {@code --version} is the model's. */
    @Command(name = "fleet",
            description = "Roll a planned model version out to the whole fleet: every device class (or the --class ones) "
                    + "gets the variant the class-variant registry holds for it, one deployment per class "
                    + "(POST /api/v1/models/NAME/versions/V/fleet-rollouts). Classes without a variant are listed as "
                    + "skipped, with the reason. Wave options as for create.")
    static class Fleet extends Base {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--model", required = true, paramLabel = "NAME")
        String model;

        @Option(names = "--version", required = true, paramLabel = "VERSION", description = "The planned (unpruned) version.")
        long version;

        @Option(names = "--class", paramLabel = "CLASS", description = "Only this class (repeatable; default: every class).")
        List<String> classIds = new ArrayList<>();

        @Mixin
        PolicyOptions policyOptions;

        @Override
        public Integer call() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (!classIds.isEmpty()) {
                classIds.forEach(body.putArray("classIds")::add);
            }
            ObjectNode policy = policyOptions.policy();
            if (!policy.isEmpty()) {
                body.set("policy", policy);
            }
            JsonNode r = api().post("/api/v1/models/" + seg(model) + "/versions/" + version + "/fleet-rollouts", body);
            if (json()) {
                printJson(r);
                return 0;
            }
            out().println("fleet rollout of " + model + ":" + version + ": " + r.path("deployments").size()
                    + " deployment(s), " + r.path("skipped").size() + " class(es) skipped");
            List<JsonNode> rows = new ArrayList<>();
            r.path("deployments").forEach(rows::add);
            r.path("skipped").forEach(rows::add);
            new Table().col("CLASS", "/classId").col("ROLLOUT", "/deploymentId")
                    .col("VARIANT", n -> n.has("version") ? model + ":" + n.path("version").asText() : "")
                    .col("CANDIDATE", "/candidate").col("TARGETS", "/targets").col("SKIPPED_BECAUSE", "/reason")
                    .print(out(), rows);
            return 0;
        }
    }
}
