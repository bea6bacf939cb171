package io.edgefleet.server.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Delivers Alertmanager-format notifications to the configured receivers on its own thread, retried
 * with exponential backoff. {@link #enqueue} never blocks: a full queue drops the notification and
 * counts it (the alert is still in the API and the metrics).
 */
@ApplicationScoped
public class WebhookDispatcher {
    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class);

    @Inject
    AlertsConfig config;

    @Inject
    ObjectMapper json;

    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "quarkus.http.host", defaultValue = "localhost")
    String httpHost;

    @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080")
    int httpPort;

    private final AtomicInteger queued = new AtomicInteger();
    private volatile ScheduledExecutorService executor;
    private volatile HttpClient http;

    /** Queues one notification for every receiver. */
    public void enqueue(String alertname, List<AlertmanagerPayload.Alert> alerts) {
        List<String> urls = config.webhookUrls().orElse(List.of());
        if (urls.isEmpty() || alerts.isEmpty()) {
            return;
        }
        byte[] body;
        try {
            body = json.writeValueAsBytes(AlertmanagerPayload.build(config.receiver(), externalUrl(), alertname, alerts));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        for (String url : urls) {
            if (queued.incrementAndGet() > config.webhook().queueSize()) {
                queued.decrementAndGet();
                registry.counter("edgefleet.alert.webhook.dropped", "reason", "queue_full").increment();
                LOG.warnf("Alert webhook queue full; notification for %s to %s dropped", alertname, url);
                continue;
            }
            executor().execute(() -> attempt(url.trim(), body, 1));
        }
    }

    String externalUrl() {
        return config.externalUrl().orElseGet(() -> "http://" + (httpHost.equals("0.0.0.0") ? "localhost" : httpHost)
                + ":" + httpPort);
    }

    /** Notifications not yet delivered or given up. */
    public int queued() {
        return queued.get();
    }

    private void attempt(String url, byte[] body, int attempt) {
        String failure;
        try {
            HttpResponse<Void> r = client().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(config.webhook().timeout())
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "edgefleet-alerts")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() / 100 == 2) {
                queued.decrementAndGet();
                registry.counter("edgefleet.alert.webhook.deliveries").increment();
                return;
            }
            failure = "HTTP " + r.statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            queued.decrementAndGet();
            return;
        } catch (Exception e) {
            failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        registry.counter("edgefleet.alert.webhook.failures").increment();
        if (attempt >= config.webhook().maxAttempts()) {
            queued.decrementAndGet();
            registry.counter("edgefleet.alert.webhook.dropped", "reason", "gave_up").increment();
            LOG.warnf("Alert webhook %s failed %d times (%s); notification given up", url, attempt, failure);
            return;
        }
        long delay = backoffMillis(config.webhook().initialBackoff(), config.webhook().maxBackoff(), attempt);
        LOG.debugf("Alert webhook %s failed (%s); retry %d in %d ms", url, failure, attempt + 1, delay);
        executor().schedule(() -> attempt(url, body, attempt + 1), delay, TimeUnit.MILLISECONDS);
    }

    /** initial x 2^(attempt-1), capped. */
    static long backoffMillis(Duration initial, Duration max, int attempt) {
        long d = initial.toMillis();
        for (int i = 1; i < attempt && d < max.toMillis(); i++) {
            d *= 2;
        }
        return Math.min(d, max.toMillis());
    }

    private ScheduledExecutorService executor() {
        ScheduledExecutorService e = executor;
        if (e == null) {
            synchronized (this) {
                if (executor == null) {
                    executor = Executors.newSingleThreadScheduledExecutor(r -> {
                        Thread t = new Thread(r, "edgefleet-alert-webhook");
                        t.setDaemon(true);
                        return t;
                    });
                }
                e = executor;
            }
        }
        return e;
    }

    private HttpClient client() {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(config.webhook().timeout()).build();
        }
        return http;
    }

    void stop(@Observes ShutdownEvent ev) {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
