package io.edgefleet.server.loop;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/** {@code edgefleet.loop.*}: the closed loop's schedule, guardrails and canary. */
@ConfigMapping(prefix = "edgefleet.loop")
public interface LoopConfig {
    /** Run the loop on a schedule ({@code edgefleet.loop.interval}); false: re-compression requests stay OPEN. */
    @WithDefault("true")
    boolean enabled();

    /** How often open re-compression requests are taken and running loops advanced. */
    @WithDefault("10s")
    Duration interval();

    /** At most one loop per class starts within this time. */
    @WithDefault("6h")
    Duration cooldown();

    /** The switch of a class nobody set: {@code automatic}, {@code approve} or {@code off}. */
    @WithName("default-mode")
    @WithDefault("approve")
    String defaultMode();

    /** Loops of a class ending rolled back in a row before the class backs off. */
    @WithName("max-consecutive-rollbacks")
    @WithDefault("2")
    int maxConsecutiveRollbacks();

    /** Soak of each wave of a loop's canary deployment. */
    @WithName("canary-soak-seconds")
    @WithDefault("300")
    long canarySoakSeconds();

    /** Telemetry windows of the new variant a wave's gates need before they judge. */
    @WithName("canary-min-windows")
    @WithDefault("3")
    int canaryMinWindows();
}
