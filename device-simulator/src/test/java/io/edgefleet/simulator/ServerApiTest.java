package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServerApiTest {
    static final String KEY = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";

    final StubServer stub;
    final ServerApi api;

    ServerApiTest() throws Exception {
        stub = new StubServer();
        api = new ServerApi(stub.url(), "tok-123");
    }

    @AfterEach
    void tearDown() {
        stub.close();
    }

    static String registered(String id) {
        return "{\"id\":\"" + id + "\",\"classId\":\"gw\",\"tags\":[\"sim\"],\"online\":false,\"createdAt\":1,"
                + "\"credentials\":{\"username\":\"" + id + "\",\"password\":\"pw-" + id + "\"},"
                + "\"mqtt\":{\"url\":\"tcp://127.0.0.1:1883\"},\"serverKeys\":[\"" + KEY + "\"]}";
    }

    @Test
    void registerSendsTheBodyAndTokenAndReadsTheCredentials() throws Exception {
        stub.on("POST /api/v1/devices", 201, registered("sim-0001"));
        ServerApi.Registration r = api.registerDevice("sim-0001", "gw", List.of("sim"));
        assertEquals(new ServerApi.Registration("sim-0001", "sim-0001", "pw-sim-0001", "tcp://127.0.0.1:1883", List.of(KEY)), r);
        StubServer.Request req = stub.requests.get(0);
        assertEquals("Bearer tok-123", req.authorization());
        assertEquals("application/json", req.contentType());
        JsonNode body = new ObjectMapper().readTree(req.body());
        assertEquals("sim-0001", body.get("id").asText());
        assertEquals("gw", body.get("classId").asText());
        assertEquals("sim", body.get("tags").get(0).asText());
        assertEquals(3, body.size(), "exactly the fields the server accepts: " + body);
    }

    @Test
    void serverErrorsCarryTheServersCodeAndMessage() {
        stub.on("POST /api/v1/devices", 400,
                "{\"error\":\"UNKNOWN_DEVICE_CLASS\",\"message\":\"device class 'nope' does not exist\"}");
        ApiException e = assertThrows(ApiException.class, () -> api.registerDevice("d", "nope", List.of()));
        assertEquals(400, e.status());
        assertEquals("UNKNOWN_DEVICE_CLASS", e.code());
        assertEquals("POST /api/v1/devices failed: HTTP 400 UNKNOWN_DEVICE_CLASS: device class 'nope' does not exist",
                e.getMessage());
    }

    @Test
    void unauthorizedHintsAtTheTokenAndNonJsonErrorsAreQuoted() {
        stub.on("GET /api/v1/broker", 401, "{\"error\":\"UNAUTHORIZED\",\"message\":\"missing or wrong bearer token\"}");
        assertTrue(assertThrows(ApiException.class, api::broker).getMessage().endsWith("(check --token)"));
        stub.on("GET /api/v1/models/m/versions", 502, "<html>Bad Gateway</html>");
        ApiException e = assertThrows(ApiException.class, () -> api.modelVersions("m"));
        assertTrue(e.getMessage().contains("HTTP 502 <html>Bad Gateway</html>"), e.getMessage());
        assertNull(e.code());
    }

    @Test
    void unreachableServerIsNamed() {
        ServerApi dead = new ServerApi(URI.create("http://127.0.0.1:1"), "t");
        ApiException e = assertThrows(ApiException.class, dead::broker);
        assertEquals(0, e.status());
        assertTrue(e.getMessage().contains("cannot connect to http://127.0.0.1:1"), e.getMessage());
        assertFalse(dead.ready());
    }

    @Test
    void createClassToleratesAnExistingOne() throws Exception {
        stub.on("POST /api/v1/device-classes", 201, "{}");
        assertTrue(api.createDeviceClass(SimulatorMain.deviceClass("gw", 50)));
        stub.on("POST /api/v1/device-classes", 409, "{\"error\":\"CONFLICT\",\"message\":\"exists\"}");
        assertFalse(api.createDeviceClass(SimulatorMain.deviceClass("gw", 50)));
        JsonNode sent = new ObjectMapper().readTree(stub.requests.get(0).body());
        assertEquals(50.0, sent.at("/slo/p95LatencyMs").asDouble());
        assertEquals(6.0, sent.at("/power/activeWatts").asDouble());
        assertEquals("x86_64", sent.get("arch").asText());
    }

    @Test
    void readsBrokerVersionsDeploymentsAndDevices() {
        stub.on("GET /api/v1/broker", 200, "{\"url\":\"tcp://127.0.0.1:40001\",\"embedded\":true,\"connected\":true}");
        stub.on("GET /api/v1/models/demo-classifier/versions", 200, "[{\"version\":2},{\"version\":1},{\"version\":10}]");
        stub.on("POST /api/v1/deployments", 202, "{\"id\":\"dep-1\",\"model\":\"demo-classifier\",\"version\":10,"
                + "\"status\":\"IN_PROGRESS\",\"targets\":[{},{},{}],\"summary\":{\"pending\":3,\"inProgress\":0,"
                + "\"committed\":0,\"rolledBack\":0,\"failed\":0}}");
        stub.on("GET /api/v1/devices?classId=gw&limit=1000", 200, "[{\"id\":\"a\",\"online\":true,\"active\":{\"model\":\"m\",\"version\":1,"
                + "\"sha256\":\"" + "a".repeat(64) + "\"},\"lastTelemetry\":{\"latency\":{\"p50\":1.0,\"p95\":2.5},\"energyMj\":3.0}},"
                + "{\"id\":\"b\",\"online\":false,\"active\":null,\"lastTelemetry\":null}]");

        assertEquals(new ServerApi.Broker("tcp://127.0.0.1:40001", true), api.broker());
        assertEquals(List.of(1L, 2L, 10L), api.modelVersions("demo-classifier"));
        ServerApi.Deployment d = api.createDeployment("demo-classifier", 10, "gw");
        assertEquals("dep-1", d.id());
        assertEquals(3, d.targets());
        assertFalse(d.summary().finished());
        List<ServerApi.Device> devices = api.devices("gw");
        assertEquals(2.5, devices.get(0).p95());
        assertEquals(1, devices.get(0).active().version());
        assertNull(devices.get(1).p95());
        assertNull(devices.get(1).active());
    }

    @Test
    void readsLoopsWithTheirNewestNoteAndCanaryDeployment() {
        stub.on("GET /api/v1/loops?classId=sim-loop-board", 200, "[{\"id\":\"l-2\",\"state\":\"PLANNING\","
                + "\"strategy\":\"RECALIBRATE\",\"reason\":\"drift\",\"history\":[{\"note\":\"alert fired\"},"
                + "{\"note\":\"re-plan submitted\"}],\"alertFiredAt\":5},{\"id\":\"l-1\",\"state\":\"PROMOTED\","
                + "\"reason\":\"drift\",\"history\":[],\"resultVersion\":4,\"deploymentId\":\"dep-loop-1\",\"finishedAt\":9}]");
        List<ServerApi.Loop> loops = api.loops("sim-loop-board");
        assertEquals(new ServerApi.Loop("l-2", "PLANNING", "RECALIBRATE", "re-plan submitted", null, 5L, null, null, null),
                loops.get(0));
        assertEquals(new ServerApi.Loop("l-1", "PROMOTED", null, "drift", 4L, null, null, 9L, "dep-loop-1"), loops.get(1));
    }

    @Test
    void sendsAWavePolicyReadsWavesAndListsFiringAlerts() throws Exception {
        stub.on("POST /api/v1/deployments", 202, "{\"id\":\"dep-2\",\"model\":\"m\",\"version\":2,\"status\":\"IN_PROGRESS\","
                + "\"targets\":[{},{}],\"summary\":{\"pending\":2},\"waves\":{\"current\":1,\"count\":2}}");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var policy = json.createObjectNode();
        policy.putObject("canary").put("count", 1);
        ServerApi.Deployment d = api.createDeployment("m", 2, "gw", policy, json.createObjectNode().put("windows", 1));
        assertEquals(1, d.waveCurrent());
        assertEquals(2, d.waveCount());
        var sent = json.readTree(stub.requests("POST", "/api/v1/deployments").get(0).body());
        assertEquals(1, sent.at("/policy/canary/count").asInt());
        assertEquals(1, sent.at("/health/windows").asInt());

        stub.on("GET /api/v1/alerts?state=FIRING", 200, "[{\"id\":4,\"rule\":\"demo-drift-b\",\"name\":\"EdgefleetDriftHigh\","
                + "\"state\":\"FIRING\",\"severity\":\"warning\",\"labels\":{\"class\":\"b\"},\"value\":0.5,"
                + "\"threshold\":0.2,\"firedAt\":9}]");
        List<ServerApi.Alert> alerts = api.firingAlerts();
        assertEquals(List.of(new ServerApi.Alert(4, "demo-drift-b", "EdgefleetDriftHigh", "warning",
                java.util.Map.of("class", "b"), 0.5, 0.2, 9L)), alerts);
    }

    @Test
    void devicesFollowsTheCursorThroughEveryPage() {
        stub.on("GET /api/v1/devices?classId=gw&limit=1000", r -> new StubServer.Answer(200,
                "[{\"id\":\"a\",\"online\":true},{\"id\":\"b\",\"online\":true}]", Map.of("X-Next-Cursor", "c1")));
        stub.on("GET /api/v1/devices?classId=gw&limit=1000&cursor=c1", r -> new StubServer.Answer(200,
                "[{\"id\":\"c\",\"online\":false}]", Map.of("X-Next-Cursor", "c2")));
        stub.on("GET /api/v1/devices?classId=gw&limit=1000&cursor=c2", 200, "[{\"id\":\"d\",\"online\":true}]");

        assertEquals(List.of("a", "b", "c", "d"), api.devices("gw").stream().map(ServerApi.Device::id).toList());
        assertEquals(3, stub.requests("GET", "/api/v1/devices").size());
    }

    @Test
    void aCursorThatDoesNotAdvanceIsAnErrorNotALoop() {
        stub.on("GET /api/v1/devices?classId=gw&limit=1000", r -> new StubServer.Answer(200, "[]", Map.of("X-Next-Cursor", "c1")));
        stub.on("GET /api/v1/devices?classId=gw&limit=1000&cursor=c1", r -> new StubServer.Answer(200, "[]",
                Map.of("X-Next-Cursor", "c1")));
        ApiException e = assertThrows(ApiException.class, () -> api.devices("gw"));
        assertTrue(e.getMessage().contains("same cursor twice"), e.getMessage());
    }

    @Test
    void readinessIsAPlain200() {
        assertFalse(api.ready());
        stub.on("GET /q/health/ready", 200, "{\"status\":\"UP\"}");
        assertTrue(api.ready());
    }
}
