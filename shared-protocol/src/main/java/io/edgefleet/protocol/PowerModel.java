package io.edgefleet.protocol;

/**
 * A device class's power model, delivered to its devices in the signed manifest: the board's draw
 * when idle and when busy running inferences, in watts. An agent without an energy sensor charges each
 * inference its CPU time × ({@code activeWatts} − {@code idleWatts}).
 */
public record PowerModel(double idleWatts, double activeWatts) {

    public void validate() {
        Message.require(Double.isFinite(idleWatts) && idleWatts >= 0 && Double.isFinite(activeWatts)
                        && activeWatts >= idleWatts && activeWatts <= 100_000, ReasonCode.INVALID_FIELD,
                "power model needs 0 <= idleWatts <= activeWatts");
    }

    /** Watts an inference adds on top of idle. */
    public double dynamicWatts() {
        return activeWatts - idleWatts;
    }
}
