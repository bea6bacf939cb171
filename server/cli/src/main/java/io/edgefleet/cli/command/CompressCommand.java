package io.edgefleet.cli.command;

import static io.edgefleet.cli.ApiClient.seg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.ExitCode;
import io.edgefleet.cli.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Start a compression job on a model version; with --wait, follow it and exit by its outcome "
                + "(0 SUCCEEDED, 5 REJECTED by the gate, 1 FAILED or CANCELLED).")
public class CompressCommand extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "VERSION")
    long version;

    @Option(names = "--recipe", required = true, paramLabel = "RECIPE", description = "e.g. dynamic-int8, static-int8-minmax, prune-magnitude.")
    String recipe;

    @Option(names = "--calibration", paramLabel = "DATASET", description = "Calibration dataset (recipes that need one).")
    String calibration;

    @Option(names = "--validation", paramLabel = "DATASET", description = "Validation dataset for the accuracy gate.")
    String validation;

    @Option(names = "--class", paramLabel = "CLASS", description = "Device class whose budget and limits apply.")
    String classId;

    @Option(names = "--param", paramLabel = "KEY=VALUE", description = "A recipe parameter (repeatable).")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--budget-overall", paramLabel = "POINTS", description = "Allowed overall accuracy drop, percentage points.")
    Double budgetOverall;

    @Option(names = "--budget-cohort", paramLabel = "POINTS", description = "Allowed per-cohort accuracy drop, percentage points.")
    Double budgetCohort;

    @Option(names = "--wait", description = "Follow the job until it ends (progress bar on a terminal).")
    boolean await;

    @Override
    public Integer call() {
        ObjectNode body = ApiClient.JSON.createObjectNode().put("recipe", recipe);
        if (calibration != null) {
            body.put("calibrationDataset", calibration);
        }
        if (validation != null) {
            body.put("validationDataset", validation);
        }
        if (classId != null) {
            body.put("deviceClassId", classId);
        }
        if (budgetOverall != null || budgetCohort != null) {
            body.putObject("budget").put("overallPoints", budgetOverall == null ? budgetCohort : budgetOverall)
                    .put("cohortPoints", budgetCohort == null ? budgetOverall : budgetCohort);
        }
        if (!params.isEmpty()) {
            ObjectNode p = body.putObject("params");
            params.forEach(p::put);
        }
        ApiClient api = api();
        JsonNode job = api.post("/api/v1/models/" + seg(name) + "/versions/" + version + "/compressions", body);
        String id = job.path("id").asText();
        if (!await) {
            if (json()) {
                printJson(job);
            } else {
                out().println("compression job " + id + " " + job.path("status").asText() + " (GET /api/v1/compression-jobs/"
                        + id + "; --wait follows a job to its end)");
            }
            return 0;
        }
        job = Waiter.await(ctx(), api, "/api/v1/compression-jobs/" + seg(id), job, "compress " + name + ":" + version);
        if (json()) {
            printJson(job);
        } else {
            printOutcome(job);
        }
        return exitCode(job.path("status").asText());
    }

    static int exitCode(String status) {
        return switch (status) {
            case "SUCCEEDED" -> ExitCode.OK;
            case "REJECTED" -> ExitCode.CONFLICT;
            default -> ExitCode.SERVER_ERROR;
        };
    }

    private void printOutcome(JsonNode job) {
        List<String[]> f = new ArrayList<>();
        f.add(new String[] {"job", job.path("id").asText()});
        f.add(new String[] {"status", job.path("status").asText()});
        f.add(new String[] {"recipe", job.path("recipe").asText()});
        JsonNode result = job.path("result");
        if (result.hasNonNull("version")) {
            f.add(new String[] {"new version", job.at("/base/model").asText(name) + ":" + result.path("version").asText()});
        }
        JsonNode gate = result.path("gate");
        if (gate.isObject()) {
            f.add(new String[] {"gate", gate.path("passed").asBoolean() ? "passed" : "rejected"});
            if (gate.hasNonNull("reason")) {
                f.add(new String[] {"gate reason", Table.text(gate.get("reason"))});
            }
        }
        JsonNode report = result.path("report");
        if (report.isObject()) {
            JsonNode acc = report.path("accuracy");
            if (acc.hasNonNull("dropPoints")) {
                f.add(new String[] {"accuracy drop", Table.text(acc.get("dropPoints")) + " pt"});
            }
        }
        if (job.hasNonNull("error")) {
            f.add(new String[] {"error", job.path("error").asText()});
        }
        f.add(new String[] {"report", "/api/v1/compression-jobs/" + job.path("id").asText() + "/report.html"});
        Table.printFields(out(), f);
    }
}
