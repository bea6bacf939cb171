package io.edgefleet.server.security;

import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ErrorCode;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;

/**
 * Requires {@code Authorization: Bearer <token>} on every {@code /api/**} request. Runs before
 * routing so an unauthenticated caller learns nothing, not even which paths exist.
 * {@code /q/health} lives outside {@code /api} and stays open for probes.
 */
@Provider
@PreMatching
public class ApiTokenFilter implements ContainerRequestFilter {
    private static final String BEARER = "Bearer ";

    @Inject
    ApiToken apiToken;

    @Override
    public void filter(ContainerRequestContext ctx) {
        String path = ctx.getUriInfo().getPath();
        if (!(path.equals("/api") || path.startsWith("/api/"))) {
            return;
        }
        String header = ctx.getHeaderString(HttpHeaders.AUTHORIZATION);
        String reason;
        if (header == null || header.isBlank()) {
            reason = "missing Authorization header: send 'Authorization: Bearer <api token>'";
        } else if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            reason = "Authorization header must use the Bearer scheme";
        } else if (!apiToken.matches(header.substring(BEARER.length()).trim())) {
            reason = "invalid API token";
        } else {
            return;
        }
        ctx.abortWith(Response.status(401)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"edgefleet\"")
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ApiError.of(ErrorCode.UNAUTHORIZED, reason))
                .build());
    }
}
