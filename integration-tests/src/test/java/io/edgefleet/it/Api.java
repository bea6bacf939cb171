package io.edgefleet.it;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator's REST API as the tests see it: plain HTTP with a bearer token. Every call returns the
 * status and body so a scenario can assert on error answers as well as on successes.
 */
public final class Api {
    public static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;
    private final String token;

    public Api(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }

    public String baseUrl() {
        return baseUrl;
    }

    public String token() {
        return token;
    }

    /** Status, body and the body parsed as JSON (null when it is not JSON). */
    /** @param nextCursor the list's next-page cursor ({@code X-Next-Cursor}), null on the last page or for non-lists */
    public record Response(int status, String body, String contentType, String nextCursor) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (JsonProcessingException e) {
                throw new AssertionError("expected a JSON body but got (" + status + ", " + contentType + "): " + body, e);
            }
        }

        /** Asserts the status and returns the JSON body; the failure message carries the server's answer. */
        public JsonNode expect(int expected) {
            if (status != expected) {
                throw new AssertionError("expected HTTP " + expected + " but got " + status + ": " + body);
            }
            return body.isEmpty() ? JSON.nullNode() : json();
        }

        /** Asserts one of several acceptable statuses (e.g. 200 or 204 for a DELETE). */
        public JsonNode expect(int expected, int alternative) {
            return expect(status == alternative ? alternative : expected);
        }

        public String text(int expected) {
            if (status != expected) {
                throw new AssertionError("expected HTTP " + expected + " but got " + status + ": " + body);
            }
            return body;
        }
    }

    public Response get(String path) {
        return send(request(path).GET());
    }

    public Response post(String path, Object body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(toJson(body))));
    }

    public Response put(String path, Object body) {
        return send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(toJson(body))));
    }

    /** Sends bytes as they are, e.g. a model upload or a deliberately malformed JSON document. */
    public Response postRaw(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** Any method without a body, e.g. DELETE. */
    public Response send(String method, String path) {
        return send(request(path).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    public Response getWithoutToken(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30)).GET());
    }

    // --- the calls the scenarios make over and over ---

    public JsonNode createDeviceClass(String id, double p95LatencyMs) {
        ObjectNode body = JSON.createObjectNode()
                .put("id", id)
                .put("name", "integration test class " + id)
                .put("arch", "x86_64")
                .put("cores", 2)
                .put("ramMb", 2048)
                .put("storageMb", 4096);
        body.putArray("precisions").add("fp32").add("int8");
        body.putObject("power").put("idleWatts", 2.0).put("activeWatts", 6.0);
        body.putObject("slo").put("p95LatencyMs", p95LatencyMs).put("maxModelBytes", 50_000_000).put("maxEnergyMj", 1000.0);
        body.putObject("accuracyBudget").put("overallPoints", 1.0).put("cohortPoints", 2.0);
        return post("/api/v1/device-classes", body).expect(201);
    }

    public JsonNode registerDevice(String id, String classId) {
        ObjectNode body = JSON.createObjectNode().put("id", id).put("classId", classId);
        body.putArray("tags").add("it");
        return post("/api/v1/devices", body).expect(201);
    }

    public JsonNode uploadModel(String name, byte[] onnx) {
        return postRaw("/api/v1/models/" + enc(name) + "/versions", "application/octet-stream", onnx).expect(201);
    }

    /**
     * The explicit every-target-at-once policy (a deployment without a policy goes out in waves): the short form,
     * one wave, no gates and no abort rule, so a deployment whose agents all roll back ends ROLLED_BACK rather than
     * ABORTED by the default abort rule that the long explicit form would keep.
     */
    public static ObjectNode allAtOnce() {
        return JSON.createObjectNode().put("allAtOnce", true);
    }

    /** Every device of the class at once ({@link #allAtOnce()}): these scenarios watch one deploy, not waves. */
    public JsonNode deployToClass(String model, long version, String classId, ObjectNode health) {
        ObjectNode body = JSON.createObjectNode().put("model", model).put("version", version).put("classId", classId);
        if (health != null) {
            body.set("health", health);
        }
        body.set("policy", allAtOnce());
        return post("/api/v1/deployments", body).expect(202);
    }

    public JsonNode deployment(String id) {
        return get("/api/v1/deployments/" + enc(id)).expect(200);
    }

    public JsonNode device(String id) {
        return get("/api/v1/devices/" + enc(id)).expect(200);
    }

    public JsonNode deviceEvents(String id, int limit) {
        return get("/api/v1/devices/" + enc(id) + "/events?limit=" + limit).expect(200);
    }

    /** Every item of a list endpoint, following its cursor page by page. */
    public List<JsonNode> listAll(String path) {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        do {
            String sep = path.contains("?") ? "&" : "?";
            Response r = get(cursor == null ? path : path + sep + "cursor=" + enc(cursor));
            r.expect(200).forEach(out::add);
            cursor = r.nextCursor();
        } while (cursor != null);
        return out;
    }

    public JsonNode stats() {
        return get("/api/v1/stats").expect(200);
    }

    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json, text/plain");
    }

    private Response send(HttpRequest.Builder builder) {
        HttpRequest req = builder.build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""),
                    r.headers().firstValue("X-Next-Cursor").orElse(null));
        } catch (IOException e) {
            throw new UncheckedIOException(req.method() + " " + req.uri() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during " + req.method() + " " + req.uri(), e);
        }
    }

    private static String toJson(Object body) {
        if (body instanceof String s) {
            return s;
        }
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode request body", e);
        }
    }
}
