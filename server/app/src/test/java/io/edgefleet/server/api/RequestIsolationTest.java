package io.edgefleet.server.api;

import static io.edgefleet.server.support.Api.api;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 part 4 on the server: an error in one REST request never reaches another request's thread, and an error in
 * one ingest message never reaches another message or the ingest workers. Good and hostile clients run at the same
 * time; every good REST call must get its right answer, every hostile one a 4xx (never a 5xx), every good telemetry
 * window must be stored exactly once while hostile payloads arrive on the same devices' topics, and no thread of the
 * server may die of an uncaught exception.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RequestIsolationTest {
    static final String CLASS = "iso-gw";
    static final int DEVICES = 3;
    static final int WINDOWS = 15;
    static final JsonCodec CODEC = new JsonCodec();
    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + Api.TOKEN);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static TelemetryWindow window(String deviceId, long seq) {
        long end = 1_000_000L + seq * 1000;
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), end, deviceId, seq, end - 1000, end,
                new ModelRef("iso-m", 1, "b".repeat(64)), 10, 0, new LatencyStats(1, 2, 3, 4, 1.5), null, null, 0, false);
    }

    /** Payloads no agent sends, on a device's own telemetry and events topics. */
    static List<byte[]> hostilePayloads(String deviceId, String otherDevice) {
        String good = new String(CODEC.encode(window(deviceId, 999)), StandardCharsets.UTF_8);
        return List.of(
                "not json".getBytes(StandardCharsets.UTF_8),
                new byte[] {0, 0, 0, 1, (byte) 0xff, (byte) 0xfe},
                good.substring(0, good.length() / 2).getBytes(StandardCharsets.UTF_8),
                "[".repeat(5000).getBytes(StandardCharsets.UTF_8),
                good.replace("\"inferences\":10", "\"inferences\":-10").getBytes(StandardCharsets.UTF_8),
                good.replace("\"inferences\":10", "\"inferences\":\"ten\"").getBytes(StandardCharsets.UTF_8),
                good.replace("\"v\":1", "\"v\":99").getBytes(StandardCharsets.UTF_8),
                // claims to be another device: the topic decides, the payload must not move that device's data
                good.replace("\"deviceId\":\"" + deviceId + "\"", "\"deviceId\":\"" + otherDevice + "\"")
                        .getBytes(StandardCharsets.UTF_8),
                ("{\"v\":1,\"id\":\"x\",\"ts\":1,\"deviceId\":\"" + deviceId + "\",\"type\":\"NO_SUCH_TYPE\"}")
                        .getBytes(StandardCharsets.UTF_8),
                new byte[0]);
    }

    @Test
    void hostileRequestsAndMessagesNeverReachGoodOnesOrTheWorkers() throws Exception {
        ConcurrentLinkedQueue<String> uncaught = new ConcurrentLinkedQueue<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
        try {
            run(uncaught);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    private void run(ConcurrentLinkedQueue<String> uncaught) throws Exception {
        Api.createClass(CLASS);
        List<String> ids = new ArrayList<>();
        List<String> passwords = new ArrayList<>();
        for (int i = 0; i < DEVICES; i++) {
            ids.add("iso-dev-" + i);
            passwords.add(Api.registerDevice("iso-dev-" + i, CLASS));
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Map<Integer, AtomicLong> hostileStatuses = new ConcurrentHashMap<>();
        AtomicInteger goodRest = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> running = new ArrayList<>();

        // Good REST clients: register a device, read it back, list the class's devices.
        for (int t = 0; t < 2; t++) {
            int thread = t;
            running.add(pool.submit(() -> {
                for (int i = 0; i < 15; i++) {
                    String id = "iso-good-" + thread + "-" + i;
                    try {
                        HttpResponse<String> r = send("POST", "/api/v1/devices", "application/json",
                                "{\"id\":\"" + id + "\",\"classId\":\"" + CLASS + "\"}");
                        if (r.statusCode() != 201) {
                            failures.add("register " + id + ": " + r.statusCode() + " " + r.body());
                            continue;
                        }
                        JsonNode got = JSON.readTree(send("GET", "/api/v1/devices/" + id, null, null).body());
                        if (!id.equals(got.path("id").asText()) || !CLASS.equals(got.path("classId").asText())) {
                            failures.add("read back " + id + ": " + got);
                            continue;
                        }
                        goodRest.incrementAndGet();
                    } catch (Exception e) {
                        failures.add("good " + id + ": " + e);
                    }
                }
            }));
        }
        // Hostile REST clients, at the same time.
        String[][] hostile = {
            {"POST", "/api/v1/devices", "application/json", "{\"id\":"},
            {"POST", "/api/v1/devices", "application/json", "[".repeat(5000)},
            {"POST", "/api/v1/devices", "application/json", "{\"id\":\"bad id with spaces\",\"classId\":\"" + CLASS + "\"}"},
            {"POST", "/api/v1/devices", "application/json", "{\"id\":\"iso-x\",\"classId\":\"no-such-class\"}"},
            {"POST", "/api/v1/devices", "application/json", "{\"id\":42,\"classId\":[1,2]}"},
            {"POST", "/api/v1/devices", null, "{\"id\":\"iso-y\",\"classId\":\"" + CLASS + "\"}"},
            {"POST", "/api/v1/devices", "text/plain", "{\"id\":\"iso-z\",\"classId\":\"" + CLASS + "\"}"},
            {"POST", "/api/v1/deployments", "application/json", "{\"model\":{},\"version\":\"x\",\"policy\":{\"canary\":7}}"},
            {"POST", "/api/v1/device-classes", "application/json", "{\"id\":\"iso-c\",\"cores\":-1}"},
            {"GET", "/api/v1/devices?limit=abc", null, null},
            {"GET", "/api/v1/devices?cursor=not-a-cursor", null, null},
            {"GET", "/api/v1/devices/no-such-device", null, null},
            {"DELETE", "/api/v1/devices/no-such-device", null, null},
        };
        for (int t = 0; t < 3; t++) {
            int thread = t;
            running.add(pool.submit(() -> {
                for (int i = 0; i < 40; i++) {
                    String[] h = hostile[(i + thread * 5) % hostile.length];
                    try {
                        int status = send(h[0], h[1], h[2], h[3]).statusCode();
                        hostileStatuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                        if (status < 400 || status >= 500) {
                            failures.add(h[0] + " " + h[1] + " " + h[3] + " got " + status);
                        }
                    } catch (Exception e) {
                        failures.add("hostile: " + e);
                    }
                }
            }));
        }
        // Devices: good windows and hostile payloads on the same topics, interleaved, several devices at once.
        for (int d = 0; d < DEVICES; d++) {
            String id = ids.get(d);
            String other = ids.get((d + 1) % DEVICES);
            String password = passwords.get(d);
            running.add(pool.submit(() -> {
                try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), id, password)) {
                    List<byte[]> bad = hostilePayloads(id, other);
                    for (int seq = 1; seq <= WINDOWS; seq++) {
                        dev.publish(Topics.telemetry(id), CODEC.encode(window(id, seq)), false);
                        byte[] h = bad.get(seq % bad.size());
                        dev.publish(Topics.telemetry(id), h, false);
                        dev.publish(Topics.events(id), h, false);
                    }
                } catch (Exception e) {
                    failures.add("device " + id + ": " + e);
                }
            }));
        }
        for (Future<?> f : running) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + failures.peek());
        assertEquals(30, goodRest.get(), "every good REST call answered right");
        assertTrue(hostileStatuses.keySet().stream().allMatch(s -> s >= 400 && s < 500), "statuses: " + hostileStatuses);
        // Every good window stored exactly once, none of another device's: the hostile ones in between changed nothing.
        for (String id : ids) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> api().get("/api/v1/devices/" + id
                    + "/telemetry?limit=1000").then().body("$", hasSize(WINDOWS)));
            List<Integer> seqs = api().get("/api/v1/devices/" + id + "/telemetry?limit=1000").jsonPath().getList("seq");
            assertEquals(WINDOWS, seqs.stream().distinct().count(), id + " " + seqs);
            assertTrue(seqs.stream().allMatch(s -> s >= 1 && s <= WINDOWS), id + " " + seqs);
        }
        long malformed = api().get("/api/v1/stats").jsonPath().getLong("malformedDropped.telemetry");
        assertTrue(malformed > 0, "the hostile windows were counted as malformed: " + malformed);
        // The workers still work: one more good window per device is stored.
        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), ids.get(0), passwords.get(0))) {
            dev.publish(Topics.telemetry(ids.get(0)), CODEC.encode(window(ids.get(0), WINDOWS + 1)), false);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> api().get("/api/v1/devices/" + ids.get(0)
                + "/telemetry?limit=1000").then().body("$", hasSize(WINDOWS + 1)));
        assertTrue(uncaught.isEmpty(), "a thread died of an uncaught exception: " + uncaught);
    }
}
