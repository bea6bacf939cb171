package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliException;
import io.edgefleet.cli.Table;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "devices", mixinStandardHelpOptions = true, description = "Devices and their broker credentials.",
        subcommands = {DevicesCommand.ListCmd.class, DevicesCommand.Get.class, DevicesCommand.Register.class,
                DevicesCommand.Revoke.class, DevicesCommand.Rotate.class, DevicesCommand.Events.class,
                DevicesCommand.Capture.class})
public class DevicesCommand {
    static final String PATH = "/api/v1/devices";

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List devices.")
    static class ListCmd extends Base {
        @Option(names = "--class", paramLabel = "CLASS", description = "Only devices of this class.")
        String classId;

        @Option(names = "--tag", paramLabel = "TAG", description = "Only devices carrying this tag.")
        String tag;

        @ArgGroup(exclusive = true)
        Liveness liveness;

        static class Liveness {
            @Option(names = "--online", description = "Only devices online now.")
            boolean online;

            @Option(names = "--offline", description = "Only devices offline now.")
            boolean offline;
        }

        @Override
        public Integer call() {
            Boolean online = liveness == null ? null : liveness.online;
            List<JsonNode> items = api().list(ApiClient.query(PATH, ApiClient.params("classId", classId, "tag", tag,
                    "online", online)));
            if (liveness != null) { // also here: a server without the filter ignores the parameter
                boolean wanted = liveness.online;
                items = items.stream().filter(d -> d.path("online").asBoolean() == wanted).toList();
            }
            if (json()) {
                printJson(items);
            } else {
                new Table().col("ID", "/id").col("CLASS", "/classId").col("TAGS", "/tags")
                        .col("ONLINE", n -> n.path("online").asBoolean() ? "yes" : "no")
                        .col("LAST_SEEN", n -> Table.time(n.get("lastSeen")))
                        .col("ACTIVE", n -> Table.ref(n.get("active"))).col("STANDBY", n -> Table.ref(n.get("standby")))
                        .col("AGENT", "/agentVersion")
                        .col("CREDENTIALS", n -> n.path("credentialActive").asBoolean() ? "active" : "revoked")
                        .print(out(), items);
            }
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one device with its last telemetry window.")
    static class Get extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode d = api().get(PATH + "/" + seg(id));
            if (json()) {
                printJson(d);
                return 0;
            }
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"id", Table.text(d.get("id"))});
            f.add(new String[] {"class", Table.text(d.get("classId"))});
            f.add(new String[] {"tags", Table.text(d.get("tags"))});
            f.add(new String[] {"online", d.path("online").asBoolean() ? "yes" : "no"});
            f.add(new String[] {"lastSeen", Table.time(d.get("lastSeen"))});
            f.add(new String[] {"agentVersion", Table.text(d.get("agentVersion"))});
            f.add(new String[] {"active", Table.ref(d.get("active"))});
            f.add(new String[] {"standby", Table.ref(d.get("standby"))});
            f.add(new String[] {"credentials", d.path("credentialActive").asBoolean() ? "active" : "revoked"});
            JsonNode t = d.get("lastTelemetry");
            if (t != null && t.isObject()) {
                f.add(new String[] {"lastTelemetry", TelemetryCommand.summary(t)});
            }
            f.add(new String[] {"created", Table.time(d.get("createdAt"))});
            Table.printFields(out(), f);
            return 0;
        }
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Register a device; prints its broker credentials, which the server never shows again.")
    static class Register extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--class", required = true, paramLabel = "CLASS")
        String classId;

        @Option(names = "--tag", paramLabel = "TAG", description = "A tag (repeatable).")
        List<String> tags = new ArrayList<>();

        @Override
        public Integer call() {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("id", id).put("classId", classId);
            tags.forEach(body.putArray("tags")::add);
            JsonNode r = api().post(PATH, body);
            if (json()) {
                printJson(r);
                return 0;
            }
            out().println("registered device " + r.path("id").asText() + " in class " + r.path("classId").asText());
            List<String[]> f = new ArrayList<>();
            f.add(new String[] {"mqtt url", r.at("/mqtt/url").asText()});
            f.add(new String[] {"username", r.at("/credentials/username").asText()});
            f.add(new String[] {"password", r.at("/credentials/password").asText()});
            List<String> keys = new ArrayList<>();
            r.path("serverKeys").forEach(k -> keys.add(k.asText()));
            f.add(new String[] {"server keys", String.join(",", keys)});
            Table.printFields(out(), f);
            out().println("The password is shown once: store it in the agent's configuration now.");
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a device's broker credentials (it can no longer connect).")
    static class Revoke extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode r = api().delete(PATH + "/" + seg(id) + "/credentials");
            if (json()) {
                printJson(r);
            } else {
                out().println("revoked the credentials of device " + r.path("deviceId").asText(id));
            }
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Issue new broker credentials for a device; prints them once.")
    static class Rotate extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            JsonNode r = api().post(PATH + "/" + seg(id) + "/credentials", null);
            if (json()) {
                printJson(r);
                return 0;
            }
            out().println("new credentials for device " + r.path("deviceId").asText(id));
            Table.printFields(out(), List.of(new String[] {"username", r.at("/credentials/username").asText()},
                    new String[] {"password", r.at("/credentials/password").asText()}));
            out().println("The password is shown once: store it in the agent's configuration now.");
            return 0;
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true, description = "A device's recent events, newest first.")
    static class Events extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--limit", defaultValue = "50", description = "How many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            List<JsonNode> items = api().page(ApiClient.query(PATH + "/" + seg(id) + "/events", ApiClient.params("limit", limit)))
                    .items();
            if (json()) {
                printJson(items);
            } else {
                new Table().col("TIME", n -> Table.time(n.get("ts"))).col("TYPE", "/type")
                        .col("MODEL", n -> Table.ref(n.get("model"))).col("DEPLOYMENT", "/deploymentId")
                        .col("REASON", "/reason").col("DETAIL", "/detail").print(out(), items);
            }
            return 0;
        }
    }
    @Command(name = "capture", mixinStandardHelpOptions = true,
            description = "Show a device's raw-input capture opt-in, or switch it: --on --rate R (a signed CONFIG "
                    + "command to the agent; uploads become datasets capture/CLASS/MODEL/TIME), --off (what the agent "
                    + "had not sent yet is discarded).")
    static class Capture extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @ArgGroup(exclusive = true)
        Switch sw;

        static class Switch {
            @Option(names = "--on", required = true, description = "Opt the device in (needs --rate).")
            boolean on;

            @Option(names = "--off", required = true, description = "Opt the device out.")
            boolean off;
        }

        @Option(names = "--rate", paramLabel = "R", description = "With --on: share of real inferences sampled, (0, 1].")
        Double rate;

        @Option(names = "--max-samples", paramLabel = "N", description = "With --on: most samples under this opt-in.")
        Integer maxSamples;

        @Option(names = "--max-bytes", paramLabel = "B", description = "With --on: most raw-input bytes under this opt-in.")
        Long maxBytes;

        @Override
        public Integer call() {
            String path = PATH + "/" + seg(id) + "/capture";
            boolean bounds = rate != null || maxSamples != null || maxBytes != null;
            JsonNode v;
            if (sw == null) {
                if (bounds) {
                    throw CliException.usage("--rate, --max-samples and --max-bytes go with --on");
                }
                v = api().get(path);
            } else if (sw.off) {
                if (bounds) {
                    throw CliException.usage("--off takes no --rate, --max-samples or --max-bytes");
                }
                v = api().put(path, ApiClient.JSON.createObjectNode().put("enabled", false));
            } else {
                if (rate == null) {
                    throw CliException.usage("--on needs --rate (share of inferences sampled, (0, 1])");
                }
                ObjectNode body = ApiClient.JSON.createObjectNode().put("enabled", true).put("rate", rate);
                if (maxSamples != null) {
                    body.put("maxSamples", maxSamples);
                }
                if (maxBytes != null) {
                    body.put("maxBytes", maxBytes);
                }
                v = api().put(path, body);
            }
            if (json()) {
                printJson(v);
            } else {
                out().println("device " + v.path("deviceId").asText() + ": capture " + (v.path("enabled").asBoolean()
                        ? "on, rate " + Table.text(v.get("rate")) + ", at most " + Table.text(v.get("maxSamples"))
                        + " samples / " + Table.bytes(v.path("maxBytes").asLong()) : "off")
                        + "; received " + Table.text(v.get("samplesReceived")) + " samples ("
                        + Table.bytes(v.path("bytesReceived").asLong()) + ")"
                        + (v.path("datasets").isEmpty() ? "" : "; datasets " + Table.text(v.get("datasets"))));
            }
            return 0;
        }
    }
}
