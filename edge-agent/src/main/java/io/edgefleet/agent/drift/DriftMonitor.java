package io.edgefleet.agent.drift;

import io.edgefleet.agent.inference.Observation;
import io.edgefleet.protocol.drift.Bins;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.DriftWindow;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import java.util.function.Consumer;

/**
 * Drift of one running model, window by window. With the signed reference profile from the manifest it
 * bins every inference against it from the start; without one it first takes the model's first
 * {@code selfSamples} inferences as the reference (source {@code self}) and bins what follows against
 * that. Only aggregates leave this class. Safe for several inference threads at once.
 */
public final class DriftMonitor {
    private static final System.Logger LOG = System.getLogger(DriftMonitor.class.getName());

    private final int minWindowSamples;
    private final int selfSamples;
    private final Consumer<ReferenceProfile> onSelfReference;
    private volatile DriftWindow window;
    private ProfileBuilder builder;

    /**
     * @param profile          the signed (or previously built self) profile, or null to build a self-reference
     * @param selfSamples      inferences that make up a self-reference
     * @param minWindowSamples fewer binned inferences report no drift yet; they carry over into the next window
     * @param onSelfReference  called once with a freshly built self-reference (the agent keeps it on disk)
     */
    public DriftMonitor(ReferenceProfile profile, int selfSamples, int minWindowSamples,
                        Consumer<ReferenceProfile> onSelfReference) {
        this.selfSamples = selfSamples;
        this.minWindowSamples = minWindowSamples;
        this.onSelfReference = onSelfReference;
        if (profile != null) {
            window = new DriftWindow(profile);
        } else {
            builder = new ProfileBuilder(Bins.DEFAULT_BINS, selfSamples);
        }
    }

    /** The reference in use ({@code validation}, {@code calibration}, {@code self}), or null while still collecting. */
    public String reference() {
        DriftWindow w = window;
        return w == null ? null : w.profile().source();
    }

    public void observe(Observation o) {
        if (o == null) {
            return;
        }
        DriftWindow w = window;
        if (w != null) {
            w.add(o.inputs(), o.outputs());
            return;
        }
        ReferenceProfile built = null;
        synchronized (this) {
            if (window != null) {
                window.add(o.inputs(), o.outputs());
                return;
            }
            if (builder == null) {
                return; // the self-reference could not be built; nothing to compare against
            }
            builder.add(o.inputs(), o.outputs());
            if (builder.samples() >= selfSamples) {
                try {
                    built = builder.build(ReferenceProfile.SOURCE_SELF);
                    window = new DriftWindow(built);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot build a self-reference for drift: " + e.getMessage());
                }
                builder = null;
            }
        }
        if (built != null && onSelfReference != null) {
            onSelfReference.accept(built);
        }
    }

    /**
     * The report of the window just closed; null while collecting the reference, or while fewer than the minimum
     * inferences have been binned. Those are not dropped: they carry over into the next window, so a device that
     * infers slowly reports drift over several telemetry windows (the report's {@code samples} says how many
     * inferences it covers) instead of never, and no report rests on a handful of inferences: with ten bins an
     * undrifted window of 30 scores a PSI around 1.6 as the maximum over 16 features (empty bins alone add 0.69 each),
     * 0.24 at 100 and 0.14 at 200 (docs/drift-and-energy.md).
     */
    public DriftReport cut() {
        DriftWindow w = window;
        if (w == null || w.samples() < minWindowSamples) {
            return null;
        }
        DriftReport r = w.cut();
        if (r == null || r.samples() < minWindowSamples || r.features().isEmpty()) {
            return null;
        }
        return r;
    }
}
