package io.edgefleet.server.support;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A signed-in console session: its cookie and the CSRF token its pages carry, as a browser holds them. */
public record ConsoleSession(String cookie, String csrf) {
    private static final Pattern CSRF = Pattern.compile("<meta name=\"csrf-token\" content=\"([^\"]+)\">");

    /** Signs in with {@code token} through the sign-in form; checks the cookie is HttpOnly and SameSite=Strict. */
    public static ConsoleSession signIn(String token) {
        Response r = given().redirects().follow(false).contentType(ContentType.URLENC)
                .formParam("token", token).formParam("next", "/console/alerts").post("/console/login");
        r.then().statusCode(303).header("Location", containsString("/console/alerts"));
        String setCookie = r.getHeader("Set-Cookie");
        assertNotNull(setCookie);
        assertTrue(setCookie.contains("HttpOnly"), setCookie);
        assertTrue(setCookie.toLowerCase().contains("samesite=strict"), setCookie);
        String cookie = r.getCookie("edgefleet_session");
        String page = given().cookie("edgefleet_session", cookie).get("/console").then().statusCode(200).extract().asString();
        Matcher m = CSRF.matcher(page);
        assertTrue(m.find(), page);
        return new ConsoleSession(cookie, m.group(1));
    }

    /** A request as the console's scripts send it: the session cookie and the CSRF header, JSON body. */
    public RequestSpecification json() {
        return given().cookie("edgefleet_session", cookie).header("X-CSRF-Token", csrf).contentType(ContentType.JSON);
    }
}
