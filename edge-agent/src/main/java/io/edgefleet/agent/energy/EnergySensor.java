package io.edgefleet.agent.energy;

import java.io.IOException;

/** A measured energy source: a cumulative energy reading of the whole device (or package) in joules. */
public interface EnergySensor {
    /** {@code rapl} or {@code hwmon}: what a telemetry window names as its energy source. */
    String source();

    /** Takes a reading; a sensor that integrates power does its integration step here. */
    void sample() throws IOException;

    /** Joules since the sensor was opened, as of the last {@link #sample}. Monotonic. */
    double totalJoules();
}
