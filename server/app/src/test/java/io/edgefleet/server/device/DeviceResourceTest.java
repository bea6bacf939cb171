package io.edgefleet.server.device;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.security.MosquittoPasswordHash;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class DeviceResourceTest {

    private static boolean ready;

    /** RestAssured learns the test port per test, so fixtures are made in the first test, once. */
    @BeforeEach
    void classes() {
        if (ready) {
            return;
        }
        ready = true;
        Api.createClass("dev-gw");
        Api.createClass("dev-cam");
    }

    @Test
    void registrationReturnsCredentialsOnce() {
        Response r = json().body(Map.of("id", "reg-1", "classId", "dev-gw", "tags", List.of("lab", "eu")))
                .post("/api/v1/devices");
        r.then().statusCode(201)
                .body("id", equalTo("reg-1"))
                .body("classId", equalTo("dev-gw"))
                .body("tags", contains("eu", "lab"))
                .body("credentials.username", equalTo("reg-1"))
                .body("credentials.password", matchesPattern("[A-Za-z0-9_-]{32}"))
                .body("mqtt.url", matchesPattern("tcp://127\\.0\\.0\\.1:\\d+"));
        List<String> keys = api().get("/api/v1/server-keys").jsonPath().getList("keys.publicKey");
        assertEquals(keys, r.jsonPath().getList("serverKeys"));
        String password = r.jsonPath().getString("credentials.password");

        String shown = api().get("/api/v1/devices/reg-1").then().statusCode(200)
                .body("credentialActive", equalTo(true))
                .body("online", equalTo(false))
                .body("active", nullValue())
                .body("lastTelemetry", nullValue())
                .extract().asString();
        assertFalse(shown.contains(password), "the password is never shown again");
        assertFalse(api().get("/api/v1/devices").asString().contains(password));
        assertFalse(api().get("/api/v1/broker/mosquitto/passwd").asString().contains(password),
                "only the hash leaves the server");
    }

    @Test
    void registrationIsValidated() {
        json().body(Map.of("id", "reg-x", "classId", "no-such-class")).post("/api/v1/devices").then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DEVICE_CLASS"))
                .body("message", equalTo("device class 'no-such-class' does not exist"));
        Api.registerDevice("reg-dup", "dev-gw");
        json().body(Map.of("id", "reg-dup", "classId", "dev-gw")).post("/api/v1/devices").then().statusCode(409)
                .body("error", equalTo("ALREADY_EXISTS"))
                .body("message", equalTo("device 'reg-dup' already exists"));
        json().body(Map.of("id", "edgefleet-server", "classId", "dev-gw")).post("/api/v1/devices").then()
                .statusCode(400).body("message", startsWith("id 'edgefleet-server' is reserved"));
        // The id is the broker user name, which the Mosquitto ACL's %u patterns put into topics: no topic syntax.
        for (String bad : List.of("reg/slash", "reg+plus", "reg#hash", "+", "#", "%u")) {
            json().body(Map.of("id", bad, "classId", "dev-gw")).post("/api/v1/devices").then()
                    .statusCode(400).body("error", equalTo("INVALID_ID"));
        }
        json().body(Map.of("id", "reg-tag", "classId", "dev-gw", "tags", List.of("no spaces")))
                .post("/api/v1/devices").then().statusCode(400).body("message", startsWith("tag 'no spaces' is invalid"));
        json().body(Map.of("classId", "dev-gw")).post("/api/v1/devices").then().statusCode(400)
                .body("fields.field", contains("id"));
        api().get("/api/v1/devices/reg-tag").then().statusCode(404);
    }

    @Test
    void listFiltersByClassAndTag() {
        Api.registerDevice("flt-1", "dev-gw", "floor1");
        Api.registerDevice("flt-2", "dev-cam", "floor1");
        Api.registerDevice("flt-3", "dev-cam", "floor2");
        List<String> cam = api().queryParam("classId", "dev-cam").get("/api/v1/devices").jsonPath().getList("id");
        assertEquals(List.of("flt-2", "flt-3"), cam);
        List<String> floor1 = api().queryParam("tag", "floor1").get("/api/v1/devices").jsonPath().getList("id");
        assertEquals(List.of("flt-1", "flt-2"), floor1);
        api().queryParam("tag", "floor1").queryParam("classId", "dev-cam").get("/api/v1/devices").then()
                .body("id", contains("flt-2"))
                .body("[0].tags", contains("floor1"));
    }

    @Test
    void credentialsRotateAndRevoke() {
        String first = Api.registerDevice("cred-1", "dev-gw");
        String second = api().post("/api/v1/devices/cred-1/credentials").then().statusCode(200)
                .body("deviceId", equalTo("cred-1"))
                .body("credentials.username", equalTo("cred-1"))
                .extract().jsonPath().getString("credentials.password");
        assertNotEquals(first, second);
        api().delete("/api/v1/devices/cred-1/credentials").then().statusCode(200).body("revoked", equalTo(true));
        api().get("/api/v1/devices/cred-1").then().body("credentialActive", equalTo(false));
        assertFalse(api().get("/api/v1/broker/mosquitto/passwd").asString().contains("cred-1:"),
                "revoked devices leave the Mosquitto password file");
        api().post("/api/v1/devices/nobody/credentials").then().statusCode(404)
                .body("message", equalTo("device 'nobody' does not exist"));
    }

    @Test
    void eventsAndTelemetryPages() {
        Api.registerDevice("page-1", "dev-gw");
        api().get("/api/v1/devices/page-1/events").then().statusCode(200).body("$", hasSize(0));
        api().get("/api/v1/devices/page-1/telemetry?limit=5").then().statusCode(200).body("$", hasSize(0));
        api().get("/api/v1/devices/page-1/events?limit=0").then().statusCode(400)
                .body("message", equalTo("limit must be between 1 and 1000"));
        api().get("/api/v1/devices/page-1/events?limit=lots").then().statusCode(400)
                .body("message", equalTo("limit must be an integer between 1 and 1000, not 'lots'"));
        api().get("/api/v1/devices/nobody/telemetry").then().statusCode(404);
    }

    @Test
    void bulkRegistrationRegistersAllWithTheirOwnCredentials() {
        Response r = json().body(Map.of("devices", List.of(
                        Map.of("id", "bulk-1", "classId", "dev-gw", "tags", List.of("lab")),
                        Map.of("id", "bulk-2", "classId", "dev-cam"),
                        Map.of("id", "bulk-3", "classId", "dev-gw"))))
                .post("/api/v1/device-registrations");
        r.then().statusCode(201)
                .body("devices.id", contains("bulk-1", "bulk-2", "bulk-3"))
                .body("devices.classId", contains("dev-gw", "dev-cam", "dev-gw"))
                .body("devices[0].tags", contains("lab"))
                .body("devices.credentials.username", contains("bulk-1", "bulk-2", "bulk-3"))
                .body("devices[2].mqtt.url", matchesPattern("tcp://127\\.0\\.0\\.1:\\d+"));
        List<String> passwords = r.jsonPath().getList("devices.credentials.password");
        assertEquals(3, passwords.stream().distinct().count(), "each device its own password");
        passwords.forEach(p -> assertTrue(p.matches("[A-Za-z0-9_-]{32}"), p));
        assertEquals(api().get("/api/v1/server-keys").jsonPath().getList("keys.publicKey"),
                r.jsonPath().getList("devices[1].serverKeys"));
        String passwd = api().get("/api/v1/broker/mosquitto/passwd").asString();
        String line = passwd.lines().filter(l -> l.startsWith("bulk-2:")).findFirst().orElseThrow();
        assertTrue(MosquittoPasswordHash.verify(passwords.get(1), line.substring("bulk-2:".length())),
                "the broker's file holds the hash of the password shown: " + line);
        assertFalse(passwd.contains(passwords.get(1)), "only the hash leaves the server");
        api().get("/api/v1/devices/bulk-3").then().statusCode(200).body("credentialActive", equalTo(true))
                .body("online", equalTo(false));
    }

    @Test
    void bulkRegistrationIsAllOrNone() {
        Api.registerDevice("bulk-taken", "dev-gw");
        json().body(Map.of("devices", List.of(Map.of("id", "bulk-new-1", "classId", "dev-gw"),
                        Map.of("id", "bulk-taken", "classId", "dev-gw"))))
                .post("/api/v1/device-registrations").then().statusCode(409)
                .body("error", equalTo("ALREADY_EXISTS"))
                .body("message", equalTo("device 'bulk-taken' already exists"));
        json().body(Map.of("devices", List.of(Map.of("id", "bulk-new-1", "classId", "dev-gw"),
                        Map.of("id", "bulk-new-1", "classId", "dev-gw"))))
                .post("/api/v1/device-registrations").then().statusCode(400)
                .body("message", equalTo("device 'bulk-new-1' appears twice in the request"));
        json().body(Map.of("devices", List.of(Map.of("id", "bulk-new-1", "classId", "dev-gw"),
                        Map.of("id", "edgefleet-server", "classId", "dev-gw"))))
                .post("/api/v1/device-registrations").then().statusCode(400)
                .body("message", startsWith("id 'edgefleet-server' is reserved"));
        json().body(Map.of("devices", List.of(Map.of("id", "bulk-new-1", "classId", "dev-gw"),
                        Map.of("id", "bulk-new-2", "classId", "no-such-class"))))
                .post("/api/v1/device-registrations").then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DEVICE_CLASS"));
        json().body(Map.of("devices", List.of(Map.of("id", "bulk-new-1", "classId", "dev-gw"),
                        Map.of("id", "bad/id", "classId", "dev-gw"))))
                .post("/api/v1/device-registrations").then().statusCode(400).body("error", equalTo("INVALID_ID"));
        json().body(Map.of("devices", List.of())).post("/api/v1/device-registrations").then().statusCode(400)
                .body("error", equalTo("VALIDATION_FAILED"));
        List<Map<String, Object>> tooMany = new java.util.ArrayList<>();
        for (int i = 0; i <= DeviceService.MAX_BULK_REGISTRATION; i++) {
            tooMany.add(Map.of("id", "b" + i, "classId", "dev-gw"));
        }
        json().body(Map.of("devices", tooMany)).post("/api/v1/device-registrations").then().statusCode(400)
                .body("error", equalTo("VALIDATION_FAILED"));
        api().get("/api/v1/devices/bulk-new-1").then().statusCode(404);
        api().get("/api/v1/devices/b0").then().statusCode(404);
    }
}
