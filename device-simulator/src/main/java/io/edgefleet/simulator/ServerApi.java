package io.edgefleet.simulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.protocol.ModelRef;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The slice of the edgefleet REST API the simulator uses, over {@code java.net.http}. Every failure
 * becomes an {@link ApiException} that names the request and carries the server's
 * {@code {"error","message"}}.
 */
public final class ServerApi {
    private final URI base;
    private final String token;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    /** Broker credentials and settings of a registered device. */
    public record Registration(String deviceId, String username, String password, String mqttUrl, List<String> serverKeys) {
    }

    public record Broker(String url, boolean embedded) {
    }

    public record Summary(int pending, int inProgress, int committed, int rolledBack, int failed) {
        public int total() {
            return pending + inProgress + committed + rolledBack + failed;
        }

        public boolean finished() {
            return total() > 0 && pending == 0 && inProgress == 0;
        }
    }

    /** {@code waveCurrent}/{@code waveCount}: the wave running (or the last one) of how many; 0 when not known. */
    public record Deployment(String id, String model, long version, String status, Summary summary, int targets,
                             int waveCurrent, int waveCount) {
        public Deployment(String id, String model, long version, String status, Summary summary, int targets) {
            this(id, model, version, status, summary, targets, 0, 0);
        }
    }

    /** A firing alert as {@code GET /api/v1/alerts} lists it. */
    public record Alert(long id, String rule, String name, String severity, Map<String, String> labels, Double value,
                        Double threshold, Long firedAt) {
    }

    /** What the server knows about one device; {@code p95} is from its last telemetry window, or null. */
    public record Device(String id, boolean online, ModelRef active, Double p95, Double energyMj) {
    }

    /**
     * HTTP/1.1: the simulator's concurrent registrations then use a connection each. Over HTTP/2 the JDK client
     * multiplexed them all on one connection, which the server handles on one event-loop thread; on the loaded
     * machine its request threads queued for that connection's lock (seen in a thread dump of the scale benchmark).
     */
    public ServerApi(URI base, String token) {
        this(base, token, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build());
    }

    public ServerApi(URI base, String token, HttpClient http) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        this.token = token;
        this.http = http;
    }

    public URI base() {
        return base;
    }

    /** True when {@code /q/health/ready} answers 200; false on any other answer or no answer. */
    public boolean ready() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/q/health/ready"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Creates the class; false when it already exists (409). */
    public boolean createDeviceClass(ObjectNode body) {
        try {
            send("POST", "/api/v1/device-classes", body);
            return true;
        } catch (ApiException e) {
            if (e.status() == 409) {
                return false;
            }
            throw e;
        }
    }

    /** Registers a device; a 409 (already registered) is thrown as an {@link ApiException} with status 409. */
    public Registration registerDevice(String id, String classId, List<String> tags) {
        ObjectNode body = json.createObjectNode().put("id", id).put("classId", classId);
        tags.forEach(body.putArray("tags")::add);
        return registration(id, send("POST", "/api/v1/devices", body), "POST /api/v1/devices");
    }

    /**
     * Registers several devices of one class in one request ({@code POST /api/v1/device-registrations}, all or none),
     * in the order given. A 409 (one of them exists) is thrown as an {@link ApiException} with status 409.
     */
    public List<Registration> registerDevices(List<String> ids, String classId, List<String> tags) {
        ObjectNode body = json.createObjectNode();
        var devices = body.putArray("devices");
        for (String id : ids) {
            ObjectNode d = devices.addObject().put("id", id).put("classId", classId);
            tags.forEach(d.putArray("tags")::add);
        }
        JsonNode r = send("POST", "/api/v1/device-registrations", body);
        List<Registration> out = new ArrayList<>();
        for (JsonNode d : r.path("devices")) {
            out.add(registration(d.path("id").asText(null), d, "POST /api/v1/device-registrations"));
        }
        if (out.size() != ids.size() || !out.stream().map(Registration::deviceId).toList().equals(ids)) {
            throw new ApiException(201, null, "POST /api/v1/device-registrations answered " + out.size()
                    + " devices for " + ids.size() + " requested, or in another order");
        }
        return out;
    }

    private static Registration registration(String id, JsonNode r, String call) {
        List<String> keys = new ArrayList<>();
        r.path("serverKeys").forEach(k -> keys.add(k.asText()));
        String username = r.path("credentials").path("username").asText(null);
        String password = r.path("credentials").path("password").asText(null);
        String url = r.path("mqtt").path("url").asText(null);
        if (id == null || username == null || password == null || url == null || keys.isEmpty()) {
            throw new ApiException(201, null, call + ": the answer lacks an id, credentials, mqtt.url or serverKeys: " + r);
        }
        return new Registration(id, username, password, url, List.copyOf(keys));
    }

    public Broker broker() {
        JsonNode r = send("GET", "/api/v1/broker", null);
        return new Broker(r.path("url").asText(), r.path("embedded").asBoolean());
    }

    /** Version numbers of a model, ascending. */
    public List<Long> modelVersions(String model) {
        JsonNode r = send("GET", "/api/v1/models/" + enc(model) + "/versions", null);
        List<Long> out = new ArrayList<>();
        r.forEach(v -> out.add(v.path("version").asLong()));
        out.sort(Long::compare);
        return out;
    }

    /** A deployment with the server's default waves (no policy). */
    public Deployment createDeployment(String model, long version, String classId) {
        return createDeployment(model, version, classId, null, null);
    }

    /** A deployment with this wave {@code policy} and agent {@code health} window (either may be null). */
    public Deployment createDeployment(String model, long version, String classId, ObjectNode policy, ObjectNode health) {
        ObjectNode body = json.createObjectNode().put("model", model).put("version", version).put("classId", classId);
        if (policy != null) {
            body.set("policy", policy);
        }
        if (health != null) {
            body.set("health", health);
        }
        return deployment(send("POST", "/api/v1/deployments", body));
    }

    /** Alerts firing now, newest first. */
    public List<Alert> firingAlerts() {
        JsonNode r = send("GET", "/api/v1/alerts?state=FIRING", null);
        List<Alert> out = new ArrayList<>();
        for (JsonNode a : r) {
            Map<String, String> labels = new TreeMap<>();
            a.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            out.add(new Alert(a.path("id").asLong(), a.path("rule").asText(), a.path("name").asText(),
                    a.path("severity").asText(), labels, a.path("value").isNumber() ? a.path("value").asDouble() : null,
                    a.path("threshold").isNumber() ? a.path("threshold").asDouble() : null,
                    a.path("firedAt").isNumber() ? a.path("firedAt").asLong() : null));
        }
        return out;
    }

    /** A closed loop as the quickstart reports it (GET /api/v1/loops). */
    /** A closed loop of a class; {@code deploymentId} is its canary deployment once it has one. */
    public record Loop(String id, String state, String strategy, String note, Long resultVersion, Long alertFiredAt,
            Long canaryCommittedAt, Long finishedAt, String deploymentId) {
    }

    /** A plan of a model for a class: its status, and the chosen version once it is CHOSEN. */
    public record Plan(String id, String classId, String status, String message, Long resultVersion) {
    }

    /** The version the class's registry holds for the model (its planned variant), or null without one. */
    public Long classVariant(String classId, String model) {
        for (JsonNode v : send("GET", "/api/v1/device-classes/" + enc(classId) + "/variants", null)) {
            if (model.equals(v.path("model").asText())) {
                return v.path("version").asLong();
            }
        }
        return null;
    }

    /** Plans of the model, newest first. */
    public List<Plan> plans(String model) {
        List<Plan> out = new ArrayList<>();
        for (JsonNode p : send("GET", "/api/v1/plans?model=" + enc(model), null)) {
            out.add(new Plan(p.path("id").asText(), p.path("deviceClassId").asText(), p.path("status").asText(),
                    p.path("message").asText(null), p.path("resultVersion").isNumber()
                            ? p.path("resultVersion").asLong() : null));
        }
        return out;
    }

    /** Uploads an {@code .npz} dataset under {@code name} (identical bytes already stored: accepted as they are). */
    public void uploadDataset(String name, byte[] npz) {
        exchange("POST", "/api/v1/datasets/" + enc(name), npz, "application/octet-stream");
    }

    /** Sets the class's closed-loop switch (automatic, approve or off) and the dataset a drift loop recalibrates on. */
    public void setLoop(String classId, String mode, String freshDataset) {
        send("PUT", "/api/v1/device-classes/" + enc(classId) + "/loop", json.createObjectNode().put("mode", mode)
                .put("freshDataset", freshDataset));
    }

    /** The class's closed loops, newest first, each with its newest transition's note. */
    public List<Loop> loops(String classId) {
        List<Loop> out = new ArrayList<>();
        for (JsonNode l : send("GET", "/api/v1/loops?classId=" + enc(classId), null)) {
            JsonNode history = l.path("history");
            String note = history.isArray() && !history.isEmpty() ? history.get(history.size() - 1).path("note")
                    .asText(null) : l.path("reason").asText(null); // the newest transition's note, else the decision
            out.add(new Loop(l.path("id").asText(), l.path("state").asText(), l.path("strategy").asText(null), note, num(l, "resultVersion"), num(l, "alertFiredAt"),
                    num(l, "canaryCommittedAt"), num(l, "finishedAt"), l.path("deploymentId").asText(null)));
        }
        return out;
    }

    private static Long num(JsonNode n, String field) {
        return n.path(field).isNumber() ? n.path(field).asLong() : null;
    }

    public Deployment deployment(String id) {
        return deployment(send("GET", "/api/v1/deployments/" + enc(id), null));
    }

    /** Every device of the class, following the list's cursor ({@code X-Next-Cursor}) through all pages. */
    public List<Device> devices(String classId) {
        List<Device> out = new ArrayList<>();
        String cursor = null;
        do {
            Page page = sendPage("GET", "/api/v1/devices?classId=" + enc(classId) + "&limit=" + DEVICE_PAGE
                    + (cursor == null ? "" : "&cursor=" + enc(cursor)));
            addDevices(page.body(), out);
            if (cursor != null && cursor.equals(page.next())) {
                throw new ApiException(200, null, "GET /api/v1/devices: the server returned the same cursor twice");
            }
            cursor = page.next();
        } while (cursor != null && !cursor.isBlank());
        return out;
    }

    /** Page size when listing devices (the server's maximum). */
    static final int DEVICE_PAGE = 1000;

    /** One page of a list: its body and the cursor of the next page, null on the last. */
    record Page(JsonNode body, String next) {
    }

    private static void addDevices(JsonNode r, List<Device> out) {
        for (JsonNode d : r) {
            JsonNode a = d.path("active");
            ModelRef active = a.isObject() ? new ModelRef(a.path("model").asText(), a.path("version").asLong(),
                    a.path("sha256").asText()) : null;
            JsonNode t = d.path("lastTelemetry");
            Double p95 = t.path("latency").path("p95").isNumber() ? t.path("latency").path("p95").asDouble() : null;
            Double energy = t.path("energyMj").isNumber() ? t.path("energyMj").asDouble() : null;
            out.add(new Device(d.path("id").asText(), d.path("online").asBoolean(), active, p95, energy));
        }
    }

    private Deployment deployment(JsonNode r) {
        JsonNode s = r.path("summary");
        Summary summary = new Summary(s.path("pending").asInt(), s.path("inProgress").asInt(), s.path("committed").asInt(),
                s.path("rolledBack").asInt(), s.path("failed").asInt());
        int targets = r.path("targets").isArray() ? r.path("targets").size() : summary.total();
        JsonNode w = r.path("waves");
        return new Deployment(r.path("id").asText(), r.path("model").asText(), r.path("version").asLong(),
                r.path("status").asText(), summary, targets, w.path("current").asInt(0), w.path("count").asInt(0));
    }

    JsonNode send(String method, String path, JsonNode body) {
        return exchange(method, path, body).body();
    }

    Page sendPage(String method, String path) {
        return exchange(method, path, null);
    }

    private Page exchange(String method, String path, JsonNode body) {
        try {
            return exchange(method, path, body == null ? null : json.writeValueAsBytes(body), "application/json");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Page exchange(String method, String path, byte[] body, String contentType) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json");
        if (token != null && !token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        String what = method + " " + path;
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new ApiException(what + ": cannot connect to " + base + " (is the server running?)", e);
        } catch (IOException e) {
            throw new ApiException(what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(what + ": interrupted", e);
        }
        JsonNode parsed = null;
        try {
            parsed = r.body() == null || r.body().isBlank() ? json.nullNode() : json.readTree(r.body());
        } catch (JsonProcessingException e) {
            if (r.statusCode() < 300) {
                throw new ApiException(r.statusCode(), null, what + ": the answer is not JSON: " + abbreviate(r.body()));
            }
        }
        if (r.statusCode() >= 300) {
            String code = parsed == null ? null : parsed.path("error").asText(null);
            String message = parsed == null ? null : parsed.path("message").asText(null);
            String reason = code != null || message != null
                    ? (code == null ? "" : code + ": ") + (message == null ? "" : message)
                    : abbreviate(r.body());
            String hint = r.statusCode() == 401 ? " (check --token)" : "";
            throw new ApiException(r.statusCode(), code, what + " failed: HTTP " + r.statusCode() + " " + reason + hint);
        }
        return new Page(parsed, r.headers().firstValue("X-Next-Cursor").orElse(null));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        if (s == null || s.isBlank()) {
            return "(empty body)";
        }
        String one = s.replaceAll("\\s+", " ").trim();
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }
}
