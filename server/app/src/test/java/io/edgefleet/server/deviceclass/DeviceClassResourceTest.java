package io.edgefleet.server.deviceclass;

import static io.edgefleet.server.support.Api.deviceClass;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class DeviceClassResourceTest {

    private static Map<String, Object> with(String id, String key, Object value) {
        Map<String, Object> m = new HashMap<>(deviceClass(id));
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
        return m;
    }

    @Test
    void createReadListUpdate() {
        Map<String, Object> body = with("dc-crud", "precisions", List.of("INT8", "fp32", "int8"));
        json().body(body).post("/api/v1/device-classes").then().statusCode(201)
                .header("Location", endsWith("/api/v1/device-classes/dc-crud"))
                .body("id", equalTo("dc-crud"))
                .body("name", equalTo("Class dc-crud"))
                .body("cores", equalTo(2))
                .body("precisions", contains("fp32", "int8"))
                .body("power.activeWatts", equalTo(6.5f))
                .body("slo.p95LatencyMs", equalTo(40.0f))
                .body("slo.maxModelBytes", equalTo(10_000_000))
                .body("accuracyBudget.cohortPoints", equalTo(3.0f));
        Api.api().get("/api/v1/device-classes/dc-crud").then().statusCode(200).body("arch", equalTo("x86_64"));
        Api.api().get("/api/v1/device-classes").then().statusCode(200).body("id", hasItem("dc-crud"));

        long createdAt = Api.api().get("/api/v1/device-classes/dc-crud").jsonPath().getLong("createdAt");
        Map<String, Object> update = with("dc-crud", "cores", 8);
        update.remove("id");
        update.remove("power");
        update.remove("accuracyBudget");
        json().body(update).put("/api/v1/device-classes/dc-crud").then().statusCode(200)
                .body("cores", equalTo(8))
                .body("power", nullValue())
                .body("accuracyBudget.overallPoints", equalTo(1.0f))
                .body("createdAt", equalTo(createdAt));
        Api.api().get("/api/v1/device-classes/dc-crud").then().body("cores", equalTo(8));
    }

    @Test
    void idIsUniqueValidAndImmutable() {
        Api.createClass("dc-dup");
        json().body(deviceClass("dc-dup")).post("/api/v1/device-classes").then().statusCode(409)
                .body("error", equalTo("ALREADY_EXISTS"))
                .body("message", equalTo("device class 'dc-dup' already exists"));
        json().body(deviceClass("bad id!")).post("/api/v1/device-classes").then().statusCode(400)
                .body("error", equalTo("INVALID_ID"))
                .body("message", startsWith("id 'bad id!' is invalid"));
        json().body(with("x", "id", null)).post("/api/v1/device-classes").then().statusCode(400)
                .body("message", equalTo("field 'id' is required"));
        json().body(deviceClass("dc-other")).put("/api/v1/device-classes/dc-dup").then().statusCode(400)
                .body("message", equalTo("field 'id' is immutable: body says 'dc-other' but the path says 'dc-dup'"));
        json().body(deviceClass("dc-missing")).put("/api/v1/device-classes/dc-missing").then().statusCode(404)
                .body("error", equalTo("NOT_FOUND"));
    }

    @Test
    void beanValidationNamesEveryBadField() {
        Map<String, Object> body = with("dc-bad", "cores", 0);
        body.put("precisions", List.of());
        body.put("slo", Map.of("p95LatencyMs", -1, "maxModelBytes", 0));
        json().body(body).post("/api/v1/device-classes").then().statusCode(400)
                .body("error", equalTo("VALIDATION_FAILED"))
                .body("fields.field", hasItems("cores", "precisions", "slo.p95LatencyMs", "slo.maxModelBytes"))
                .body("message", startsWith("invalid request: cores must be greater than or equal to 1"));
        json().body(with("dc-bad", "slo", null)).post("/api/v1/device-classes").then().statusCode(400)
                .body("fields.field", contains("slo"));
        json().body("null").post("/api/v1/device-classes").then().statusCode(400);
    }

    @Test
    void domainRulesAreChecked() {
        json().body(with("dc-prec", "precisions", List.of("fp32", "int4"))).post("/api/v1/device-classes")
                .then().statusCode(400)
                .body("message", equalTo("precision 'int4' is not supported; use any of [fp32, fp16, int8]"));
        json().body(with("dc-pow", "power", Map.of("idleWatts", 5, "activeWatts", 1))).post("/api/v1/device-classes")
                .then().statusCode(400)
                .body("message", equalTo("power.activeWatts (1.0) must not be below power.idleWatts (5.0)"));
        Api.api().get("/api/v1/device-classes/dc-prec").then().statusCode(404)
                .body("message", equalTo("device class 'dc-prec' does not exist"));
    }

    @Test
    void malformedJsonGetsAReason() {
        json().body("{\"id\": \"dc-json\", \"arch\": ").post("/api/v1/device-classes").then().statusCode(400)
                .body("error", equalTo("MALFORMED_JSON"))
                .body("message", startsWith("malformed JSON at line 1"));
        json().body(with("dc-json", "cores", "many")).post("/api/v1/device-classes").then().statusCode(400)
                .body("error", equalTo("VALIDATION_FAILED"))
                .body("message", equalTo("field 'cores': value many is not a valid Integer"));
        json().body(with("dc-json", "colour", "blue")).post("/api/v1/device-classes").then().statusCode(400)
                .body("message", equalTo("unknown field 'colour'"));
        Api.api().contentType("text/plain").body("id=x").post("/api/v1/device-classes").then().statusCode(415)
                .body("error", equalTo("UNSUPPORTED_MEDIA_TYPE"));
    }
}
