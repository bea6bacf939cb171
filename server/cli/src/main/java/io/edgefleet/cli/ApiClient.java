package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * The REST API over {@link HttpClient}: JSON in and out, the server's error body turned into a {@link CliException}
 * with the mapped exit code, lists read page by page with their cursors followed, and file uploads streamed from
 * disk. A page is a bare JSON array with the next cursor in the {@value #NEXT_CURSOR} header (the server's paginated
 * lists), or an object {@code {"items":[...],"nextCursor":...}}; the next page is asked for with {@code cursor=}.
 */
public final class ApiClient {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** A runaway cursor chain (a server that always answers a next cursor) stops here. */
    static final int MAX_PAGES = 10_000;
    public static final String NEXT_CURSOR = "X-Next-Cursor";

    /** A parsed answer and its headers. */
    private record Answer(JsonNode body, java.net.http.HttpHeaders headers) {
    }

    /** One page of a list and the cursor of the next (null on the last). */
    public record Page(List<JsonNode> items, String nextCursor) {
    }

    private final String server;
    private final String token;
    private final HttpClient http;

    public ApiClient(String server, String token) {
        this.server = CliConfig.stripSlash(server);
        this.token = token;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    public String server() {
        return server;
    }

    public JsonNode get(String path) {
        return send(request(path).GET());
    }

    /** One page of a list endpoint, as the server cut it (for lists asked with their own {@code limit}). */
    public Page page(String path) {
        Answer a = exchange(request(path).GET());
        JsonNode body = a.body() == null ? JSON.nullNode() : a.body();
        List<JsonNode> items = new ArrayList<>();
        String next = null;
        if (body.isArray()) {
            body.forEach(items::add);
            next = a.headers().firstValue(NEXT_CURSOR).orElse(null);
        } else if (body.isObject() && body.has("items")) {
            body.path("items").forEach(items::add);
            next = body.path("nextCursor").isNull() ? null : body.path("nextCursor").asText(null);
        } else {
            throw new CliException("UNEXPECTED_ANSWER", "GET " + path + " did not answer a list: "
                    + abbreviate(body.toString()), ExitCode.SERVER_ERROR);
        }
        return new Page(items, next == null || next.isBlank() ? null : next);
    }

    public JsonNode post(String path, Object body) {
        return send(json(request(path), "POST", body));
    }

    public JsonNode put(String path, Object body) {
        return send(json(request(path), "PUT", body));
    }

    public JsonNode delete(String path) {
        return send(request(path).DELETE());
    }

    /** Every item of a list endpoint: the pages followed through their cursors until the last. */
    public List<JsonNode> list(String path) {
        List<JsonNode> all = new ArrayList<>();
        String next = path;
        for (int page = 0; page < MAX_PAGES && next != null; page++) {
            Page p = page(next);
            all.addAll(p.items());
            next = p.nextCursor() == null ? null : withParam(path, "cursor", p.nextCursor());
        }
        return all;
    }

    /** Streams {@code file} as the request body (never whole in memory), reporting bytes sent to {@code progress}. */
    public JsonNode upload(String path, Path file, String contentType, LongConsumer progress) {
        long size;
        HttpRequest.BodyPublisher publisher;
        try {
            size = Files.size(file);
            publisher = HttpRequest.BodyPublishers.ofFile(file);
        } catch (FileNotFoundException | NoSuchFileException e) {
            throw CliException.usage("no such file: " + file);
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage());
        }
        HttpRequest.Builder b = request(path).header("Content-Type", contentType)
                .POST(new CountingPublisher(publisher, size, progress));
        return send(b);
    }

    static String withParam(String path, String name, String value) {
        if (value == null) {
            return path;
        }
        return path + (path.contains("?") ? "&" : "?") + name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** {@code path?k=v&...} with the null values left out. */
    public static String query(String path, Map<String, ?> params) {
        String p = path;
        for (Map.Entry<String, ?> e : params.entrySet()) {
            if (e.getValue() != null) {
                p = withParam(p, e.getKey(), e.getValue().toString());
            }
        }
        return p;
    }

    public static Map<String, Object> params(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    public static String seg(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path) {
        URI uri;
        try {
            uri = URI.create(server + path);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("not a valid server URL: " + server + " (" + e.getMessage() + ")");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw CliException.usage("the server URL must start with http:// or https:// (got " + server + ")");
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30))
                .header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static HttpRequest.Builder json(HttpRequest.Builder b, String method, Object body) {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(bytes));
    }

    private JsonNode send(HttpRequest.Builder b) {
        Answer a = exchange(b);
        return a.body() == null ? JSON.nullNode() : a.body();
    }

    private Answer exchange(HttpRequest.Builder b) {
        HttpRequest req = b.build();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw unreachable(e);
        } catch (HttpTimeoutException e) {
            throw new CliException("TIMEOUT", req.method() + " " + req.uri() + " timed out", ExitCode.UNREACHABLE);
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("INTERRUPTED", "interrupted", ExitCode.SERVER_ERROR);
        }
        JsonNode body = parse(r.body());
        if (r.statusCode() >= 300) {
            String code = body != null && body.hasNonNull("error") ? body.get("error").asText() : "HTTP_" + r.statusCode();
            String message = body != null && body.hasNonNull("message") ? body.get("message").asText()
                    : abbreviate(r.body().isBlank() ? "HTTP " + r.statusCode() : r.body().strip());
            if (r.statusCode() == 401 && token == null) {
                message += " (no API token: set EDGEFLEET_TOKEN or run 'edgefleet login')";
            }
            throw new CliException(code, message, ExitCode.forHttp(r.statusCode(), code));
        }
        if (body == null && !r.body().isBlank()) {
            body = JSON.getNodeFactory().textNode(r.body());
        }
        return new Answer(body, r.headers());
    }

    private CliException unreachable(IOException e) {
        String why = null;
        for (Throwable t = e; t != null && why == null; t = t.getCause()) {
            why = t.getMessage();
        }
        if (why == null) {
            why = e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
        }
        return new CliException("UNREACHABLE", "cannot reach the server at " + server + ": " + why, ExitCode.UNREACHABLE);
    }

    private static JsonNode parse(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            return null;
        }
    }

    static String abbreviate(String s) {
        String line = s.replaceAll("\\s+", " ");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    /** Passes the file publisher's buffers through, counting them; keeps the known length so no chunked encoding. */
    private record CountingPublisher(HttpRequest.BodyPublisher delegate, long length, LongConsumer progress)
            implements HttpRequest.BodyPublisher {

        @Override
        public long contentLength() {
            return length;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            delegate.subscribe(new Flow.Subscriber<ByteBuffer>() {
                long sent;

                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    subscriber.onSubscribe(subscription);
                }

                @Override
                public void onNext(ByteBuffer item) {
                    sent += item.remaining();
                    subscriber.onNext(item);
                    progress.accept(sent);
                }

                @Override
                public void onError(Throwable throwable) {
                    subscriber.onError(throwable);
                }

                @Override
                public void onComplete() {
                    subscriber.onComplete();
                }
            });
        }
    }
}
