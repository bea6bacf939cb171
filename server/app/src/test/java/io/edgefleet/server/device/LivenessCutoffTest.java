package io.edgefleet.server.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When the liveness sweep may judge silence, and up to when: by arrival at this server, not by storage. */
class LivenessCutoffTest {
    static final long NOW = 1_000_000;
    static final long AFTER = 45_000;
    static final long EVERY = 5_000;

    /**
     * hearingSince (0: not connected), heardUpTo (arrival of the oldest uncommitted message, NOW if none),
     * lastBackpressureAt (0: never) -> cutoff ("-": no sweep now).
     */
    @ParameterizedTest(name = "since {0}, heard up to {1}, held back at {2} -> {3}")
    @CsvSource({
        // connected long enough, nothing queued: silence is judged up to now
        "100000,  1000000, 0,       955000",
        // not connected / connected for less than the bound: the silence is the server's, not the devices'
        "0,       1000000, 0,       -",
        "960000,  1000000, 0,       -",
        "955000,  1000000, 0,       955000",
        // windows queued since 990,000 and not stored yet: judged up to their arrival, not up to now
        "100000,  990000,  0,       945000",
        // a queue 60 s behind: a device whose windows wait there is not swept for the wait
        "100000,  940000,  0,       895000",
        // the broker was held back within the last sweep period: messages of unknown age wait there
        "100000,  1000000, 999000,  -",
        "100000,  990000,  995000,  -",
        // ... but an old hold-back no longer matters (the broker has sent what it held since)
        "100000,  1000000, 994000,  955000",
        "100000,  1000000, 10000,   955000",
        // a horizon in the future (clock step) never moves the cutoff past now
        "100000,  1200000, 0,       955000",
    })
    void cutoff(long hearingSince, long heardUpTo, long lastBackpressureAt, String expected) {
        OptionalLong want = "-".equals(expected) ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(expected));
        assertEquals(want, LivenessSweep.cutoff(NOW, hearingSince, heardUpTo, lastBackpressureAt, AFTER, EVERY));
    }
}
