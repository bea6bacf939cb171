package io.edgefleet.agent.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Open Inference Protocol's REST endpoints over the JDK's own {@code com.sun.net.httpserver}: no
 * dependency, a few hundred kilobytes of code already in every JDK, and a small fixed pool of worker
 * threads, which suits a board's JVM. A thin adapter over {@link InferenceService}:
 *
 * <pre>
 * GET  /v2                                  server metadata
 * GET  /v2/health/live | /v2/health/ready   200 or 503
 * GET  /v2/models/{name}[/versions/{v}]         model metadata
 * GET  /v2/models/{name}[/versions/{v}]/ready   200 or 503
 * POST /v2/models/{name}[/versions/{v}]/infer   application/json inference request
 * </pre>
 *
 * Errors are {@code {"error": "<reason>"}} with the status of their {@link ServingError}. A body is read
 * only up to {@code maxBodyBytes}: a larger declared length is refused before reading, a longer chunked
 * body when the bound is passed, and the connection is closed instead of reading the rest.
 */
public final class InferenceHttpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceHttpServer.class.getName());
    private static final String JSON = "application/json";

    /** Where and how to serve: bind address, port (0 = any free one), body bound, worker threads. */
    public record Settings(String host, int port, long maxBodyBytes, int threads) {
        public Settings {
            if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxBodyBytes must be in [1, " + (Integer.MAX_VALUE - 8) + "]");
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1");
            }
        }
    }

    private final InferenceService service;
    private final Settings settings;
    private final String serverName;
    private final String serverVersion;
    private final HttpServer server;
    private final ExecutorService workers;

    private InferenceHttpServer(InferenceService service, Settings settings, String serverName, String serverVersion,
                                HttpServer server, ExecutorService workers) {
        this.service = service;
        this.settings = settings;
        this.serverName = serverName;
        this.serverVersion = serverVersion;
        this.server = server;
        this.workers = workers;
    }

    /**
     * Binds and starts serving.
     *
     * @throws IOException when the address cannot be bound (e.g. the port is in use)
     */
    public static InferenceHttpServer start(InferenceService service, Settings settings, String serverName,
                                            String serverVersion) throws IOException {
        // The JDK server writes the headers and the body of a response separately; with Nagle's algorithm on,
        // the body can wait for the client's delayed ACK (40 ms on Linux). Read once, when the first server starts.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 0);
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread t = new Thread(r, "inference-api-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(workers);
        InferenceHttpServer s = new InferenceHttpServer(service, settings, serverName, serverVersion, server, workers);
        server.createContext("/", s::handle);
        server.start();
        LOG.log(System.Logger.Level.INFO, "inference API on http://" + hostPort(s.address()) + "/v2 ("
                + settings.threads() + " threads, bodies up to " + settings.maxBodyBytes() + " bytes)");
        return s;
    }

    /** The bound address (the actual port when 0 was asked). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- routing

    private void handle(HttpExchange ex) {
        try {
            route(ex);
        } catch (ServingException e) {
            send(ex, e.error().httpStatus(), KServeJson.error(e.getMessage()));
        } catch (IOException e) {
            // The client went away; nothing to answer.
            LOG.log(System.Logger.Level.DEBUG, "inference API: " + e);
        } catch (RuntimeException | StackOverflowError e) {
            // One bad request must never take the server down or leave the connection hanging.
            LOG.log(System.Logger.Level.WARNING, "inference API: unexpected error: " + e, e);
            send(ex, 500, KServeJson.error("internal error: " + e));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, ServingException {
        String[] p = segments(ex.getRequestURI().getRawPath());
        if (p.length >= 1 && p[0].equals("v2")) {
            if (p.length == 1) {
                get(ex);
                send(ex, 200, KServeJson.serverMetadata(serverName, serverVersion));
                return;
            }
            if (p.length == 3 && p[1].equals("health") && (p[2].equals("live") || p[2].equals("ready"))) {
                get(ex);
                if (p[2].equals("live")) {
                    boolean live = service.live();
                    send(ex, live ? 200 : 503, KServeJson.flag("live", live, null, live ? null : "the agent is stopping"));
                } else {
                    String why = service.notReadyReason();
                    send(ex, why == null ? 200 : 503, KServeJson.flag("ready", why == null, null, why));
                }
                return;
            }
            if (p.length >= 3 && p[1].equals("models")) {
                String name = decode(p[2]);
                String version = null;
                int rest = 3;
                if (p.length >= 5 && p[3].equals("versions")) {
                    version = decode(p[4]);
                    rest = 5;
                }
                String action = p.length == rest ? "" : p.length == rest + 1 ? p[rest] : null;
                if (action != null) {
                    switch (action) {
                        case "" -> {
                            get(ex);
                            send(ex, 200, KServeJson.metadata(service.modelMetadata(name, version)));
                            return;
                        }
                        case "ready" -> {
                            get(ex);
                            boolean ready = service.modelReady(name, version);
                            send(ex, ready ? 200 : 503, KServeJson.flag("ready", ready, name,
                                    ready ? null : "model '" + name + "' is not loaded"));
                            return;
                        }
                        case "infer" -> {
                            infer(ex, name, version);
                            return;
                        }
                        default -> {
                            // fall through to 404
                        }
                    }
                }
            }
        }
        throw new ServingException(ServingError.NOT_FOUND, "no endpoint " + ex.getRequestMethod() + " "
                + ex.getRequestURI().getRawPath() + "; see /v2/health/live, /v2/health/ready, /v2/models/{name}, "
                + "/v2/models/{name}/ready, /v2/models/{name}/infer");
    }

    private void infer(HttpExchange ex, String name, String version) throws IOException, ServingException {
        if (!ex.getRequestMethod().equals("POST")) {
            ex.getResponseHeaders().set("Allow", "POST");
            throw new ServingException(ServingError.METHOD_NOT_ALLOWED, "infer takes POST, not " + ex.getRequestMethod());
        }
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).split(";", 2)[0].trim().equals(JSON)) {
            throw new ServingException(ServingError.UNSUPPORTED_MEDIA_TYPE, "an inference request must be sent as "
                    + JSON + (type == null ? " (no Content-Type given)" : ", not " + type));
        }
        byte[] body = readBody(ex);
        InferRequest request = KServeJson.readRequest(body);
        send(ex, 200, KServeJson.response(service.infer(name, version, request)));
    }

    /** The body up to the bound; beyond it PAYLOAD_TOO_LARGE and the connection is closed, not drained. */
    private byte[] readBody(HttpExchange ex) throws IOException, ServingException {
        long max = settings.maxBodyBytes();
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length > max) {
                throw tooLarge(ex, "the body has " + length + " bytes; this agent accepts up to " + max);
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] buf = new byte[(int) Math.min(max + 1, 64 * 1024)];
        int n = 0;
        while (true) {
            if (n == buf.length) {
                if (n > max) {
                    throw tooLarge(ex, "the body is longer than " + max + " bytes, the most this agent accepts");
                }
                buf = Arrays.copyOf(buf, (int) Math.min(max + 1, (long) buf.length * 2));
            }
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        if (n > max) {
            throw tooLarge(ex, "the body is longer than " + max + " bytes, the most this agent accepts");
        }
        return n == buf.length ? buf : Arrays.copyOf(buf, n);
    }

    private static ServingException tooLarge(HttpExchange ex, String reason) {
        // Do not read the rest: answer and close the connection.
        ex.getResponseHeaders().set("Connection", "close");
        return new ServingException(ServingError.PAYLOAD_TOO_LARGE, reason);
    }

    private static void get(HttpExchange ex) throws ServingException {
        String m = ex.getRequestMethod();
        if (!m.equals("GET") && !m.equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            throw new ServingException(ServingError.METHOD_NOT_ALLOWED, "this endpoint takes GET, not " + m);
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body) {
        try {
            ex.getResponseHeaders().set("Content-Type", JSON);
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(status, head ? -1 : body.length);
            if (!head) {
                ex.getResponseBody().write(body);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "inference API: cannot answer: " + e);
        }
    }

    private static String[] segments(String rawPath) {
        if (rawPath == null) {
            return new String[0];
        }
        String s = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s.isEmpty() ? new String[0] : s.split("/", -1);
    }

    private static String decode(String segment) throws ServingException {
        try {
            return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ServingException(ServingError.NOT_FOUND, "bad path segment '" + segment + "'");
        }
    }
}
