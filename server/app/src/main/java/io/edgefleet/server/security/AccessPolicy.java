package io.edgefleet.server.security;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one table of who may call what, for {@code /api/**} and {@code /console/**} alike: the first rule whose
 * method and path match decides. Reads are open to every role (but the broker's credential files); a write
 * nobody listed here is for {@link Role#ADMIN} only, so a new endpoint is never open by accident — add its
 * row here (and to {@code AccessPolicyTest}) when it is meant for another role. Plain Java; the HTTP edge is
 * {@link ApiTokenFilter}.
 */
public final class AccessPolicy {

    /** The answer for one request: allowed, or the roles that would have been. */
    public record Decision(boolean allowed, Set<Role> rolesAllowed, String rule) {
        /** "operator or admin", for the 403 message. */
        public String needed() {
            return rolesAllowed.stream().map(Role::label).collect(Collectors.joining(" or "));
        }
    }

    record Rule(String name, Set<String> methods, Pattern path, Set<Role> roles) {
        boolean matches(String method, String p) {
            return (methods.isEmpty() || methods.contains(method)) && path.matcher(p).matches();
        }
    }

    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Set<String> ANY = Set.of();
    private static final Set<Role> ALL = EnumSet.allOf(Role.class);
    private static final Set<Role> OPERATOR = EnumSet.of(Role.OPERATOR, Role.ADMIN);
    private static final Set<Role> SRE = EnumSet.of(Role.SRE, Role.ADMIN);
    private static final Set<Role> OPERATOR_OR_SRE = EnumSet.of(Role.OPERATOR, Role.SRE, Role.ADMIN);
    private static final Set<Role> ADMIN = EnumSet.of(Role.ADMIN);

    private static final String ID = "[^/]+";

    private static final List<Rule> RULES = List.of(
            // Broker password hashes and ACLs are credentials, not fleet state.
            rule("broker credential files", READS, "/api/v1/broker/mosquitto/.*", OPERATOR),
            rule("read", READS, "/(api|console)(/.*)?", ALL),
            // Console session handling: any signed-in user may sign out.
            rule("console logout", Set.of("POST"), "/console/logout", ALL),
            // Halting or steering a running rollout is the SRE's job as well as the operator's.
            rule("deployment control", Set.of("POST"), "/api/v1/deployments/" + ID + "/(pause|resume|abort|rollback)",
                    OPERATOR_OR_SRE),
            // A class's closed-loop switch (automatic / approve / off): the operator's and the on-call SRE's call.
            rule("closed-loop switch", Set.of("PUT"), "/api/v1/device-classes/" + ID + "/loop", OPERATOR_OR_SRE),
            // Approving or rejecting a waiting closed loop (re-plan, then a canary): operator's and SRE's call.
            rule("loop approvals", Set.of("POST"), "/api/v1/loops/" + ID + "/(approve|reject)", OPERATOR_OR_SRE),
            rule("alerting", ANY, "/api/v1/(alert-rules|alerts|recompression-requests|loops)(/.*)?", SRE),
            rule("approvals", ANY, "/api/v1/.*/approv(e|al|als)(/.*)?", SRE),
            rule("fleet and models", ANY,
                    "/api/v1/(device-classes|devices|device-registrations|models|datasets|compression-jobs|plans|deployments)(/.*)?",
                    OPERATOR),
            rule("anything else", ANY, "/.*", ADMIN));

    private AccessPolicy() {
    }

    private static Rule rule(String name, Set<String> methods, String regex, Set<Role> roles) {
        return new Rule(name, methods, Pattern.compile(regex), roles);
    }

    /** @param path the request path as routed, starting with {@code /}, without query string */
    public static Decision decide(Role role, String method, String path) {
        String m = method.toUpperCase(Locale.ROOT);
        String p = normalize(path);
        for (Rule r : RULES) {
            if (r.matches(m, p)) {
                return new Decision(r.roles().contains(role), r.roles(), r.name());
            }
        }
        return new Decision(role == Role.ADMIN, ADMIN, "anything else");
    }

    /** Collapses repeated and trailing slashes so {@code //api/v1//alert-rules/} cannot slip past a rule. */
    static String normalize(String path) {
        String p = path == null || path.isEmpty() ? "/" : path;
        if (!p.startsWith("/")) {
            p = "/" + p;
        }
        p = p.replaceAll("/{2,}", "/");
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }
}
