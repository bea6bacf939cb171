package io.edgefleet.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.server.config.EdgefleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * Applies {@link BodyLimits} as a Vert.x filter, before any handler reads a byte of the body, so an
 * oversized or untyped body is answered (and the connection closed) without being buffered or parsed.
 */
@ApplicationScoped
public class BodyLimitFilter {
    /** Above the token filter is irrelevant (it is a JAX-RS filter, later); any positive priority runs before routing. */
    private static final int PRIORITY = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    EdgefleetConfig config;

    void register(@Observes Filters filters) {
        BodyLimits limits = new BodyLimits(new BodyLimits.Limits(config.api().maxJsonBytes(),
                config.api().maxDeploymentJsonBytes()));
        filters.register(rc -> {
            HttpServerRequest r = rc.request();
            Optional<BodyLimits.Refusal> refusal = limits.check(r.method().name(), r.path(),
                    r.getHeader(HttpHeaders.CONTENT_TYPE), r.getHeader(HttpHeaders.CONTENT_LENGTH),
                    r.getHeader(HttpHeaders.TRANSFER_ENCODING), r.version() == io.vertx.core.http.HttpVersion.HTTP_2);
            if (refusal.isEmpty()) {
                rc.next();
                return;
            }
            String body;
            try {
                body = JSON.writeValueAsString(ApiError.of(refusal.get().code(), refusal.get().message()));
            } catch (JsonProcessingException e) {
                body = "{\"error\":\"" + refusal.get().code() + "\"}";
            }
            // The body that was refused is not read; closing the connection keeps it from being parsed as the next
            // request. "Connection: close" alone is not enough: Vert.x closes an HTTP/1.x connection only once the
            // request has ended, so a client still sending its 800 MB (or sending nothing more) held it open. It is
            // closed as soon as the answer is written; on HTTP/2 the stream is reset and the connection stays.
            boolean http2 = r.version() == io.vertx.core.http.HttpVersion.HTTP_2;
            io.vertx.core.http.HttpServerResponse response = rc.response().setStatusCode(refusal.get().code().status())
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
            if (!http2) {
                response.putHeader(HttpHeaders.CONNECTION, "close");
            }
            response.end(body).onComplete(done -> {
                if (http2) {
                    response.reset();
                } else {
                    r.connection().close();
                }
            });
        }, PRIORITY);
    }
}
