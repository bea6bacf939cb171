package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.drift.DriftMonitor;
import io.edgefleet.agent.inference.InferenceListener;
import io.edgefleet.agent.inference.Observation;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.LatencyStats;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Collects the inferences of the current window: latencies in microseconds in an HdrHistogram
 * {@link Recorder} (lock-free for the inference thread) and an error count. {@link #cut} closes the
 * window and starts the next.
 */
public final class WindowRecorder implements InferenceListener {
    /** One hour in microseconds: anything slower is clamped, not lost. */
    static final long MAX_MICROS = 3_600_000_000L;

    /**
     * Auto-resizing: its counts cover only the range recorded so far. Sized for the full hour up front, each of the
     * Recorder's histograms (it keeps two, plus the reusable one) held about 180 KB of counts and every window cut
     * cleared them: 5,000 simulated agents held about 2.7 GB of empty counts, and the simulator spent a quarter of
     * its time in young GC (docs/scale.md). Same 3 significant digits; values are still clamped to {@link #MAX_MICROS}.
     */
    private final Recorder recorder = new Recorder(3);
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong cpuNanos = new AtomicLong();
    private volatile DriftMonitor drift;
    private volatile java.util.function.Consumer<Observation> capture;
    private volatile java.util.function.Supplier<io.edgefleet.protocol.ModeTimes> modes;
    private Histogram reusable;

    /**
     * The numbers of one closed window.
     *
     * @param cpuNanos CPU time the window's successful inferences used (the energy model's input)
     * @param drift    drift statistics of the window, or null (no reference yet, too few inferences)
     * @param modes    time per degradation mode and cascade escalations, or null (no light variant)
     */
    public record Window(long start, long end, long inferences, long errors, LatencyStats latency, long cpuNanos,
                         DriftReport drift, io.edgefleet.protocol.ModeTimes modes) {
        public Window(long start, long end, long inferences, long errors, LatencyStats latency) {
            this(start, end, inferences, errors, latency, 0, null, null);
        }

        public Window(long start, long end, long inferences, long errors, LatencyStats latency, long cpuNanos,
                      DriftReport drift) {
            this(start, end, inferences, errors, latency, cpuNanos, drift, null);
        }
    }

    private volatile long windowStart;

    public WindowRecorder(long startMillis) {
        this.windowStart = startMillis;
    }

    /** Bytes the last cut's histogram holds (tests: a recorder of typical latencies stays small). */
    synchronized long histogramFootprintBytes() {
        return reusable == null ? 0 : reusable.getEstimatedFootprintInBytes();
    }

    @Override
    public void onSuccess(long latencyNanos) {
        long micros = Math.max(1, Math.min(MAX_MICROS, latencyNanos / 1000));
        recorder.recordValue(micros);
    }

    @Override
    public void onInference(long latencyNanos, long cpu, Observation observation) {
        onSuccess(latencyNanos);
        if (cpu > 0) {
            cpuNanos.addAndGet(cpu);
        }
        DriftMonitor d = drift;
        if (d != null && observation != null) {
            d.observe(observation);
        }
        java.util.function.Consumer<Observation> c = capture;
        if (c != null && observation != null) {
            c.accept(observation);
        }
    }

    /** Receives every inference's observation for the opt-in input capture (null: none). */
    public void setCapture(java.util.function.Consumer<Observation> sampler) {
        this.capture = sampler;
    }

    /** The drift monitor of the model now in service (null: no drift statistics). */
    public void setDriftMonitor(DriftMonitor monitor) {
        this.drift = monitor;
    }

    /** Where each window's time per degradation mode comes from (null: the model has no light variant). */
    public void setModes(java.util.function.Supplier<io.edgefleet.protocol.ModeTimes> source) {
        this.modes = source;
    }

    public DriftMonitor driftMonitor() {
        return drift;
    }

    @Override
    public void onError(Throwable error) {
        errors.incrementAndGet();
    }

    /** Closes the current window at {@code nowMillis}; successes are counted from the histogram itself. */
    public synchronized Window cut(long nowMillis) {
        Histogram h = recorder.getIntervalHistogram(reusable);
        long errs = errors.getAndSet(0);
        long cpu = cpuNanos.getAndSet(0);
        DriftMonitor d = drift;
        DriftReport report = d == null ? null : d.cut();
        long start = windowStart;
        windowStart = Math.max(nowMillis, start);
        long successes = h.getTotalCount();
        LatencyStats latency = successes == 0 ? null : stats(h);
        reusable = h;
        java.util.function.Supplier<io.edgefleet.protocol.ModeTimes> m = modes;
        return new Window(start, Math.max(start, nowMillis), successes + errs, errs, latency, cpu, report,
                m == null ? null : m.get());
    }

    /** Percentiles of a histogram of microseconds, in milliseconds, ordered as the protocol requires. */
    public static LatencyStats stats(Histogram h) {
        double p50 = ms(h.getValueAtPercentile(50));
        double p95 = ms(h.getValueAtPercentile(95));
        double p99 = ms(h.getValueAtPercentile(99));
        double max = ms(h.getMaxValue());
        double mean = round(h.getMean() / 1000.0);
        // Percentiles come from bucket upper bounds; keep them ordered as the protocol requires.
        p95 = Math.max(p95, p50);
        p99 = Math.max(p99, p95);
        max = Math.max(max, p99);
        return new LatencyStats(p50, p95, p99, max, mean);
    }

    private static double ms(long micros) {
        return round(micros / 1000.0);
    }

    private static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }
}
