package io.edgefleet.server.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API document at {@code /q/openapi} describes every operation and every field. An endpoint or a DTO
 * component added without its {@code @Operation}, {@code @Parameter}, {@code @APIResponse} or {@code @Schema}
 * description fails this test, and the failure names each missing piece (see docs/api.md).
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DescribedApiTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
    private static final String API_ERROR = "#/components/schemas/ApiError";

    private static JsonNode doc;

    /** Fetched once (RestAssured knows the test port only inside a test, not in a static @BeforeAll). */
    @BeforeEach
    void fetch() throws Exception {
        if (doc == null) {
            // No token: the document is public, as /q/health is (docs/api.md says why).
            String body = given().get("/q/openapi?format=json").then().statusCode(200).extract().asString();
            Files.writeString(Path.of("target", "openapi.json"), body); // to read when this test fails
            doc = new ObjectMapper().readTree(body);
        }
    }

    @Test
    void everyOperationIsDescribed() {
        List<String> missing = new ArrayList<>();
        int operations = 0;
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> op = ops.next();
                if (!METHODS.contains(op.getKey())) {
                    continue;
                }
                operations++;
                checkOperation(op.getKey().toUpperCase() + " " + path.getKey(), path.getKey(), op.getValue(), missing);
            }
        }
        assertTrue(operations > 40, "the document lists only " + operations + " operations; is the scan broken?");
        if (!missing.isEmpty()) {
            fail(missing.size() + " gaps in the API description (annotate the resource method, see docs/api.md):\n  "
                    + String.join("\n  ", missing));
        }
    }

    private static void checkOperation(String name, String path, JsonNode op, List<String> missing) {
        if (blank(op.path("summary"))) {
            missing.add(name + ": no @Operation summary");
        }
        if (blank(op.path("description"))) {
            missing.add(name + ": no @Operation description");
        }
        if (blank(op.path("operationId"))) {
            missing.add(name + ": no operationId");
        }
        Set<String> params = new TreeSet<>();
        for (JsonNode p : op.path("parameters")) {
            String where = p.path("in").asText() + " parameter '" + p.path("name").asText() + "'";
            params.add(p.path("in").asText() + ":" + p.path("name").asText());
            if (blank(p.path("description"))) {
                missing.add(name + ": " + where + " has no @Parameter description");
            }
        }
        JsonNode responses = op.path("responses");
        boolean success = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = responses.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> r = it.next();
            String code = r.getKey();
            if (blank(r.getValue().path("description"))) {
                missing.add(name + ": response " + code + " has no description");
            }
            if (code.startsWith("2")) {
                success = true;
            } else if (code.startsWith("4") || code.startsWith("5")) {
                JsonNode json = r.getValue().path("content").path("application/json").path("schema");
                if (!API_ERROR.equals(json.path("$ref").asText())) {
                    missing.add(name + ": error response " + code + " does not answer the ApiError schema");
                }
            }
        }
        if (!success) {
            missing.add(name + ": no @APIResponse for success (2xx)");
        }
        if (path.startsWith("/api/")) {
            if (!responses.has("401")) {
                missing.add(name + ": no 401 response (every /api operation requires the bearer token)");
            }
            if (!op.path("security").isArray() || op.path("security").isEmpty()) {
                missing.add(name + ": no bearer security requirement");
            }
        }
        if (path.contains("{") && !responses.has("404") && !responses.has("400")) {
            missing.add(name + ": has a path parameter but no 404 (or 400) response for a value that names nothing");
        }
        if (op.has("requestBody")) {
            if (blank(op.path("requestBody").path("description"))) {
                missing.add(name + ": request body has no description (@RequestBody)");
            }
            if (!responses.has("400") && !responses.has("413") && !responses.has("415")) {
                missing.add(name + ": takes a body but declares no 400/413/415 for a bad one");
            }
        }
        if (params.contains("query:cursor")) {
            if (!params.contains("query:limit")) {
                missing.add(name + ": paginated (cursor) but no 'limit' parameter");
            }
            JsonNode headers = responses.path("200").path("headers");
            for (String h : List.of(Pages.NEXT_CURSOR, "Link")) {
                if (!headers.has(h)) {
                    missing.add(name + ": paginated but the 200 response does not declare the " + h + " header");
                } else if (blank(headers.path(h).path("description"))) {
                    missing.add(name + ": response header " + h + " has no description");
                }
            }
        }
    }

    @Test
    void everySchemaAndFieldIsDescribed() {
        List<String> missing = new ArrayList<>();
        JsonNode schemas = doc.path("components").path("schemas");
        assertTrue(schemas.size() > 20, "only " + schemas.size() + " schemas in the document");
        for (Iterator<Map.Entry<String, JsonNode>> it = schemas.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> s = it.next();
            if (blank(s.getValue().path("description"))) {
                missing.add("schema " + s.getKey() + ": no @Schema description on the type");
            }
            checkProperties("schema " + s.getKey(), s.getValue(), missing);
        }
        // Inline schemas of bodies and responses (a record used nowhere else is still a component; this catches maps).
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fields().forEachRemaining(op -> op.getValue().findParents("schema").forEach(parent ->
                    checkProperties(op.getKey().toUpperCase() + " " + path.getKey() + " inline schema",
                            parent.path("schema"), missing)));
        }
        if (!missing.isEmpty()) {
            fail(missing.size() + " undescribed schemas or fields (add @Schema(description = ...), see docs/api.md):\n  "
                    + String.join("\n  ", missing));
        }
    }

    private static void checkProperties(String where, JsonNode schema, List<String> missing) {
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            if (blank(p.getValue().path("description"))) {
                missing.add(where + ": field '" + p.getKey() + "' has no description");
            }
            checkProperties(where + "." + p.getKey(), p.getValue(), missing);
            checkProperties(where + "." + p.getKey() + "[]", p.getValue().path("items"), missing);
        }
        for (String combiner : List.of("allOf", "anyOf", "oneOf")) {
            for (JsonNode part : schema.path(combiner)) {
                checkProperties(where, part, missing);
            }
        }
    }

    @Test
    void errorsAreTheOneVocabulary() {
        JsonNode schemas = doc.path("components").path("schemas");
        JsonNode apiError = schemas.path("ApiError");
        assertEquals(Set.of("error", "message", "fields"), fieldNames(apiError.path("properties")),
                "ApiError's documented fields");
        assertTrue(apiError.path("properties").path("error").toString().contains("#/components/schemas/ErrorCode"),
                "ApiError.error is documented as an ErrorCode: " + apiError.path("properties").path("error"));
        Set<String> documented = new TreeSet<>();
        schemas.path("ErrorCode").path("enum").forEach(v -> documented.add(v.asText()));
        Set<String> codes = new TreeSet<>();
        Arrays.stream(ErrorCode.values()).forEach(c -> codes.add(c.name()));
        assertEquals(codes, documented, "the ErrorCode values in the document");
        String description = schemas.path("ErrorCode").path("description").asText();
        for (ErrorCode c : ErrorCode.values()) {
            assertTrue(description.contains(c.name() + "` | " + c.status()),
                    "the ErrorCode description gives " + c.name() + "'s HTTP status " + c.status() + ": " + description);
        }
    }

    @Test
    void theBearerSchemeIsDeclared() {
        JsonNode schemes = doc.path("components").path("securitySchemes");
        assertEquals(1, schemes.size(), "one security scheme: " + schemes);
        JsonNode scheme = schemes.elements().next();
        assertEquals("http", scheme.path("type").asText());
        assertEquals("bearer", scheme.path("scheme").asText());
        assertTrue(!blank(scheme.path("description")), "the scheme says where the token comes from");
    }

    @Test
    void swaggerUiIsServedWithoutAToken() {
        given().redirects().follow(true).get("/q/swagger-ui/").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static boolean blank(JsonNode n) {
        return n == null || n.isMissingNode() || n.isNull() || n.asText().isBlank();
    }
}
