package io.edgefleet.server.console;

import io.edgefleet.server.alert.AlertDtos.AlertView;
import io.edgefleet.server.alert.AlertDtos.RecompressionView;
import io.edgefleet.server.alert.AlertService;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.Pages;
import io.edgefleet.server.benchmark.BenchmarkService;
import io.edgefleet.server.capture.CaptureService;
import io.edgefleet.server.loop.LoopDtos.ClassLoopView;
import io.edgefleet.server.loop.LoopDtos.LoopView;
import io.edgefleet.server.loop.LoopService;
import io.edgefleet.server.loop.LoopState;
import io.edgefleet.server.compression.CompressionService;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.device.DeviceService;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassView;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.planner.PlannerService;
import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.security.AccessPolicy;
import io.edgefleet.server.security.ApiToken;
import io.edgefleet.server.security.ApiTokenFilter;
import io.edgefleet.server.security.ConsoleSessions;
import io.edgefleet.server.security.SignInThrottle;
import io.vertx.core.http.HttpServerRequest;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/**
 * The web console: server-rendered Qute pages at {@code /console} over the same services as the REST API.
 * Authentication and roles are {@link ApiTokenFilter}'s (a session cookie here); the pages' scripts poll the
 * JSON API with that cookie and send the session's CSRF token on every state-changing call.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class ConsoleResource {
    static final int DEVICE_PAGE = 50;
    /** The closed loop's switch positions, as the loop API spells them. */
    static final List<String> LOOP_MODES = java.util.Arrays.stream(io.edgefleet.server.loop.LoopMode.values())
            .map(io.edgefleet.server.loop.LoopMode::label).toList();
    private static final Pattern ROLLED_BACK = Pattern.compile("rolled back deployment\\(s\\) (.+)");

    @Inject
    ApiToken tokens;
    @Inject
    ConsoleSessions sessions;
    @Inject
    EdgefleetConfig config;
    @Inject
    DeviceClassService classes;
    @Inject
    DeviceService devices;
    @Inject
    FleetQueries fleet;
    @Inject
    ModelService models;
    @Inject
    CompressionService compressions;
    @Inject
    PlannerService planner;
    @Inject
    RolloutService rollouts;
    @Inject
    AlertService alerts;
    @Inject
    Runbooks runbooks;
    @Inject
    SignInThrottle throttle;
    @Inject
    LoopService loops;
    @Inject
    BenchmarkService benchmarks;
    /** The application's mapper (its serializer caches are built once, not per page). */
    @Inject
    com.fasterxml.jackson.databind.ObjectMapper json;
    @Inject
    CaptureService capture;
    @Inject
    io.edgefleet.server.telemetry.TelemetryConfig telemetryConfig;

    @Location("console/login.html")
    Template login;
    @Location("console/fleet.html")
    Template fleetPage;
    @Location("console/device.html")
    Template devicePage;
    @Location("console/models.html")
    Template modelsPage;
    @Location("console/rollouts.html")
    Template rolloutsPage;
    @Location("console/rollout.html")
    Template rolloutPage;
    @Location("console/alerts.html")
    Template alertsPage;
    @Location("console/runbook.html")
    Template runbookPage;
    @Location("console/loops.html")
    Template loopsPage;
    @Location("console/loop.html")
    Template loopPage;
    @Location("console/class.html")
    Template classPage;

    // ---------------------------------------------------------------- sign-in

    @GET
    @Path("/login")
    @Operation(summary = "Console sign-in page", description = "An HTML form for an API token; open to everyone.")
    public String loginPage(@QueryParam("next") String next) {
        return login.data("next", safeNext(next)).data("error", null).render();
    }

    @POST
    @Path("/login")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Operation(summary = "Sign in to the console", description = "Checks the API token and starts a console session:"
            + " an HttpOnly, SameSite=Strict cookie; redirects to the page asked for.")
    @APIResponse(responseCode = "401", description = "The token is not one the server accepts; the form is shown again.")
    @APIResponse(responseCode = "429", description = "Too many failed sign-ins from this client address"
            + " (edgefleet.console.sign-in-*): refused without looking at the token; Retry-After says when to try again.")
    public Response signIn(@FormParam("token") String token, @FormParam("next") String next,
                           @Context HttpServerRequest request) {
        String client = clientAddress(request);
        long now = System.currentTimeMillis();
        SignInThrottle.Verdict v = throttle.check(client, now);
        if (!v.allowed()) {
            return tooMany(next, v);
        }
        var principal = tokens.authenticate(token == null ? null : token.trim());
        if (principal.isEmpty()) {
            v = throttle.failed(client, now);
            if (!v.allowed()) {
                return tooMany(next, v);
            }
            return Response.status(401).type(MediaType.TEXT_HTML_TYPE)
                    .entity(login.data("next", safeNext(next)).data("error", "That token is not valid.").render())
                    .build();
        }
        throttle.succeeded(client);
        ConsoleSessions.Session s = sessions.create(principal.get());
        return Response.seeOther(URI.create(safeNext(next))).cookie(cookie(s.id(), false)).build();
    }

    @POST
    @Path("/logout")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Sign out of the console", description = "Ends the console session and clears its cookie.")
    public Response signOut(@Context ContainerRequestContext ctx) {
        if (ctx.getProperty(ApiTokenFilter.SESSION) instanceof ConsoleSessions.Session s) {
            sessions.end(s.id());
        }
        return Response.noContent().cookie(cookie("", true)).build();
    }

    private Response tooMany(String next, SignInThrottle.Verdict v) {
        return Response.status(429).type(MediaType.TEXT_HTML_TYPE).header("Retry-After", v.retryAfterSeconds())
                .entity(login.data("next", safeNext(next)).data("error", "Too many failed sign-ins from this address;"
                        + " try again in " + v.retryAfterSeconds() + " s.").render())
                .build();
    }

    /** The client's address (the forwarded one when quarkus.http.proxy.proxy-address-forwarding is on). */
    static String clientAddress(HttpServerRequest request) {
        var a = request == null ? null : request.remoteAddress();
        return a == null ? "unknown" : a.hostAddress() != null ? a.hostAddress() : a.host();
    }

    private NewCookie cookie(String value, boolean clear) {
        return new NewCookie.Builder(ConsoleSessions.COOKIE).value(value).path("/").httpOnly(true)
                .sameSite(NewCookie.SameSite.STRICT).secure(config.console().cookieSecure())
                .maxAge(clear ? 0 : -1).build();
    }

    /** Only a console path: never an absolute or protocol-relative URL (no open redirect). */
    static String safeNext(String next) {
        if (next == null || !next.startsWith("/console") || next.startsWith("/console/login") || next.contains("\\")
                || next.startsWith("//")) {
            return "/console";
        }
        return next;
    }

    // ---------------------------------------------------------------- pages

    @GET
    @Operation(summary = "Console: fleet", description = "Device classes with their SLOs, devices online and offline,"
            + " model versions running per class, and a filterable device table, 50 devices a page.")
    @APIResponse(responseCode = "400", description = "A filter value is not valid.")
    public String fleet(@Context ContainerRequestContext ctx, @QueryParam("classId") String classId,
                        @QueryParam("online") String online, @QueryParam("model") String model,
                        @QueryParam("tag") String tag, @QueryParam("cursor") String cursor) {
        Boolean onlineFilter = online == null || online.isBlank() ? null : Boolean.valueOf("true".equalsIgnoreCase(online));
        Pages.Page<?> page = devices.list(new DeviceService.DeviceFilter(blank(classId), blank(tag), onlineFilter,
                blank(model), null), blank(cursor), DEVICE_PAGE);
        Map<String, FleetQueries.ClassCounts> counts = fleet.countsByClass();
        List<ClassRow> rows = new ArrayList<>();
        for (DeviceClassView c : classes.list()) {
            rows.add(new ClassRow(c, counts.getOrDefault(c.id(), new FleetQueries.ClassCounts(c.id(), 0, 0, List.of()))));
        }
        long on = counts.values().stream().mapToLong(FleetQueries.ClassCounts::online).sum();
        long off = counts.values().stream().mapToLong(FleetQueries.ClassCounts::offline).sum();
        Map<String, Object> filter = new LinkedHashMap<>();
        filter.put("classId", nz(classId));
        filter.put("online", nz(online));
        filter.put("model", nz(model));
        filter.put("tag", nz(tag));
        return page(ctx, fleetPage, "fleet").data("classes", rows).data("online", on).data("offline", off)
                .data("devices", page.items()).data("next", page.nextCursor() == null ? null
                        : nextLink(filter, page.nextCursor()))
                .data("filter", filter).data("paged", cursor != null && !cursor.isBlank()).render();
    }

    /** One class on the fleet page. */
    public record ClassRow(DeviceClassView c, FleetQueries.ClassCounts counts) {
    }

    @GET
    @Path("/devices/{id}")
    @Operation(summary = "Console: one device", description = "Its models (active, standby), latency p95, energy per"
            + " inference and drift over time as plots, and its recent events.")
    @APIResponse(responseCode = "404", description = "No such device.")
    public String device(@Context ContainerRequestContext ctx, @PathParam("id") String id) {
        var d = devices.get(id);
        var cls = classes.find(d.classId()) == null ? null : classes.get(d.classId());
        long now = System.currentTimeMillis();
        return page(ctx, devicePage, "fleet").data("d", d).data("cls", cls)
                .data("events", devices.events(id, null, 50).items())
                .data("modes", lastModes(d.lastTelemetry()))
                .data("modeTimes", devices.modeTimes(id, now - 24 * 3_600_000L, now))
                .data("modeColumns", List.of("full", "light", "cascade"))
                .data("canRollback", can(ctx, "/api/v1/devices/" + id + "/rollback"))
                // issue 16: capture opt-in state and switch, hourly rollups (separate template blocks)
                .data("capture", capture.get(id))
                .data("canCapture", can(ctx, "PUT", "/api/v1/devices/" + id + "/capture"))
                .data("rollupSource", "/api/v1/telemetry/hourly?deviceId=" + enc(id))
                .data("rollupSlo", cls == null ? null : cls.slo().p95LatencyMs())
                .data("rawRetentionDays", telemetryConfig.rawRetention().toDays()).render();
    }

    /** The graceful-degradation figures of the device's last window, or null (no fallback, or no window yet). */
    private io.edgefleet.protocol.ModeTimes lastModes(String lastTelemetryJson) {
        if (lastTelemetryJson == null) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode m = json.readTree(lastTelemetryJson).path("modes");
            return m.isObject() ? json.treeToValue(m,
                    io.edgefleet.protocol.ModeTimes.class) : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    @GET
    @Path("/models")
    @Operation(summary = "Console: models", description = "Versions with lineage, each class's variants, compression"
            + " jobs with their reports, and plans with their Pareto plot pages.")
    public String models(@Context ContainerRequestContext ctx) {
        List<ModelRow> rows = new ArrayList<>();
        for (var m : models.list()) {
            rows.add(new ModelRow(m.name(), models.versions(m.name())));
        }
        List<VariantRow> variants = new ArrayList<>();
        for (DeviceClassView c : classes.list()) {
            for (var v : planner.variants(c.id())) {
                variants.add(new VariantRow(c.id(), v));
            }
        }
        return page(ctx, modelsPage, "models").data("models", rows).data("variants", variants)
                .data("jobs", compressions.list(null)).data("plans", planner.list(null)).render();
    }

    public record ModelRow(String name, List<?> versions) {
    }

    public record VariantRow(String classId, Object v) {
    }

    @GET
    @Path("/rollouts")
    @Operation(summary = "Console: rollouts", description = "Every deployment with its progress, and a form to start"
            + " one in waves.")
    public String rolloutList(@Context ContainerRequestContext ctx) {
        return page(ctx, rolloutsPage, "rollouts").data("deployments", rollouts.list())
                .data("classes", classes.list()).data("models", models.list())
                .data("canCreate", can(ctx, "/api/v1/deployments")).render();
    }

    @GET
    @Path("/rollouts/{id}")
    @Operation(summary = "Console: one rollout", description = "Its waves live (progress, gates with their numbers,"
            + " halt), with pause, resume, abort and roll back buttons for the roles that may.")
    @APIResponse(responseCode = "404", description = "No such deployment.")
    public String rollout(@Context ContainerRequestContext ctx, @PathParam("id") String id) {
        var d = rollouts.get(id);
        return page(ctx, rolloutPage, "rollouts").data("d", d)
                .data("canControl", can(ctx, "/api/v1/deployments/" + id + "/pause")).render();
    }

    @GET
    @Path("/alerts")
    @Operation(summary = "Console: alerts", description = "Firing alerts and the history, each with its runbook and"
            + " what its action caused (a rollback, a re-compression request).")
    public String alertList(@Context ContainerRequestContext ctx) {
        List<RecompressionView> requests = alerts.recompressionRequests(null);
        List<AlertRow> firing = new ArrayList<>();
        List<AlertRow> history = new ArrayList<>();
        for (AlertView a : alerts.list(null, null, 200)) {
            AlertRow row = alertRow(a, requests);
            (a.state() == io.edgefleet.server.alert.AlertState.FIRING ? firing : history).add(row);
        }
        return page(ctx, alertsPage, "alerts").data("firing", firing).data("history", history).render();
    }

    /** An alert with its runbook (when the console has one) and what its action did. */
    public record AlertRow(AlertView a, String runbook, List<String> deployments, List<RecompressionView> recompressions) {
    }

    AlertRow alertRow(AlertView a, List<RecompressionView> requests) {
        String name = runbookName(a);
        List<String> deps = new ArrayList<>();
        if (a.actionResult() != null) {
            Matcher m = ROLLED_BACK.matcher(a.actionResult());
            if (m.find()) {
                for (String id : m.group(1).split("[,\\s]+")) {
                    if (!id.isBlank()) {
                        deps.add(id.trim());
                    }
                }
            }
        }
        List<RecompressionView> caused = requests.stream().filter(r -> r.alertId() == a.id()).toList();
        return new AlertRow(a, runbooks.exists(name) ? "/console/runbooks/" + name : null, deps, caused);
    }

    /** The runbook the alert's {@code runbook_url} annotation names (by metric for built-in and custom rules alike). */
    static String runbookName(AlertView a) {
        String url = a.annotations() == null ? null : a.annotations().get("runbook_url");
        if (url != null && url.endsWith(".md")) {
            return url.substring(url.lastIndexOf('/') + 1, url.length() - 3);
        }
        return a.name();
    }

    @GET
    @Path("/classes/{id}")
    @Operation(summary = "Console: one device class", description = "Its SLOs, the closed-loop switch, the cost model"
            + " fitted from device benchmark reports (with its error), the benchmark jobs, and hourly telemetry"
            + " rollups of the class as plots.")
    @APIResponse(responseCode = "404", description = "No such device class.")
    public String deviceClass(@Context ContainerRequestContext ctx, @PathParam("id") String id) {
        DeviceClassView c = classes.get(id);
        FleetQueries.ClassCounts counts = fleet.countsByClass().getOrDefault(id,
                new FleetQueries.ClassCounts(id, 0, 0, List.of()));
        return page(ctx, classPage, "fleet").data("c", c).data("counts", counts).data("loop", loops.mode(id))
                .data("modes", LOOP_MODES)
                .data("loops", loops.list(id, null, 10))
                .data("cost", benchmarks.costModel(id)).data("benchmarks", benchmarks.list(id, 20))
                .data("models", models.list())
                .data("canSetLoop", can(ctx, "PUT", "/api/v1/device-classes/" + id + "/loop"))
                .data("canBenchmark", can(ctx, "POST", "/api/v1/device-classes/" + id + "/benchmarks"))
                .data("rollupSource", "/api/v1/telemetry/hourly?classId=" + enc(id))
                .data("rollupSlo", c.slo().p95LatencyMs())
                .data("rawRetentionDays", telemetryConfig.rawRetention().toDays()).render();
    }

    @GET
    @Path("/loops")
    @Operation(summary = "Console: closed loops", description = "Every class's loop switch, the loops awaiting"
            + " approval, and every loop (newest 200) with its state, strategy, alert, plan, variant and canary.")
    @APIResponse(responseCode = "400", description = "Unknown state filter.")
    public String loopList(@Context ContainerRequestContext ctx, @QueryParam("state") String state,
                           @QueryParam("classId") String classId) {
        List<LoopView> all = loops.list(blank(classId), blank(state), 200);
        List<LoopView> awaiting = all.stream().filter(l -> l.state() == LoopState.AWAITING_APPROVAL).toList();
        List<ClassLoopView> modes = new ArrayList<>();
        for (DeviceClassView c : classes.list()) {
            modes.add(loops.mode(c.id()));
        }
        return page(ctx, loopsPage, "loops").data("loops", all).data("awaiting", awaiting).data("classModes", modes)
                .data("modes", LOOP_MODES)
                .data("filterState", nz(state)).data("filterClass", nz(classId))
                .data("states", java.util.Arrays.stream(LoopState.values()).map(Enum::name).toList())
                .data("canApprove", can(ctx, "POST", "/api/v1/loops/x/approve"))
                .data("canSetLoop", can(ctx, "PUT", "/api/v1/device-classes/x/loop")).render();
    }

    @GET
    @Path("/loops/{id}")
    @Operation(summary = "Console: one closed loop", description = "Its audit trail: the alert that caused it, the"
            + " decision and its reason, the re-plan job, the gated variant, the canary rollout, the outcome and"
            + " every transition; approve and reject while it awaits approval, and the class's loop switch.")
    @APIResponse(responseCode = "404", description = "No such loop.")
    public String loop(@Context ContainerRequestContext ctx, @PathParam("id") String id) {
        LoopView l = loops.get(id);
        return page(ctx, loopPage, "loops").data("l", l).data("classLoop", loops.mode(l.classId()))
                .data("modes", LOOP_MODES)
                .data("alert", l.alertId() == null ? null : alerts.list(null, null, 1000).stream()
                        .filter(a -> a.id() == l.alertId()).findFirst().orElse(null))
                .data("awaiting", l.state() == LoopState.AWAITING_APPROVAL)
                .data("canApprove", can(ctx, "POST", "/api/v1/loops/" + id + "/approve"))
                .data("canSetLoop", can(ctx, "PUT", "/api/v1/device-classes/" + l.classId() + "/loop")).render();
    }

    @GET
    @Path("/runbooks/{name}")
    @Operation(summary = "Console: a runbook", description = "The runbook of an alert (docs/runbooks/), as HTML.")
    @APIResponse(responseCode = "404", description = "No runbook of that name.")
    public String runbook(@Context ContainerRequestContext ctx, @PathParam("name") String name) {
        String html = runbooks.html(name).orElseThrow(() -> ApiException.notFound("runbook", name));
        return page(ctx, runbookPage, "alerts").data("name", name).data("html", html).render();
    }

    // ---------------------------------------------------------------- helpers

    private TemplateInstance page(ContainerRequestContext ctx, Template t, String nav) {
        ApiToken.Principal p = (ApiToken.Principal) ctx.getProperty(ApiTokenFilter.PRINCIPAL);
        String csrf = ctx.getProperty(ApiTokenFilter.SESSION) instanceof ConsoleSessions.Session s ? s.csrf() : "";
        return t.data("user", p.name()).data("role", p.role().label()).data("csrf", csrf).data("nav", nav)
                .data("pollMs", config.console().pollInterval().toMillis())
                .data("pollSeconds", Math.max(1, config.console().pollInterval().toSeconds()));
    }

    private static boolean can(ContainerRequestContext ctx, String path) {
        return can(ctx, "POST", path);
    }

    private static boolean can(ContainerRequestContext ctx, String method, String path) {
        ApiToken.Principal p = (ApiToken.Principal) ctx.getProperty(ApiTokenFilter.PRINCIPAL);
        return AccessPolicy.decide(p.role(), method, path).allowed();
    }

    private static String nextLink(Map<String, Object> filter, String cursor) {
        StringBuilder sb = new StringBuilder("/console?");
        filter.forEach((k, v) -> {
            if (v != null && !v.toString().isEmpty()) {
                sb.append(k).append('=').append(enc(v.toString())).append('&');
            }
        });
        return sb.append("cursor=").append(enc(cursor)).toString();
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
