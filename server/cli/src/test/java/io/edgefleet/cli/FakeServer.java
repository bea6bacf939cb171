package io.edgefleet.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny REST server for the CLI's unit tests: answers queued per "METHOD /path?query" (the last answer
 * repeats), 404 in the server's error shape for anything else, and records every request it got.
 */
final class FakeServer implements AutoCloseable {
    record Request(String method, String uri, Map<String, List<String>> headers, byte[] body) {
        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    record Answer(int status, String body, Map<String, String> headers) {
    }

    private final HttpServer server;
    private final Map<String, Deque<Answer>> answers = new HashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    FakeServer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String key = exchange.getRequestMethod() + " " + exchange.getRequestURI();
            requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                    Map.copyOf(exchange.getRequestHeaders()), body));
            Answer a;
            synchronized (answers) {
                Deque<Answer> q = answers.get(key);
                a = q == null ? new Answer(404, "{\"error\":\"NOT_FOUND\",\"message\":\"no such resource: " + key + "\"}", Map.of())
                        : q.size() > 1 ? q.poll() : q.peek();
            }
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(a.status(), out.length == 0 ? -1 : out.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            }
        });
        server.start();
    }

    /** Queues answers for "METHOD /path?query"; the last one repeats. */
    FakeServer on(String methodAndUri, int status, String... bodies) {
        synchronized (answers) {
            Deque<Answer> q = answers.computeIfAbsent(methodAndUri, k -> new ArrayDeque<>());
            for (String b : bodies) {
                q.add(new Answer(status, b, Map.of()));
            }
        }
        return this;
    }

    /** One answer with response headers. */
    FakeServer onWithHeaders(String methodAndUri, int status, Map<String, String> headers, String body) {
        synchronized (answers) {
            answers.computeIfAbsent(methodAndUri, k -> new ArrayDeque<>()).add(new Answer(status, body, headers));
        }
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Request last() {
        return requests.get(requests.size() - 1);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
