package io.edgefleet.server.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The role tokens of application.properties' test profile against the real HTTP stack: 403 or through. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RolesTest {
    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON);
    }

    @Test
    void everyRoleReads() {
        for (String t : new String[] {"viewer-token", "operator-token", "sre-token", Api.TOKEN}) {
            as(t).get("/api/v1/device-classes").then().statusCode(200);
            as(t).get("/api/v1/alerts").then().statusCode(200);
        }
    }

    @Test
    void aViewerChangesNothingAndIsToldWhichRoleMay() {
        as("viewer-token").body(Api.deviceClass("roles-v")).post("/api/v1/device-classes").then().statusCode(403)
                .body("error", equalTo("FORBIDDEN"))
                .body("message", equalTo("role viewer may not POST /api/v1/device-classes: needs operator or admin"));
        as("viewer-token").body("{}").post("/api/v1/deployments/nope/pause").then().statusCode(403)
                .body("message", equalTo("role viewer may not POST /api/v1/deployments/nope/pause: needs operator or sre or admin"));
        // nothing was stored
        Api.api().get("/api/v1/device-classes/roles-v").then().statusCode(404);
    }

    @Test
    void anOperatorManagesTheFleetButNotAlerting() {
        as("operator-token").body(Api.deviceClass("roles-op")).post("/api/v1/device-classes").then().statusCode(201);
        as("operator-token").body(Map.of("id", "roles-op-rule", "metric", "ERROR_RATE", "scope", "CLASS",
                "threshold", 0.5)).post("/api/v1/alert-rules").then().statusCode(403)
                .body("message", equalTo("role operator may not POST /api/v1/alert-rules: needs sre or admin"));
        as("operator-token").get("/api/v1/broker/mosquitto/acl").then().statusCode(200);
    }

    @Test
    void anSreSteersRolloutsAndAlertsButDoesNotDeploy() {
        as("sre-token").body(Map.of("id", "roles-sre-rule", "metric", "ERROR_RATE", "scope", "CLASS",
                "threshold", 0.5)).post("/api/v1/alert-rules").then().statusCode(201);
        // allowed through to the resource: the deployment does not exist
        as("sre-token").body("{}").post("/api/v1/deployments/no-such-deployment/pause").then().statusCode(404)
                .body("error", equalTo("NOT_FOUND"));
        as("sre-token").body(Map.of("model", "m", "version", 1, "classId", "c")).post("/api/v1/deployments").then()
                .statusCode(403).body("error", equalTo("FORBIDDEN"));
        as("sre-token").body(Api.deviceClass("roles-sre")).post("/api/v1/device-classes").then().statusCode(403);
        as("sre-token").get("/api/v1/broker/mosquitto/passwd").then().statusCode(403);
        Api.api().delete("/api/v1/alert-rules/roles-sre-rule").then().statusCode(204);
    }

    @Test
    void theAdminTokenMayDoAnything() {
        as(Api.TOKEN).get("/api/v1/broker/mosquitto/passwd").then().statusCode(200);
        as(Api.TOKEN).body(Map.of("id", "roles-admin-rule", "metric", "ERROR_RATE", "scope", "CLASS",
                "threshold", 0.5)).post("/api/v1/alert-rules").then().statusCode(201);
        Api.api().delete("/api/v1/alert-rules/roles-admin-rule").then().statusCode(204);
    }
}
