package io.edgefleet.server.security;

/** Fired (transactionally) when a device's credential is rotated or revoked; observers act after commit. */
public record CredentialsChanged(String deviceId, boolean revoked) {
}
