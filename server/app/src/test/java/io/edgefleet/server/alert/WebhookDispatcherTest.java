package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A receiver that is down is retried with backoff; enqueue never waits for it. */
class WebhookDispatcherTest {
    private HttpServer server;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    static AlertsConfig config(List<String> urls, int maxAttempts) {
        return new AlertsConfig() {
            public boolean enabled() { return true; }
            public Duration evaluationInterval() { return Duration.ofSeconds(15); }
            public boolean defaultRules() { return true; }
            public Optional<List<String>> webhookUrls() { return Optional.of(urls); }
            public String receiver() { return "test"; }
            public Optional<String> externalUrl() { return Optional.of("http://edgefleet.test"); }
            public String runbookBaseUrl() { return "docs/runbooks/"; }
            public Duration repeatInterval() { return Duration.ofHours(4); }
            public Optional<String> rulesFile() { return Optional.empty(); }
            public Webhook webhook() {
                return new Webhook() {
                    public int maxAttempts() { return maxAttempts; }
                    public Duration initialBackoff() { return Duration.ofMillis(50); }
                    public Duration maxBackoff() { return Duration.ofMillis(200); }
                    public Duration timeout() { return Duration.ofSeconds(2); }
                    public int queueSize() { return 10; }
                };
            }
        };
    }

    WebhookDispatcher dispatcher(AlertsConfig config) {
        WebhookDispatcher d = new WebhookDispatcher();
        d.config = config;
        d.json = new ObjectMapper();
        d.registry = registry;
        return d;
    }

    @Test
    void retriesUntilTheReceiverAnswers() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<JsonNode> received = new CopyOnWriteArrayList<>();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            int n = calls.incrementAndGet();
            if (n >= 3) {
                received.add(new ObjectMapper().readTree(body));
            }
            ex.sendResponseHeaders(n < 3 ? 503 : 200, -1);
            ex.close();
        });
        server.start();
        WebhookDispatcher d = dispatcher(config(List.of("http://127.0.0.1:" + server.getAddress().getPort() + "/hook"), 5));
        long t0 = System.nanoTime();
        d.enqueue("EdgefleetErrorRateHigh", List.of(new AlertmanagerPayload.Alert("firing",
                Map.of("alertname", "EdgefleetErrorRateHigh"), Map.of(), 0, null, "r", "ffff")));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500), "enqueue does not wait for delivery");
        long deadline = System.currentTimeMillis() + 10_000;
        while ((received.isEmpty() || d.queued() > 0) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, received.size());
        assertEquals("4", received.get(0).get("version").asText());
        assertEquals("ffff", received.get(0).get("alerts").get(0).get("fingerprint").asText());
        assertEquals(3, calls.get());
        assertEquals(2.0, registry.counter("edgefleet.alert.webhook.failures").count());
        assertEquals(1.0, registry.counter("edgefleet.alert.webhook.deliveries").count());
        assertEquals(0, d.queued());
    }

    @Test
    void givesUpAfterMaxAttemptsAndCountsIt() throws Exception {
        WebhookDispatcher d = dispatcher(config(List.of("http://127.0.0.1:9/unreachable"), 2));
        d.enqueue("X", List.of(new AlertmanagerPayload.Alert("firing", Map.of("alertname", "X"), Map.of(), 0, null, "r", "f")));
        // Wait for the give-up itself, not for the queue to empty: the last attempt leaves the queue before it
        // fails and is counted (a .ci/run read the counter in between and saw 0).
        long deadline = System.currentTimeMillis() + 10_000;
        while (registry.counter("edgefleet.alert.webhook.dropped", "reason", "gave_up").count() < 1
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1.0, registry.counter("edgefleet.alert.webhook.dropped", "reason", "gave_up").count());
        assertEquals(0, d.queued());
        assertEquals(2.0, registry.counter("edgefleet.alert.webhook.failures").count());
    }
}
