package io.edgefleet.server.support;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.Map;

/** Small REST helpers shared by the HTTP tests: an authorized request and common fixtures. */
public final class Api {
    public static final String TOKEN = "test-token";

    private Api() {
    }

    public static RequestSpecification api() {
        return given().header("Authorization", "Bearer " + TOKEN);
    }

    public static RequestSpecification json() {
        return api().contentType(ContentType.JSON);
    }

    public static Map<String, Object> deviceClass(String id) {
        return Map.of(
                "id", id,
                "name", "Class " + id,
                "arch", "x86_64",
                "cores", 2,
                "ramMb", 1024,
                "storageMb", 4096,
                "precisions", List.of("fp32", "int8"),
                "power", Map.of("idleWatts", 2.0, "activeWatts", 6.5),
                "slo", Map.of("p95LatencyMs", 40.0, "maxModelBytes", 10_000_000),
                "accuracyBudget", Map.of("overallPoints", 1.5, "cohortPoints", 3.0));
    }

    public static void createClass(String id) {
        json().body(deviceClass(id)).post("/api/v1/device-classes").then().statusCode(201);
    }

    /** Registers a device and returns its one-time password. */
    public static String registerDevice(String id, String classId, String... tags) {
        Response r = json().body(Map.of("id", id, "classId", classId, "tags", List.of(tags)))
                .post("/api/v1/devices");
        r.then().statusCode(201);
        return r.jsonPath().getString("credentials.password");
    }

    /** Uploads ONNX bytes and returns the created version number. */
    public static long upload(String name, byte[] model) {
        Response r = api().contentType("application/octet-stream").body(model)
                .post("/api/v1/models/" + name + "/versions");
        r.then().statusCode(201);
        return r.jsonPath().getLong("version");
    }

    public static String brokerUrl() {
        return api().get("/api/v1/broker").then().statusCode(200).extract().jsonPath().getString("url");
    }
}
