package io.edgefleet.server.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuthTest {

    @Test
    void apiRequiresTheBearerToken() {
        given().get("/api/v1/device-classes").then().statusCode(401)
                .header("WWW-Authenticate", "Bearer realm=\"edgefleet\"")
                .body("error", equalTo("UNAUTHORIZED"))
                .body("message", equalTo("missing Authorization header: send 'Authorization: Bearer <api token>'"));
        given().header("Authorization", "Bearer wrong").get("/api/v1/device-classes").then().statusCode(401)
                .body("message", equalTo("invalid API token"));
        given().header("Authorization", "Basic dGVzdDp0ZXN0").get("/api/v1/device-classes").then().statusCode(401)
                .body("message", equalTo("Authorization header must use the Bearer scheme"));
        given().header("Authorization", "Bearer " + Api.TOKEN + "x").get("/api/v1/stats").then().statusCode(401);
    }

    @Test
    void unauthenticatedCallersDoNotLearnWhichPathsExist() {
        given().get("/api/v1/no-such-thing").then().statusCode(401).body("error", equalTo("UNAUTHORIZED"));
        Api.api().get("/api/v1/no-such-thing").then().statusCode(404).body("error", equalTo("NOT_FOUND"))
                .body("message", equalTo("no such resource: GET /api/v1/no-such-thing"));
    }

    @Test
    void healthIsOpen() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void theRightTokenIsAccepted() {
        Api.api().get("/api/v1/device-classes").then().statusCode(200);
        given().header("Authorization", "bearer " + Api.TOKEN).get("/api/v1/stats").then().statusCode(200);
    }
}
