package io.edgefleet.server.mqtt;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;

/**
 * Starts a publish again when Paho refuses it only because its client already has as many QoS 1 publishes in
 * flight as the broker's Receive Maximum allows ({@code REASON_CODE_MAX_INFLIGHT}, "Too many publishes in
 * progress"). Several senders share the server's one client (command dispatch, artifact chunks, retained
 * statuses), so a burst of commands can fill the window while an artifact is being published; that is a moment's
 * congestion, not a failure, and it must not turn an upload or a benchmark request into a 503. Backs off from
 * {@link #FIRST_BACKOFF_MS} doubling to {@link #MAX_BACKOFF_MS}; any other error, or the window still full at the
 * deadline, is thrown as it is.
 */
final class InflightRetry {
    static final long FIRST_BACKOFF_MS = 2;
    static final long MAX_BACKOFF_MS = 100;

    /** One attempt to start a publish. */
    interface Attempt {
        IMqttToken start() throws MqttException;
    }

    /** Time and waiting, replaceable in tests. */
    interface Clock {
        long nowMillis();

        void sleep(long millis) throws InterruptedException;
    }

    static final Clock SYSTEM = new Clock() {
        @Override
        public long nowMillis() {
            return System.nanoTime() / 1_000_000;
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }
    };

    private InflightRetry() {
    }

    static boolean isWindowFull(MqttException e) {
        return e.getReasonCode() == MqttClientException.REASON_CODE_MAX_INFLIGHT;
    }

    /** Runs {@code attempt}, again after a backoff while the window is full, until {@code timeoutMs} passed. */
    static IMqttToken start(Attempt attempt, long timeoutMs, Clock clock) throws MqttException {
        long deadline = clock.nowMillis() + timeoutMs;
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            try {
                return attempt.start();
            } catch (MqttException e) {
                long left = deadline - clock.nowMillis();
                if (!isWindowFull(e) || left <= 0) {
                    throw e;
                }
                try {
                    clock.sleep(Math.min(backoff, left));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }
}
