package io.edgefleet.server.console;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.ConsoleSession;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The console over HTTP: sign-in and its cookie, CSRF on state changes, roles, every page rendering. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ConsoleTest {
    static ConsoleSession signIn(String token) {
        return ConsoleSession.signIn(token);
    }

    @Test
    void signedOutVisitorsAreSentToTheSignInPageAndBadTokensRefused() {
        given().redirects().follow(false).get("/console/rollouts").then().statusCode(303)
                .header("Location", containsString("/console/login?next=%2Fconsole%2Frollouts"));
        given().get("/console/login").then().statusCode(200).body(containsString("name=\"token\""));
        given().contentType(ContentType.URLENC).formParam("token", "nope").post("/console/login").then()
                .statusCode(401).body(containsString("That token is not valid."));
        // an open redirect is not possible through next
        given().redirects().follow(false).contentType(ContentType.URLENC).formParam("token", Api.TOKEN)
                .formParam("next", "//evil.example/").post("/console/login").then().statusCode(303)
                .header("Location", Matchers2.endsWith("/console"));
    }

    @Test
    void everyPageRendersForASignedInUser() {
        ConsoleSession s = signIn(Api.TOKEN);
        Api.createClass("console-c");
        Api.registerDevice("console-d1", "console-c", "lab");
        String fleet = given().cookie("edgefleet_session", s.cookie()).get("/console").then().statusCode(200)
                .body(containsString("console-c")).body(containsString("console-d1"))
                .extract().asString();
        // The fleet-wide counts include devices of other tests in this app; the class's own row is exact:
        // 0 online, 1 offline.
        int row = fleet.indexOf("<tr data-class=\"console-c\">");
        assertTrue(row >= 0, fleet);
        String classRow = fleet.substring(row, fleet.indexOf("</tr>", row));
        assertTrue(classRow.contains("<td class=\"ok\">0</td>") && classRow.contains("<td class=\"warn\">1</td>"), classRow);
        given().cookie("edgefleet_session", s.cookie()).get("/console?classId=console-c&online=false").then()
                .statusCode(200).body(containsString("/console/devices/console-d1"));
        given().cookie("edgefleet_session", s.cookie()).get("/console/devices/console-d1").then().statusCode(200)
                .body(containsString("Device console-d1"));
        given().cookie("edgefleet_session", s.cookie()).get("/console/devices/nope").then().statusCode(404);
        given().cookie("edgefleet_session", s.cookie()).get("/console/models").then().statusCode(200)
                .body(containsString("Compression jobs"));
        given().cookie("edgefleet_session", s.cookie()).get("/console/rollouts").then().statusCode(200)
                .body(containsString("id=\"rollout-form\""));
        given().cookie("edgefleet_session", s.cookie()).get("/console/alerts").then().statusCode(200)
                .body(containsString("Firing"));
        given().cookie("edgefleet_session", s.cookie()).get("/console/runbooks/EdgefleetDevicesOffline").then()
                .statusCode(200).body(containsString("<article class=\"runbook card\" id=\"runbook\"><h1>"));
        given().cookie("edgefleet_session", s.cookie()).get("/console/runbooks/..%2Fapplication").then().statusCode(404);
        // the vendored plotting library and the console's own scripts are served
        given().get("/webjars/uplot/1.6.30/dist/uPlot.iife.min.js").then().statusCode(200);
        given().get("/console-assets/console.js").then().statusCode(200);
    }

    @Test
    void repeatedFailedSignInsFromOneClientAreRefusedWith429UntilTheLockOutEnds() {
        signIn(Api.TOKEN); // a good sign-in clears this client's count (other tests also fail from 127.0.0.1)
        for (int i = 0; i < 2; i++) {
            given().contentType(ContentType.URLENC).formParam("token", "guess-" + i).post("/console/login").then()
                    .statusCode(401);
        }
        // the third failure within the window (test profile: 3, lock-out 1 s) locks the client out
        given().contentType(ContentType.URLENC).formParam("token", "guess-2").post("/console/login").then()
                .statusCode(429).header("Retry-After", "1").body(containsString("Too many failed sign-ins"));
        // while locked out even the right token is refused: it is not looked at
        given().redirects().follow(false).contentType(ContentType.URLENC).formParam("token", Api.TOKEN)
                .post("/console/login").then().statusCode(429).header("Retry-After", "1");
        // bearer calls of the API are not the console's sign-in and are not throttled
        Api.api().get("/api/v1/device-classes").then().statusCode(200);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(200)).until(() -> given().redirects().follow(false)
                        .contentType(ContentType.URLENC).formParam("token", Api.TOKEN).post("/console/login")
                        .statusCode() == 303);
    }

    @Test
    void theLoopsAndClassPagesRenderWithTheSwitchesForTheRolesThatMayUseThem() {
        Api.createClass("console-loop-c");
        ConsoleSession operator = signIn("operator-token");
        String loops = given().cookie("edgefleet_session", operator.cookie()).get("/console/loops").then()
                .statusCode(200).body(containsString("id=\"nav-loops\"")).extract().asString();
        int row = loops.indexOf("<tr data-class=\"console-loop-c\">");
        assertTrue(row >= 0, loops);
        String modeRow = loops.substring(row, loops.indexOf("</tr>", row));
        // the default mode (approve) is shown as such, and the operator gets the three switch buttons
        assertTrue(modeRow.contains("<b class=\"loop-mode\">approve</b> <span class=\"muted\">(default)</span>"), modeRow);
        assertTrue(modeRow.contains("data-mode=\"automatic\"") && modeRow.contains("data-mode=\"off\""), modeRow);
        given().cookie("edgefleet_session", operator.cookie()).get("/console/loops?state=nonsense").then().statusCode(400);
        given().cookie("edgefleet_session", operator.cookie()).get("/console/loops/no-such-loop").then().statusCode(404);
        String cls = given().cookie("edgefleet_session", operator.cookie()).get("/console/classes/console-loop-c").then()
                .statusCode(200).extract().asString();
        assertTrue(cls.contains("<b id=\"cost-source\">declared-profile</b>"), cls);
        assertTrue(cls.contains("No benchmarks yet.") && cls.contains("id=\"benchmark-form\""), cls);
        assertTrue(cls.contains("data-source=\"/api/v1/telemetry/hourly?classId=console-loop-c\""), cls);
        given().cookie("edgefleet_session", operator.cookie()).get("/console/classes/nope").then().statusCode(404);

        ConsoleSession viewer = signIn("viewer-token");
        String seen = given().cookie("edgefleet_session", viewer.cookie()).get("/console/classes/console-loop-c").then()
                .statusCode(200).extract().asString();
        assertTrue(!seen.contains("class=\"set-mode\"") && !seen.contains("id=\"benchmark-form\""), seen);
        // and the server refuses what the page hides
        given().cookie("edgefleet_session", viewer.cookie()).header("X-CSRF-Token", viewer.csrf())
                .contentType(ContentType.JSON).body("{\"mode\":\"off\"}").put("/api/v1/device-classes/console-loop-c/loop")
                .then().statusCode(403);
        given().cookie("edgefleet_session", operator.cookie()).header("X-CSRF-Token", operator.csrf())
                .contentType(ContentType.JSON).body("{\"mode\":\"off\"}").put("/api/v1/device-classes/console-loop-c/loop")
                .then().statusCode(200).body("mode", equalTo("off"));
        given().cookie("edgefleet_session", viewer.cookie()).get("/console/classes/console-loop-c").then()
                .statusCode(200).body(containsString("<b class=\"loop-mode\" id=\"loop-mode\">off</b>"));
        // a device page carries the capture state; its switch only for operators
        Api.registerDevice("console-cap-d", "console-loop-c", "lab");
        given().cookie("edgefleet_session", viewer.cookie()).get("/console/devices/console-cap-d").then().statusCode(200)
                .body(containsString("capture is <b id=\"capture-state\" class=\"ok\">off</b>"))
                .body(org.hamcrest.Matchers.not(containsString("id=\"capture-form\"")));
        given().cookie("edgefleet_session", operator.cookie()).get("/console/devices/console-cap-d").then().statusCode(200)
                .body(containsString("id=\"capture-form\""))
                // never opted in: its bounds are 0, which the form's min would refuse; the form leaves them empty
                // (the server's defaults) so "Turn capture on" submits (found by ConsoleBrowserIT)
                .body(containsString("name=\"maxBytes\" min=\"1024\" placeholder=\"16777216 (default)\" value=\"\""))
                .body(containsString("name=\"maxSamples\" min=\"1\" max=\"100000\" placeholder=\"1000 (default)\" value=\"\""))
                .body(containsString("data-source=\"/api/v1/telemetry/hourly?deviceId=console-cap-d\""));
    }

    @Test
    void aCookieSessionChangesStateOnlyWithItsCsrfToken() {
        ConsoleSession s = signIn(Api.TOKEN);
        given().cookie("edgefleet_session", s.cookie()).contentType(ContentType.JSON).body(Api.deviceClass("csrf-a"))
                .post("/api/v1/device-classes").then().statusCode(403).body("error", equalTo("FORBIDDEN"))
                .body("message", containsString("X-CSRF-Token"));
        given().cookie("edgefleet_session", s.cookie()).header("X-CSRF-Token", "wrong").contentType(ContentType.JSON)
                .body(Api.deviceClass("csrf-a")).post("/api/v1/device-classes").then().statusCode(403);
        Api.api().get("/api/v1/device-classes/csrf-a").then().statusCode(404);
        given().cookie("edgefleet_session", s.cookie()).header("X-CSRF-Token", s.csrf()).contentType(ContentType.JSON)
                .body(Api.deviceClass("csrf-a")).post("/api/v1/device-classes").then().statusCode(201);
        // reads with the cookie need no token
        given().cookie("edgefleet_session", s.cookie()).get("/api/v1/device-classes/csrf-a").then().statusCode(200);
    }

    @Test
    void aViewerSessionSeesButCannotChangeAndTheConsoleHidesTheButtons() {
        ConsoleSession s = signIn("viewer-token");
        given().cookie("edgefleet_session", s.cookie()).get("/console/rollouts").then().statusCode(200)
                .body(containsString("id=\"role\">viewer<"))
                .body(org.hamcrest.Matchers.not(containsString("id=\"rollout-form\"")));
        given().cookie("edgefleet_session", s.cookie()).header("X-CSRF-Token", s.csrf()).contentType(ContentType.JSON)
                .body(Api.deviceClass("viewer-c")).post("/api/v1/device-classes").then().statusCode(403)
                .body("message", equalTo("role viewer may not POST /api/v1/device-classes: needs operator or admin"));
    }

    @Test
    void signingOutEndsTheSession() {
        ConsoleSession s = signIn("operator-token");
        Response out = given().cookie("edgefleet_session", s.cookie()).header("X-CSRF-Token", s.csrf())
                .post("/console/logout");
        out.then().statusCode(204);
        assertTrue(out.getHeader("Set-Cookie").contains("Max-Age=0"), out.getHeader("Set-Cookie"));
        given().redirects().follow(false).cookie("edgefleet_session", s.cookie()).get("/console").then().statusCode(303);
        given().cookie("edgefleet_session", s.cookie()).get("/api/v1/devices").then().statusCode(401)
                .body("message", equalTo("console session expired: sign in again"));
        // without its CSRF token a cross-site form could not have signed the user out either
        ConsoleSession t = signIn("operator-token");
        given().cookie("edgefleet_session", t.cookie()).post("/console/logout").then().statusCode(403);
        assertEquals(200, given().cookie("edgefleet_session", t.cookie()).get("/console").statusCode());
    }

    static final class Matchers2 {
        static org.hamcrest.Matcher<String> endsWith(String s) {
            return org.hamcrest.Matchers.endsWith(s);
        }
    }
}
