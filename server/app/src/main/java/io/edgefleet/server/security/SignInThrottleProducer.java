package io.edgefleet.server.security;

import io.edgefleet.server.config.EdgefleetConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The server's one {@link SignInThrottle}, configured from {@code edgefleet.console.sign-in-*}. */
public class SignInThrottleProducer {
    /** Client records held at once (each a few dozen bytes). */
    static final int MAX_CLIENTS = 10_000;

    @Produces
    @Singleton
    SignInThrottle throttle(EdgefleetConfig config) {
        EdgefleetConfig.Console c = config.console();
        return new SignInThrottle(c.signInMaxFailures(), c.signInWindow(), c.signInLockout(), c.signInMaxLockout(),
                MAX_CLIENTS);
    }
}
