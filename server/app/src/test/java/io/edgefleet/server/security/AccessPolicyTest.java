package io.edgefleet.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The role matrix as a table: every role against representative method + path pairs of each area. A row reads
 * "method path | viewer operator sre admin" with Y for allowed and . for 403.
 */
class AccessPolicyTest {

    static final String[] TABLE = {
        // reads: everyone
        "GET    /api/v1/devices                                   | Y Y Y Y",
        "GET    /api/v1/deployments/d-1                           | Y Y Y Y",
        "GET    /api/v1/alerts                                    | Y Y Y Y",
        "GET    /api/v1/plans/p-1/page                            | Y Y Y Y",
        "GET    /console                                          | Y Y Y Y",
        "GET    /console/rollouts/d-1                             | Y Y Y Y",
        "GET    /console/loops                                    | Y Y Y Y",
        "GET    /console/loops/l-1                                | Y Y Y Y",
        "GET    /console/classes/pi4                              | Y Y Y Y",
        "GET    /api/v1/device-classes/pi4/benchmarks             | Y Y Y Y",
        "GET    /api/v1/telemetry/hourly                          | Y Y Y Y",
        "HEAD   /api/v1/models/kws/versions/1/artifact            | Y Y Y Y",
        // broker credential files are not fleet state
        "GET    /api/v1/broker/mosquitto/passwd                   | . Y . Y",
        "GET    /api/v1/broker/mosquitto/acl                      | . Y . Y",
        "GET    /api/v1/broker                                    | Y Y Y Y",
        "GET    /api/v1/broker/server-logins                      | Y Y Y Y",
        "DELETE /api/v1/broker/server-logins/edgefleet-server-1   | . . . Y",
        // operator areas
        "POST   /api/v1/device-classes                            | . Y . Y",
        "PUT    /api/v1/device-classes/pi4                        | . Y . Y",
        "POST   /api/v1/devices                                   | . Y . Y",
        "POST   /api/v1/device-registrations                      | . Y . Y",
        "POST   /api/v1/devices/pi4-1/credentials                 | . Y . Y",
        "DELETE /api/v1/devices/pi4-1/credentials                 | . Y . Y",
        "POST   /api/v1/devices/pi4-1/rollback                    | . Y . Y",
        "POST   /api/v1/models/kws/versions                       | . Y . Y",
        "POST   /api/v1/models/kws/versions/1/compressions        | . Y . Y",
        "POST   /api/v1/models/kws/versions/1/plans               | . Y . Y",
        "POST   /api/v1/models/kws/versions/1/reference-profile   | . Y . Y",
        "POST   /api/v1/datasets/calib                            | . Y . Y",
        "DELETE /api/v1/compression-jobs/c-1                      | . Y . Y",
        "POST   /api/v1/plans/p-1/cancel                          | . Y . Y",
        "POST   /api/v1/deployments                               | . Y . Y",
        // steering a rollout: operator and SRE
        "POST   /api/v1/deployments/d-1/pause                     | . Y Y Y",
        "POST   /api/v1/deployments/d-1/resume                    | . Y Y Y",
        "POST   /api/v1/deployments/d-1/abort                     | . Y Y Y",
        "POST   /api/v1/deployments/d-1/rollback                  | . Y Y Y",
        "POST   /api/v1/deployments/d-1/pause/extra               | . Y . Y",
        // alerting: SRE
        "POST   /api/v1/alert-rules                               | . . Y Y",
        "PUT    /api/v1/alert-rules/r-1                           | . . Y Y",
        "DELETE /api/v1/alert-rules/r-1                           | . . Y Y",
        "POST   /api/v1/alerts/42/ack                             | . . Y Y",
        "POST   /api/v1/recompression-requests/7/approve          | . . Y Y",
        // closed-loop approvals: operator and SRE; anything else under /loops stays the SRE's
        "POST   /api/v1/loops/kws/approve                         | . Y Y Y",
        "POST   /api/v1/loops/kws/reject                          | . Y Y Y",
        "POST   /api/v1/loops/kws/approve/extra                   | . . Y Y",
        "DELETE /api/v1/loops/kws                                 | . . Y Y",
        // the closed loop's per-class switch: operator and SRE
        "PUT    /api/v1/device-classes/pi4/loop                   | . Y Y Y",
        // devices measure, capture opt-in, fleet rollouts: operator
        "POST   /api/v1/device-classes/pi4/benchmarks             | . Y . Y",
        "PUT    /api/v1/devices/pi4-1/capture                     | . Y . Y",
        "POST   /api/v1/models/kws/versions/1/fleet-rollouts      | . Y . Y",
        // console sign-out: anyone signed in
        "POST   /console/logout                                   | Y Y Y Y",
        // anything not in the table: admin only
        "POST   /api/v1/server-keys                               | . . . Y",
        "POST   /api/v1/stats                                     | . . . Y",
        "POST   /console/anything                                 | . . . Y",
        "PATCH  /api/v1/something-new                             | . . . Y",
        // path tricks do not slip past a rule
        "POST   //api/v1//alert-rules/                            | . . Y Y",
        "GET    /api/v1/broker/mosquitto//passwd                  | . Y . Y",
    };

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String row : TABLE) {
            String[] halves = row.split("\\|");
            String[] req = halves[0].trim().split("\\s+");
            String[] marks = halves[1].trim().split("\\s+");
            Role[] roles = {Role.VIEWER, Role.OPERATOR, Role.SRE, Role.ADMIN};
            assertEquals(4, marks.length, row);
            for (int i = 0; i < 4; i++) {
                out.add(Arguments.of(roles[i], req[0], req[1], marks[i].equals("Y")));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @MethodSource("cases")
    void roleMatrix(Role role, String method, String path, boolean allowed) {
        AccessPolicy.Decision d = AccessPolicy.decide(role, method, path);
        assertEquals(allowed, d.allowed(), role + " " + method + " " + path + " (rule '" + d.rule() + "')");
        assertEquals(true, d.rolesAllowed().contains(Role.ADMIN), "admin may always: " + path);
    }
}
