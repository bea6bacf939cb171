package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.ExitCode;
import io.edgefleet.cli.Table;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Plan the compression of a model version for a device class (candidates, Pareto frontier, choice); "
                + "with --wait, follow it: 0 CHOSEN (a candidate meets every SLO), 5 NO_CHOICE, 1 FAILED or CANCELLED.")
public class PlanCommand extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "VERSION")
    long version;

    @Option(names = "--class", required = true, paramLabel = "CLASS")
    String classId;

    @Option(names = "--validation", paramLabel = "DATASET", description = "Validation dataset for the accuracy of each candidate.")
    String validation;

    @Option(names = "--calibration", paramLabel = "DATASET", description = "Calibration dataset for static recipes.")
    String calibration;

    @Option(names = "--max-candidates", paramLabel = "N", description = "Budget: at most N candidates (server default otherwise).")
    Integer maxCandidates;

    @Option(names = "--max-minutes", paramLabel = "MINUTES", description = "Budget: stop searching after this long.")
    Double maxMinutes;

    @Option(names = "--wait", description = "Follow the plan until it ends (progress bar on a terminal).")
    boolean await;

    @Override
    public Integer call() {
        ObjectNode body = ApiClient.JSON.createObjectNode().put("deviceClassId", classId);
        if (validation != null) {
            body.put("validationDataset", validation);
        }
        if (calibration != null) {
            body.put("calibrationDataset", calibration);
        }
        if (maxCandidates != null || maxMinutes != null) {
            ObjectNode budget = body.putObject("budget");
            if (maxCandidates != null) {
                budget.put("maxCandidates", maxCandidates);
            }
            if (maxMinutes != null) {
                budget.put("maxMinutes", maxMinutes);
            }
        }
        ApiClient api = api();
        JsonNode plan = api.post("/api/v1/models/" + seg(name) + "/versions/" + version + "/plans", body);
        String id = plan.path("id").asText();
        if (await) {
            plan = Waiter.await(ctx(), api, "/api/v1/plans/" + seg(id), plan, "plan " + name + ":" + version);
        }
        if (json()) {
            printJson(plan);
        } else {
            print(plan);
        }
        return await ? exitCode(plan) : ExitCode.OK;
    }

    /** The engine's plan, either the answer itself or nested under {@code plan} or {@code result}. */
    static JsonNode body(JsonNode answer) {
        for (String key : new String[] {"plan", "result"}) {
            JsonNode n = answer.path(key);
            if (n.isObject() && (n.has("candidates") || n.has("choice"))) {
                return n;
            }
        }
        return answer;
    }

    /** CHOSEN 0, NO_CHOICE 5, FAILED/CANCELLED 1; any other final status by whether the plan made a choice. */
    static int exitCode(JsonNode answer) {
        String status = answer.path("status").asText("");
        return switch (status) {
            case "CHOSEN" -> ExitCode.OK;
            case "NO_CHOICE" -> ExitCode.CONFLICT;
            case "FAILED", "CANCELLED" -> ExitCode.SERVER_ERROR;
            default -> answer.hasNonNull("choice") || body(answer).hasNonNull("choice") ? ExitCode.OK : ExitCode.CONFLICT;
        };
    }

    private void print(JsonNode answer) {
        JsonNode plan = body(answer);
        List<String[]> f = new ArrayList<>();
        f.add(new String[] {"plan", answer.path("id").asText()});
        f.add(new String[] {"status", answer.path("status").asText()});
        if (answer.hasNonNull("resultVersion")) {
            f.add(new String[] {"new version", answer.at("/base/model").asText(name) + ":" + answer.get("resultVersion").asText()});
        }
        if (plan.has("choice") || plan.has("candidates") || answer.has("choice")) {
            f.add(new String[] {"choice", Table.text(plan.hasNonNull("choice") ? plan.get("choice") : answer.get("choice"))});
            f.add(new String[] {"reason", Table.text(plan.get("reason"))});
            f.add(new String[] {"stopped because", Table.text(plan.get("stoppedBecause"))});
        }
        if (answer.hasNonNull("error")) {
            f.add(new String[] {"error", Table.text(answer.get("error"))});
        }
        if (!answer.path("id").asText("").isEmpty()) {
            f.add(new String[] {"page", "/api/v1/plans/" + answer.path("id").asText() + "/page"});
        }
        Table.printFields(out(), f);
        List<JsonNode> candidates = new ArrayList<>();
        plan.path("candidates").forEach(candidates::add);
        if (!candidates.isEmpty()) {
            out().println();
            new Table().col("CANDIDATE", "/id").col("RECIPE", "/recipe").col("STATUS", "/status")
                    .col("BYTES", n -> n.path("bytes").isNumber() ? Table.bytes(n.path("bytes").asLong()) : "")
                    .col("DEVICE_P95_MS", "/deviceP95Ms").col("ENERGY_MJ", "/energyMj")
                    .col("ACCURACY_%", "/accuracyPercent").col("DROP_PT", "/dropPoints")
                    .col("MEETS_SLOS", n -> n.path("meetsAll").asBoolean() ? "yes" : "no")
                    .col("FRONTIER", n -> n.path("onFrontier").asBoolean() ? "*" : "")
                    .print(out(), candidates);
        }
    }
}
