package io.edgefleet.server.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Protocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatusRulesTest {
    static final long NOW = 1_000_000;

    /**
     * Current (online, swept, statusTs, connection) x incoming (state, ts, connection) -> verdict. "-" is null.
     */
    @ParameterizedTest(name = "{0}/{1}/{2}/{3} + {4}@{5}/{6} -> {7}")
    @CsvSource({
        // no history: anything applies
        "false, false, -,      -,  ONLINE,  1000,   c1, APPLY",
        // the will of the current connection applies although it is older than that connection's ONLINE
        "true, false,  2000,   c1, OFFLINE, 1000,   c1, APPLY",
        // a will of an earlier connection is stale whatever its timestamp
        "true, false,  2000,   c2, OFFLINE, 3000,   c1, STALE",
        // a late ONLINE of the connection whose will took the device offline is stale
        "false, false, 2000,   c1, ONLINE,  2000,   c1, STALE",
        // ... but not when the sweep took it offline: that connection may well be alive
        "false, true,  2000,   c1, ONLINE,  2000,   c1, APPLY",
        // a new connection comes online
        "false, false, 2000,   c1, ONLINE,  2500,   c2, APPLY",
        // an older ONLINE of another connection is stale
        "true, false,  2000,   c2, ONLINE,  1500,   c1, STALE",
        // agents without connection ids: timestamps decide
        "true, false,  2000,   -,  OFFLINE, 1000,   -,  STALE",
        "true, false,  2000,   -,  OFFLINE, 3000,   -,  APPLY",
        "true, false,  2000,   c1, OFFLINE, 3000,   -,  APPLY",
        // a future-dated status counts as received now: it applies, but cannot block what comes after it
        "true, false,  2000,   -,  ONLINE,  9999999, -, APPLY",
    })
    void judge(boolean online, boolean swept, String statusTs, String conn, DeviceStatus.State state, long ts,
               String sconn, StatusRules.Verdict expected) {
        StatusRules.Current current = new StatusRules.Current(online, swept, "-".equals(statusTs) ? null : Long.valueOf(statusTs),
                "-".equals(conn) ? null : conn);
        DeviceStatus s = new DeviceStatus(Protocol.VERSION, "m", ts, "d", state, null, null, "1",
                "-".equals(sconn) ? null : sconn);
        assertEquals(expected, StatusRules.judge(current, s, NOW));
    }

    /**
     * The broker's retained copy, read when the server subscribes: it applies only when it is newer than what the
     * server holds (a device that came online while no server listened), never when it repeats it.
     */
    @ParameterizedTest(name = "{0}/{1}/{2}/{3} + retained {4}@{5}/{6} -> {7}")
    @CsvSource({
        // came online on a new connection while the server was not subscribed: the copy is the only news
        "true, false,  2000,   c1, ONLINE,  3000,   c2, APPLY",
        "false, false, 2000,   c1, ONLINE,  3000,   c2, APPLY",
        "false, false, -,      -,  ONLINE,  3000,   c2, APPLY",
        // the status the server applied already, retained: nothing new (live, the same one would apply)
        "true, false,  3000,   c2, ONLINE,  3000,   c2, STALE",
        // a swept device's last ONLINE, still retained: no sign of life, it stays swept
        "false, true,  3000,   c2, ONLINE,  3000,   c2, STALE",
        // an older retained status of any kind
        "true, false,  3000,   c2, OFFLINE, 2000,   -,  STALE",
        // the will of the current connection, retained, newer than the ONLINE: applies
        "true, false,  2000,   c2, OFFLINE, 2500,   c2, APPLY",
        // ... and older than it (the will is built first): a device that died while no server listened goes offline
        "true, false,  3000,   c2, OFFLINE, 2000,   c2, APPLY",
        // ... unless the server applied that will already
        "false, false, 3000,   c2, OFFLINE, 2000,   c2, STALE",
    })
    void retainedCopies(boolean online, boolean swept, String statusTs, String conn, DeviceStatus.State state, long ts,
                        String sconn, StatusRules.Verdict expected) {
        StatusRules.Current current = new StatusRules.Current(online, swept, "-".equals(statusTs) ? null : Long.valueOf(statusTs),
                "-".equals(conn) ? null : conn);
        DeviceStatus s = new DeviceStatus(Protocol.VERSION, "m", ts, "d", state, null, null, "1",
                "-".equals(sconn) ? null : sconn);
        assertEquals(expected, StatusRules.judge(current, s, NOW, true));
    }

    @ParameterizedTest
    @CsvSource({"1000, 1000", "999999, 999999", "1000000, 1000000", "5000000, 1000000"})
    void timestampsAreClampedToReceiveTime(long ts, long effective) {
        DeviceStatus s = new DeviceStatus(Protocol.VERSION, "m", ts, "d", DeviceStatus.State.ONLINE, null, null, "1", null);
        assertEquals(effective, StatusRules.effectiveTs(s, NOW));
    }
}
