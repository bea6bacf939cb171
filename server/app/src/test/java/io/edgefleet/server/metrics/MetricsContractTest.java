package io.edgefleet.server.metrics;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.server.alert.AlertMetric;
import io.edgefleet.server.alert.AlertRuleService;
import io.edgefleet.server.alert.AlertRule;
import io.edgefleet.server.rollout.DeploymentEntity;
import io.edgefleet.server.rollout.DeploymentStatus;
import io.edgefleet.server.rollout.DeploymentTargetEntity;
import io.edgefleet.server.rollout.TargetState;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.edgefleet.server.telemetry.TelemetryView;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

/**
 * The shipped Prometheus rules and Grafana dashboard parse, and every edgefleet metric they name is on
 * {@code /q/metrics} of this server; {@code promtool check rules} runs too when promtool is installed.
 * Also: no series carries a per-device label, and every alert has its runbook page.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class MetricsContractTest {
    static final Path REPO = Path.of("").toAbsolutePath().getParent().getParent();
    static final Path RULES = REPO.resolve("deploy/prometheus/edgefleet-rules.yml");
    static final Path DASHBOARD = REPO.resolve("deploy/grafana/dashboards/edgefleet.json");
    static final Path SCRAPE_CONFIG = REPO.resolve("deploy/prometheus/prometheus.yml");
    static final Path DATASOURCES = REPO.resolve("deploy/grafana/provisioning/datasources");
    /** Series Prometheus makes itself, not the server. */
    static final Set<String> PROMETHEUS_OWN = Set.of("up");
    static final Pattern METRIC = Pattern.compile("\\b(edgefleet_[a-z0-9_]+)");

    @Inject
    FleetMetrics metrics;

    @Inject
    Session session;

    @Test
    void rulesAndDashboardNameOnlyMetricsTheServerExposes() throws Exception {
        fillFleet();
        metrics.refresh(System.currentTimeMillis() + 2 * FleetMetrics.COMMIT_LAG_MS);
        String exposition = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Set<String> exposed = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                exposed.add(line.split("[{ ]", 2)[0]);
            }
        }
        for (String line : exposition.split("\n")) {
            if (line.startsWith("edgefleet_")) {
                assertFalse(line.contains("device=\""), "no per-device series: " + line);
            }
        }

        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode rules = yaml.readTree(RULES.toFile());
        List<String> exprs = new ArrayList<>();
        Set<String> alertNames = new TreeSet<>();
        for (JsonNode group : rules.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                exprs.add(rule.get("expr").asText());
                String alert = rule.get("alert").asText();
                alertNames.add(alert);
                assertTrue(rule.get("annotations").get("runbook_url").asText().endsWith("docs/runbooks/" + alert + ".md"),
                        alert + " links its runbook");
            }
        }
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertEquals("edgefleet-fleet", dashboard.get("uid").asText());
        assertTrue(dashboard.get("panels").size() >= 10);
        // Every panel and variable queries the data source the provisioning files create.
        Set<String> provisioned = new TreeSet<>();
        try (var files = Files.list(DATASOURCES)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml")).toList()) {
                yaml.readTree(f.toFile()).get("datasources").forEach(d -> provisioned.add(d.get("uid").asText()));
            }
        }
        assertTrue(!provisioned.isEmpty(), "a provisioned data source in " + DATASOURCES);
        for (JsonNode panel : dashboard.get("panels")) {
            assertTrue(panel.has("targets") && panel.get("targets").size() > 0, "a panel without queries: " + panel.path("title"));
            assertTrue(provisioned.contains(panel.path("datasource").path("uid").asText()),
                    panel.path("title") + " uses a data source the provisioning does not create: " + panel.path("datasource"));
            for (JsonNode target : panel.get("targets")) {
                exprs.add(target.get("expr").asText());
            }
        }
        dashboard.get("templating").get("list").forEach(v -> assertTrue(
                provisioned.contains(v.path("datasource").path("uid").asText()), "variable " + v.path("name")));
        dashboard.get("templating").get("list").forEach(v -> exprs.add(v.get("definition").asText()));

        Set<String> named = new TreeSet<>();
        for (String expr : exprs) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                named.add(m.group(1));
            }
            assertTrue(METRIC.matcher(expr).find() || PROMETHEUS_OWN.stream().anyMatch(expr::contains),
                    "an expression without an edgefleet metric: " + expr);
        }
        Set<String> missing = new TreeSet<>(named);
        missing.removeAll(exposed);
        assertEquals(Set.of(), missing, "named by the rules/dashboard but not on /q/metrics; exposed: " + exposed);
        assertTrue(named.size() >= 15, named.toString());

        // One runbook per alert: the Prometheus rules' and the server's built-in rules'.
        for (AlertRule r : AlertRuleService.builtins()) {
            alertNames.add(r.name());
        }
        for (AlertMetric m : AlertMetric.values()) {
            alertNames.add(m.defaultName());
        }
        for (String alert : alertNames) {
            assertTrue(Files.isRegularFile(REPO.resolve("docs/runbooks/" + alert + ".md")), "runbook of " + alert);
        }
        promtool();
    }

    /** {@code promtool check rules} when installed (CI installs it); skipped silently otherwise. */
    private static void promtool() throws IOException, InterruptedException {
        Path promtool = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "promtool");
            if (Files.isExecutable(p)) {
                promtool = p;
                break;
            }
        }
        if (promtool == null) {
            System.out.println("promtool not installed: `promtool check rules` skipped");
            return;
        }
        for (List<String> check : List.of(List.of("check", "rules", RULES.toString()),
                // the scrape config as shipped, with the rule files it names (resolved beside it)
                List.of("check", "config", SCRAPE_CONFIG.toString()))) {
            List<String> cmd = new ArrayList<>(List.of(promtool.toString()));
            cmd.addAll(check);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool hung");
            assertEquals(0, p.exitValue(), "promtool " + String.join(" ", check) + ": " + out);
        }
    }

    /** A class, a device, a window with every figure, and a rolled-back deployment target: every series has a row. */
    private void fillFleet() {
        java.util.Map<String, Object> cls = new java.util.HashMap<>(Api.deviceClass("mx-gw"));
        cls.put("slo", java.util.Map.of("p95LatencyMs", 40.0, "maxModelBytes", 10_000_000, "maxEnergyMj", 5.0));
        Api.json().body(cls).post("/api/v1/device-classes").then().statusCode(201);
        Api.registerDevice("mx-1", "mx-gw");
        long now = System.currentTimeMillis();
        TelemetryWindow w = new TelemetryWindow(1, "mx-1-1", now, "mx-1", 1, now - 10_000, now,
                new ModelRef("m", 1, "0".repeat(64)), 100, 2, new LatencyStats(5, 10, 12, 20, 6), 3.0, 0.1, 0, false);
        QuarkusTransaction.requiringNew().run(() -> {
            session.persist(TelemetryView.toEntity(w, now));
            DeploymentEntity d = new DeploymentEntity();
            d.id = "mx-dep";
            d.modelName = "m";
            d.modelVersion = 1;
            d.sha256 = "0".repeat(64);
            d.size = 1;
            d.targetClassId = "mx-gw";
            d.status = DeploymentStatus.ROLLED_BACK;
            d.healthMaxErrorRate = 0.05;
            d.healthWindows = 3;
            d.healthMinInferences = 1;
            d.createdAt = now;
            d.updatedAt = now;
            session.persist(d);
            DeploymentTargetEntity t = new DeploymentTargetEntity();
            t.deploymentId = d.id;
            t.deviceId = "mx-1";
            t.classId = "mx-gw";
            t.state = TargetState.ROLLED_BACK;
            t.updatedAt = now;
            session.persist(t);
        });
    }
}
