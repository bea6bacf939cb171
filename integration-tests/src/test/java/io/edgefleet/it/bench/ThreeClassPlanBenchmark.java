package io.edgefleet.it.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.engine.planner.FittedCostModel;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Repo;
import io.edgefleet.it.TestModels;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Issue 15's planner figures with the real server and real agents, one command (after the README's build, or
 * {@code ./mvnw -B -q -pl server/app -am package -DskipTests}):
 * <pre>./mvnw -B -q -pl integration-tests -am -Pbench-three-class process-test-classes</pre>
 * Three classes (an int8-only board with a byte budget 28 % of the float model, a float gateway with a p95 SLO the
 * float model misses, a fast box with loose SLOs; two agents each, the board and gateway emulating slower hardware
 * with the agent's speed factor that their classes declare as latency scale) and {@code digits-resnet} with its
 * calibration and validation data from the shared fixtures. It prints:
 * <ol>
 *   <li>per class: the plan's choice, every SLO's value against its limit and its margin, candidates built, why the
 *       search stopped, and the planning time;</li>
 *   <li>the latency model's error against device measurements: every distinct chosen artifact (the float model and
 *       the classes' variants) is BENCHMARKed on two devices of each class; per class, the fitted line's error on
 *       the reports it was fitted on, its error on each artifact left out of the fit (fitted on the others), and the
 *       declared profile's error (latency scale x server p95) on the same reports: both sides in one run. The fitted
 *       line scales the server's median (device p95 = a x server p50 + b), as the server's own fit does.</li>
 * </ol>
 * System properties: {@code bench.digits} (fixture directory), {@code bench.latencyRuns} (30), {@code bench.seconds}
 * (device benchmark duration, 3). Skips (exit 0) without the fixtures.
 */
public final class ThreeClassPlanBenchmark {
    static final String MODEL = "digits-resnet";
    static final Duration PLAN_TIMEOUT = Duration.ofMinutes(20);
    static final Duration BENCH_TIMEOUT = Duration.ofMinutes(4);

    private ThreeClassPlanBenchmark() {
    }

    record ClassSpec(String id, List<String> precisions, double scale, double idleW, double activeW, double p95Ms,
            long maxBytes, Double maxEnergyMj, boolean fp16) {
    }

    public static void main(String[] args) throws Exception {
        Path dir = System.getProperty("bench.digits") != null ? Path.of(System.getProperty("bench.digits"))
                : Repo.root().resolve("../shared/fixtures/digits").normalize();
        if (!Files.exists(dir.resolve("digits-resnet.onnx"))) {
            dir = Path.of("/work/shared/fixtures/digits");
        }
        Path modelFile = dir.resolve("digits-resnet.onnx");
        if (!Files.exists(modelFile) || !Files.exists(dir.resolve("digits-resnet-validation.npz"))) {
            System.out.println("digits-resnet fixtures not found under " + dir + "; skipped");
            return;
        }
        int latencyRuns = Integer.getInteger("bench.latencyRuns", 30);
        int seconds = Integer.getInteger("bench.seconds", 3);
        byte[] model = Files.readAllBytes(modelFile);
        byte[] calib = Files.readAllBytes(dir.resolve("digits-resnet-calibration.npz"));
        byte[] valid = Files.readAllBytes(dir.resolve("digits-resnet-validation.npz"));
        NpyArray x = Npz.read(dir.resolve("digits-resnet-validation.npz")).get("input");
        long[] one = x.shape().clone();
        one[0] = 1;
        float[] first = Arrays.copyOf(x.toFloats(), (int) (x.elementCount() / x.shape()[0]));
        double[] p50s = new double[3];
        for (int i = 0; i < p50s.length; i++) {
            p50s[i] = TestModels.medianLatencyMs(model, "input", one, first, latencyRuns);
        }
        Arrays.sort(p50s);
        double floatP50 = p50s[1];
        List<ClassSpec> classes = List.of(
                new ClassSpec("int8-board", List.of("int8"), 4, 0.4, 1.2, 500, model.length * 28L / 100, 200.0, false),
                // 0.8 x the float model's own p50 x the scale: its p95 (above its p50) misses on any machine
                new ClassSpec("gateway", List.of("fp32"), 2, 2.0, 6.0, 0.8 * floatP50 * 2, 64L << 20, null, false),
                new ClassSpec("fast-box", List.of("fp32", "fp16", "int8"), 1, 10.0, 30.0, 100, 256L << 20, 1000.0,
                        true));
        System.out.printf(Locale.ROOT, "digits-resnet: %d bytes, batch-1 p50 %.3f ms here, %d latency runs per "
                + "candidate, %d cores, load average at start %s%n", model.length, floatP50, latencyRuns,
                Runtime.getRuntime().availableProcessors(), loadAverage());

        try (Fleet fleet = Fleet.start("three-class-bench")) {
            Api api = fleet.api();
            Map<String, List<String>> devices = new LinkedHashMap<>();
            for (ClassSpec c : classes) {
                api.post("/api/v1/device-classes", classBody(c)).expect(201);
                List<String> ids = List.of(c.id() + "-1", c.id() + "-2");
                devices.put(c.id(), ids);
                for (Fleet.Device d : fleet.register(c.id(), ids.toArray(String[]::new))) {
                    fleet.startAgent(d, b -> b.telemetryWindowSeconds(5).inferenceIntervalMs(200)
                            .speedFactor(c.scale()));
                }
            }
            long base = api.uploadModel(MODEL, model).path("version").asLong();
            api.postRaw("/api/v1/datasets/digits-calib", "application/octet-stream", calib).expect(201);
            api.postRaw("/api/v1/datasets/digits-valid", "application/octet-stream", valid).expect(201);

            // 1. planning, one class at a time so each plan's time is its own
            System.out.println();
            System.out.println("| class | choice | SLOs: value / limit (margin) | candidates built | stopped | "
                    + "planning s |");
            System.out.println("|---|---|---|---|---|---|");
            Map<String, Long> variants = new LinkedHashMap<>();
            for (ClassSpec c : classes) {
                ObjectNode req = Api.JSON.createObjectNode().put("deviceClassId", c.id())
                        .put("validationDataset", "digits-valid").put("calibrationDataset", "digits-calib");
                req.putObject("budget").put("maxCandidates", 12).put("maxMinutes", 30).put("latencyRuns", latencyRuns);
                String id = api.post("/api/v1/models/" + MODEL + "/versions/" + base + "/plans", req).expect(202)
                        .path("id").asText();
                JsonNode[] p = new JsonNode[1];
                Await.until(PLAN_TIMEOUT, "plan for " + c.id(), () -> {
                    p[0] = api.get("/api/v1/plans/" + id).expect(200);
                    return Set.of("CHOSEN", "NO_CHOICE", "FAILED", "CANCELLED").contains(p[0].path("status").asText());
                }, () -> String.valueOf(p[0]));
                JsonNode plan = p[0].path("plan");
                String choice = plan.path("choice").asText("none");
                String slos = "";
                for (JsonNode cand : plan.path("candidates")) {
                    if (cand.path("id").asText().equals(plan.path("choice").asText())) {
                        slos = margins(cand);
                    }
                }
                if (p[0].hasNonNull("resultVersion")) {
                    variants.put(c.id(), p[0].path("resultVersion").asLong());
                }
                System.out.printf(Locale.ROOT, "| %s | `%s` | %s | %d | %s | %.1f |%n", c.id(), choice,
                        slos.isEmpty() ? p[0].path("status").asText() + " " + plan.path("closest") : slos,
                        plan.path("candidates").size(), plan.path("stoppedBecause").asText(),
                        plan.path("seconds").asDouble());
            }

            // 2. device measurements of every distinct chosen artifact on every class, and the fit's error
            Map<String, Long> artifacts = new LinkedHashMap<>();
            artifacts.put("float (v" + base + ")", base);
            for (var e : variants.entrySet()) {
                if (!artifacts.containsValue(e.getValue())) {
                    artifacts.put(e.getKey() + " variant (v" + e.getValue() + ")", e.getValue());
                }
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "device benchmarks: %d artifacts x %d classes, 2 devices each, %d s each%n",
                    artifacts.size(), classes.size(), seconds);
            System.out.println("| class | artifact | server p50 ms | server p95 ms | device p50 ms | device p95 ms | declared p95 ms "
                    + "(error) | fitted on all p95 ms (error) | fitted without it p95 ms (error) |");
            System.out.println("|---|---|---|---|---|---|---|---|---|");
            List<String> summary = new ArrayList<>();
            for (ClassSpec c : classes) {
                List<FittedCostModel.Observation> obs = new ArrayList<>();
                Map<String, String> labels = new LinkedHashMap<>();
                List<Double> obsP50 = new ArrayList<>();
                List<Double> obsServerP95 = new ArrayList<>();
                for (var a : artifacts.entrySet()) {
                    ObjectNode req = Api.JSON.createObjectNode().put("model", MODEL).put("version", a.getValue())
                            .put("devices", 2).put("seconds", seconds);
                    String job = api.post("/api/v1/device-classes/" + c.id() + "/benchmarks", req).expect(202)
                            .path("id").asText();
                    JsonNode[] j = new JsonNode[1];
                    Await.until(BENCH_TIMEOUT, "benchmark " + a.getKey() + " on " + c.id(), () -> {
                        j[0] = api.get("/api/v1/device-classes/" + c.id() + "/benchmarks/" + job).expect(200);
                        return !"RUNNING".equals(j[0].path("status").asText());
                    }, () -> String.valueOf(j[0]));
                    String sha = j[0].path("sha256").asText();
                    labels.put(sha, a.getKey());
                    for (JsonNode r : j[0].path("results")) {
                        if ("COMPLETED".equals(r.path("status").asText())) {
                            obs.add(new FittedCostModel.Observation(sha, j[0].path("serverP50Ms").asDouble(),
                                    r.path("p95Ms").asDouble(), r.path("meanMs").asDouble(), r.hasNonNull("energyMj")
                                            ? r.path("energyMj").asDouble() : null));
                            obsP50.add(r.path("p50Ms").asDouble());
                            obsServerP95.add(j[0].path("serverP95Ms").asDouble());
                        }
                    }
                }
                FittedCostModel all = FittedCostModel.fit(c.id(), obs);
                // the same reports regressed on the server's p95 instead (the basis before session 12), beside it
                List<FittedCostModel.Observation> byP95 = new ArrayList<>();
                for (int i = 0; i < obs.size(); i++) {
                    FittedCostModel.Observation o = obs.get(i);
                    byP95.add(new FittedCostModel.Observation(o.artifactSha256(), obsServerP95.get(i), o.deviceP95Ms(),
                            o.deviceMeanMs(), o.deviceEnergyMj()));
                }
                FittedCostModel allP95 = FittedCostModel.fit(c.id(), byP95);
                double declaredErr = 0;
                double heldOutErr = 0;
                double heldOutP95Err = 0;
                int heldOutN = 0;
                for (String sha : new LinkedHashSet<>(labels.keySet())) {
                    List<FittedCostModel.Observation> mine = obs.stream().filter(o -> o.artifactSha256().equals(sha))
                            .toList();
                    List<FittedCostModel.Observation> rest = obs.stream().filter(o -> !o.artifactSha256().equals(sha))
                            .toList();
                    FittedCostModel without = rest.isEmpty() ? null : FittedCostModel.fit(c.id(), rest);
                    List<FittedCostModel.Observation> restP95 = byP95.stream()
                            .filter(o -> !o.artifactSha256().equals(sha)).toList();
                    FittedCostModel withoutP95 = restP95.isEmpty() ? null : FittedCostModel.fit(c.id(), restP95);
                    for (FittedCostModel.Observation o : mine) {
                        // the declared profile scales the server's p95; the fit, the server's median
                        double serverP95 = obsServerP95.get(obs.indexOf(o));
                        double declared = c.scale() * serverP95;
                        double fitted = all.p95().apply(o.serverP50Ms());
                        double held = without == null ? Double.NaN : without.p95().apply(o.serverP50Ms());
                        declaredErr += err(declared, o.deviceP95Ms());
                        if (without != null) {
                            heldOutErr += err(held, o.deviceP95Ms());
                            heldOutP95Err += err(withoutP95.p95().apply(serverP95), o.deviceP95Ms());
                            heldOutN++;
                        }
                        System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f (%.1f %%) | %.3f (%.1f %%) | "
                                + "%.3f (%.1f %%) |%n", c.id(), labels.get(sha), o.serverP50Ms(), serverP95,
                                obsP50.get(obs.indexOf(o)), o.deviceP95Ms(), declared, err(declared, o.deviceP95Ms()), fitted,
                                err(fitted, o.deviceP95Ms()), held, err(held, o.deviceP95Ms()));
                    }
                }
                JsonNode served = api.get("/api/v1/device-classes/" + c.id() + "/cost-model").expect(200);
                summary.add(String.format(Locale.ROOT, "%s: %d reports over %d artifacts; p95 line %.3f x server p50 "
                        + "%+.3f ms; error: fitted %.1f %% (server's own fit: %s), each artifact left out %.1f %%, "
                        + "declared scale %.1f %%; the same reports on the server's p95 (the old basis): fitted %.1f %%, "
                        + "each artifact left out %.1f %%", c.id(), obs.size(), labels.size(), all.p95().scale(),
                        all.p95().offset(), all.latencyErrorPercent(), served.path("summary").asText(),
                        heldOutN == 0 ? Double.NaN : heldOutErr / heldOutN, declaredErr / obs.size(),
                        allP95.latencyErrorPercent(), heldOutN == 0 ? Double.NaN : heldOutP95Err / heldOutN));
            }
            System.out.println();
            summary.forEach(System.out::println);
            System.out.println("load average at the end: " + loadAverage());
        }
    }

    static ObjectNode classBody(ClassSpec c) {
        ObjectNode body = Api.JSON.createObjectNode().put("id", c.id()).put("arch", "x86_64").put("cores", 2)
                .put("ramMb", 1024).put("storageMb", 4096).put("latencyScale", c.scale());
        if (c.fp16()) {
            body.put("fp16Arithmetic", true);
        }
        ArrayNode p = body.putArray("precisions");
        c.precisions().forEach(p::add);
        body.putObject("power").put("idleWatts", c.idleW()).put("activeWatts", c.activeW());
        ObjectNode slo = body.putObject("slo").put("p95LatencyMs", c.p95Ms()).put("maxModelBytes", c.maxBytes());
        if (c.maxEnergyMj() != null) {
            slo.put("maxEnergyMj", c.maxEnergyMj());
        }
        body.putObject("accuracyBudget").put("overallPoints", 1.0).put("cohortPoints", 2.0);
        return body;
    }

    /** Each SLO of a candidate: value / limit and the margin (1 - value / limit). */
    static String margins(JsonNode candidate) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : candidate.path("slos")) {
            if (!s.hasNonNull("value")) {
                out.add(s.path("slo").asText() + " " + s.path("verdict").asText());
                continue;
            }
            double v = s.path("value").asDouble();
            double l = s.path("limit").asDouble();
            out.add(String.format(Locale.ROOT, "%s %s / %s (%.0f %%)", s.path("slo").asText(), num(v), num(l),
                    100 * (1 - v / l)));
        }
        return String.join("; ", out);
    }

    static String num(double v) {
        return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    static double err(double predicted, double measured) {
        return 100 * Math.abs(predicted - measured) / measured;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
