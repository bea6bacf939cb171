package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttToken;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;

class InflightRetryTest {

    /** A clock that only moves when the code under test sleeps, and records each sleep. */
    static final class FakeClock implements InflightRetry.Clock {
        long now;
        final List<Long> sleeps = new ArrayList<>();

        @Override
        public long nowMillis() {
            return now;
        }

        @Override
        public void sleep(long millis) {
            sleeps.add(millis);
            now += millis;
        }
    }

    static MqttException windowFull() {
        return new MqttException(MqttClientException.REASON_CODE_MAX_INFLIGHT);
    }

    @Test
    void aFullWindowIsWaitedOutWithABackoffAndThePublishStarts() throws Exception {
        FakeClock clock = new FakeClock();
        IMqttToken token = new MqttToken("test");
        int[] calls = {0};
        IMqttToken got = InflightRetry.start(() -> {
            if (++calls[0] <= 3) {
                throw windowFull();
            }
            return token;
        }, 30_000, clock);
        assertSame(token, got);
        assertEquals(4, calls[0]);
        assertEquals(List.of(2L, 4L, 8L), clock.sleeps);
    }

    @Test
    void theBackoffIsCappedAndAWindowStillFullAtTheDeadlineFails() {
        FakeClock clock = new FakeClock();
        int[] calls = {0};
        MqttException e = assertThrows(MqttException.class, () -> InflightRetry.start(() -> {
            calls[0]++;
            throw windowFull();
        }, 1_000, clock));
        assertEquals(MqttClientException.REASON_CODE_MAX_INFLIGHT, e.getReasonCode());
        assertEquals(1_000, clock.now, "it waits exactly until the deadline, not past it");
        assertEquals(InflightRetry.MAX_BACKOFF_MS, clock.sleeps.stream().mapToLong(Long::longValue).max().orElse(0));
        assertEquals(clock.sleeps.size() + 1, calls[0]);
    }

    @Test
    void anyOtherErrorIsThrownAtOnce() {
        FakeClock clock = new FakeClock();
        int[] calls = {0};
        MqttException e = assertThrows(MqttException.class, () -> InflightRetry.start(() -> {
            calls[0]++;
            throw new MqttException(MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED);
        }, 30_000, clock));
        assertEquals(MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED, e.getReasonCode());
        assertEquals(1, calls[0]);
        assertEquals(List.of(), clock.sleeps);
    }
}
