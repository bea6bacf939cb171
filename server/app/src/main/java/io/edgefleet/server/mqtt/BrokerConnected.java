package io.edgefleet.server.mqtt;

/** Fired each time the gateway (re)connects to the broker; rollouts then republish and resend what is pending. */
public record BrokerConnected(boolean reconnect) {
}
