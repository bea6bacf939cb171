package io.edgefleet.server.security;

import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ErrorCode;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

/**
 * Authentication and authorization of every {@code /api/**} and {@code /console/**} request, in one place.
 * A caller presents {@code Authorization: Bearer <token>} (scripts, the CLI) or the console's session cookie
 * ({@link ConsoleSessions}); a cookie-authenticated state-changing request must also carry the session's CSRF
 * token in {@code X-CSRF-Token}. Then {@link AccessPolicy} decides by role, method and path: 403
 * {@code FORBIDDEN} names the roles that may. Runs before routing so an unauthenticated caller learns nothing,
 * not even which paths exist. {@code /q/health} and the sign-in page stay open.
 */
@Provider
@PreMatching
public class ApiTokenFilter implements ContainerRequestFilter {
    private static final String BEARER = "Bearer ";
    /** The request property resources read the caller from. */
    public static final String PRINCIPAL = "edgefleet.principal";
    public static final String SESSION = "edgefleet.session";
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS");

    @Inject
    ApiToken apiToken;

    @Inject
    ConsoleSessions sessions;

    @Override
    public void filter(ContainerRequestContext ctx) {
        String path = AccessPolicy.normalize(ctx.getUriInfo().getPath());
        boolean api = path.equals("/api") || path.startsWith("/api/");
        boolean console = path.equals("/console") || path.startsWith("/console/");
        if (!api && !console || path.equals("/console/login")) {
            return;
        }
        String method = ctx.getMethod();
        String header = ctx.getHeaderString(HttpHeaders.AUTHORIZATION);
        ApiToken.Principal principal;
        if (header != null && !header.isBlank()) {
            if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                unauthorized(ctx, "Authorization header must use the Bearer scheme");
                return;
            }
            Optional<ApiToken.Principal> p = apiToken.authenticate(header.substring(BEARER.length()).trim());
            if (p.isEmpty()) {
                unauthorized(ctx, "invalid API token");
                return;
            }
            principal = p.get();
        } else {
            Cookie cookie = ctx.getCookies().get(ConsoleSessions.COOKIE);
            Optional<ConsoleSessions.Session> session = sessions.find(cookie == null ? null : cookie.getValue());
            if (session.isEmpty()) {
                if (console && SAFE.contains(method)) {
                    String next = ctx.getUriInfo().getRequestUri().getRawPath();
                    String query = ctx.getUriInfo().getRequestUri().getRawQuery();
                    String target = next + (query == null ? "" : "?" + query);
                    ctx.abortWith(Response.seeOther(URI.create("/console/login?next="
                            + URLEncoder.encode(target, StandardCharsets.UTF_8))).build());
                } else {
                    unauthorized(ctx, cookie == null
                            ? "missing Authorization header: send 'Authorization: Bearer <api token>'"
                            : "console session expired: sign in again");
                }
                return;
            }
            if (!SAFE.contains(method) && !session.get().csrfMatches(ctx.getHeaderString(ConsoleSessions.CSRF_HEADER))) {
                forbidden(ctx, "a console request that changes state must carry the session's "
                        + ConsoleSessions.CSRF_HEADER + " header");
                return;
            }
            principal = session.get().principal();
            ctx.setProperty(SESSION, session.get());
        }
        AccessPolicy.Decision d = AccessPolicy.decide(principal.role(), method, path);
        if (!d.allowed()) {
            forbidden(ctx, "role " + principal.role().label() + " may not " + method + " " + path + ": needs "
                    + d.needed());
            return;
        }
        ctx.setProperty(PRINCIPAL, principal);
    }

    /**
     * Who made an authenticated request, for an audit field: the principal's name and the way in, e.g.
     * {@code "ops via console"} (a console session) or {@code "admin via api"} (a bearer token).
     */
    public static String actor(ContainerRequestContext ctx) {
        String name = ctx.getProperty(PRINCIPAL) instanceof ApiToken.Principal p ? p.name() : "unknown";
        return name + (ctx.getProperty(SESSION) instanceof ConsoleSessions.Session ? " via console" : " via api");
    }

    private static void unauthorized(ContainerRequestContext ctx, String reason) {
        ctx.abortWith(Response.status(401)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"edgefleet\"")
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ApiError.of(ErrorCode.UNAUTHORIZED, reason))
                .build());
    }

    private static void forbidden(ContainerRequestContext ctx, String reason) {
        ctx.abortWith(Response.status(403)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ApiError.of(ErrorCode.FORBIDDEN, reason))
                .build());
    }
}
