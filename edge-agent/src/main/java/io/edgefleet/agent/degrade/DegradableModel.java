package io.edgefleet.agent.degrade;

import io.edgefleet.agent.inference.ElementType;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.inference.Observation;
import io.edgefleet.agent.inference.Tensor;
import io.edgefleet.agent.inference.TensorSpec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ModeTimes;
import io.edgefleet.protocol.drift.TensorSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A model's full version with the light fallback its deployment shipped, served as one {@link LoadedModel}: the
 * inference API's slot and the inference loop hold this, and {@link #setMode} picks which variant answers.
 *
 * <p>A mode switch is one volatile write: both variants stay open for as long as this object is in service (it is
 * closed only by the slot's swap, under the write lock, once nothing runs on it), so a request in flight during a
 * switch finishes on the variant it started on and never fails because of the switch.
 *
 * <p>In cascade the light variant answers first; when its top-1 confidence (of the first output, read as
 * probabilities when each row already sums to 1, otherwise through a softmax) is under the threshold for any row
 * of the batch, the full model answers the same inputs. Cascade needs a classifier: a first output of floats with
 * two dimensions and more than one class.
 */
public final class DegradableModel implements LoadedModel {
    private final LoadedModel full;
    private final LoadedModel light;
    private final ModelRef lightRef;
    private final String classifierOutput;
    private final LongSupplier nanos;
    private volatile double threshold;
    private volatile Mode mode = Mode.FULL;
    private final AtomicLong cascadeInferences = new AtomicLong();
    private final AtomicLong escalations = new AtomicLong();
    private final AtomicLong lightAnswers = new AtomicLong();
    private final AtomicLong fullAnswers = new AtomicLong();
    private final double[] seconds = new double[Mode.values().length];
    private long since;

    /**
     * @param light    the fallback, or null (then only {@link Mode#FULL} is possible)
     * @param lightRef the fallback's version, null with it
     */
    public DegradableModel(LoadedModel full, LoadedModel light, ModelRef lightRef, double cascadeThreshold,
                           LongSupplier nanos) {
        this.full = full;
        this.light = light;
        this.lightRef = lightRef;
        this.threshold = cascadeThreshold;
        this.nanos = nanos;
        this.classifierOutput = classifierOutput(full.outputs());
        this.since = nanos.getAsLong();
    }

    /**
     * Why {@code light} cannot stand in for {@code full}, or null when it can: it must take the same inputs
     * (names, types, shapes) and give every output of the full model with the same type.
     */
    public static String incompatibility(LoadedModel full, LoadedModel light) {
        if (!full.inputs().equals(light.inputs())) {
            return "its inputs " + describe(light.inputs()) + " differ from the full model's " + describe(full.inputs());
        }
        for (TensorSpec o : full.outputs()) {
            TensorSpec l = light.outputs().stream().filter(s -> s.name().equals(o.name())).findFirst().orElse(null);
            if (l == null || l.type() != o.type() || l.shape().length != o.shape().length) {
                return "it lacks output '" + o.name() + "' (" + o.type() + " of rank " + o.shape().length
                        + ") of the full model";
            }
        }
        return null;
    }

    private static String describe(List<TensorSpec> specs) {
        List<String> out = new ArrayList<>();
        for (TensorSpec s : specs) {
            out.add(s.name() + ":" + s.type() + Arrays.toString(s.shape()));
        }
        return out.toString();
    }

    /** The first output when it is a classifier's ([N, C] floats, C > 1), else null. */
    static String classifierOutput(List<TensorSpec> outputs) {
        if (outputs.isEmpty()) {
            return null;
        }
        TensorSpec o = outputs.get(0);
        long[] shape = o.shape();
        boolean floats = o.type() == ElementType.FLOAT || o.type() == ElementType.DOUBLE;
        return floats && shape.length == 2 && shape[1] > 1 ? o.name() : null;
    }

    public boolean hasLight() {
        return light != null;
    }

    public ModelRef lightRef() {
        return lightRef;
    }

    /** Whether cascade can judge this model's answers (a classification output). */
    public boolean canCascade() {
        return light != null && classifierOutput != null;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * Switches the answering variant from the next inference on.
     *
     * @throws IllegalArgumentException when there is no light variant, or cascade is asked of a non-classifier
     */
    public synchronized void setMode(Mode next) {
        if (next != Mode.FULL && light == null) {
            throw new IllegalArgumentException("the model has no light variant (its deployment shipped no fallback)");
        }
        if (next == Mode.CASCADE && classifierOutput == null) {
            throw new IllegalArgumentException("cascade needs a classification output ([N, C] floats, C > 1) to judge"
                    + " the light variant's confidence; this model's first output is not one");
        }
        account();
        mode = next;
    }

    public void setCascadeThreshold(double t) {
        this.threshold = t;
    }

    /** Inferences answered by the light variant and by the full one since this model went into service. */
    public long lightAnswers() {
        return lightAnswers.get();
    }

    public long fullAnswers() {
        return fullAnswers.get();
    }

    private void account() {
        long now = nanos.getAsLong();
        seconds[mode.ordinal()] += (now - since) / 1e9;
        since = now;
    }

    /** Closes the window's account: seconds per mode, cascade counts; null without a light variant. */
    public synchronized ModeTimes cut() {
        if (light == null) {
            return null;
        }
        account();
        long c = cascadeInferences.getAndSet(0);
        long e = escalations.getAndSet(0);
        ModeTimes t = new ModeTimes(round(seconds[0]), round(seconds[1]), round(seconds[2]), c, e,
                c == 0 ? null : round((double) e / c), mode.id());
        Arrays.fill(seconds, 0);
        return t;
    }

    private static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> outputNames) throws Exception {
        Mode m = mode;
        if (m == Mode.FULL || light == null) {
            fullAnswers.incrementAndGet();
            return full.run(inputs, outputNames);
        }
        if (m == Mode.LIGHT) {
            lightAnswers.incrementAndGet();
            return light.run(inputs, outputNames);
        }
        LinkedHashSet<String> names = new LinkedHashSet<>(outputNames);
        names.add(classifierOutput);
        Map<String, Tensor> first = light.run(inputs, names);
        cascadeInferences.incrementAndGet();
        if (confident(first.get(classifierOutput))) {
            lightAnswers.incrementAndGet();
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : outputNames) {
                out.put(n, first.get(n));
            }
            return out;
        }
        escalations.incrementAndGet();
        fullAnswers.incrementAndGet();
        return full.run(inputs, outputNames);
    }

    private boolean confident(Tensor t) {
        if (t == null) {
            return false;
        }
        long[] shape = t.shape();
        int classes = (int) shape[shape.length - 1];
        double[] v = doubles(t.values());
        return v != null && classes > 1 && minTop1(v, classes) >= threshold;
    }

    private static double[] doubles(Object values) {
        if (values instanceof float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        return values instanceof double[] d ? d : null;
    }

    /** The lowest top-1 probability over the rows: the batch escalates when any of its samples is unsure. */
    static double minTop1(double[] values, int classes) {
        double min = 1.0;
        for (int r = 0; r + classes <= values.length; r += classes) {
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            boolean probabilities = true;
            for (int c = 0; c < classes; c++) {
                double x = values[r + c];
                max = Math.max(max, x);
                sum += x;
                probabilities &= x >= 0 && x <= 1;
            }
            double top;
            if (probabilities && Math.abs(sum - 1.0) < 1e-3) {
                top = max;
            } else {
                double z = 0;
                for (int c = 0; c < classes; c++) {
                    z += Math.exp(values[r + c] - max);
                }
                top = 1.0 / z;
            }
            if (!(top >= 0)) {
                return 0; // NaN: not confident
            }
            min = Math.min(min, top);
        }
        return min;
    }

    @Override
    public void infer() throws Exception {
        inferObserved();
    }

    @Override
    public Observation inferObserved() throws Exception {
        return inferTimed(nanos -> { });
    }

    @Override
    public Observation inferTimed(java.util.function.LongConsumer modelNanos) throws Exception {
        Mode m = mode;
        if (m == Mode.FULL || light == null) {
            fullAnswers.incrementAndGet();
            return full.inferTimed(modelNanos);
        }
        if (m == Mode.LIGHT) {
            lightAnswers.incrementAndGet();
            return light.inferTimed(modelNanos);
        }
        Observation seen = light.inferTimed(modelNanos);
        cascadeInferences.incrementAndGet();
        TensorSample out = seen == null ? null : seen.outputs().stream()
                .filter(s -> s.name().equals(classifierOutput)).findFirst().orElse(null);
        double[] v = out == null || !out.isFloat() ? null : doubles(out.floats());
        if (v != null && minTop1(v, (int) out.shape()[out.shape().length - 1]) >= threshold) {
            lightAnswers.incrementAndGet();
            return seen;
        }
        escalations.incrementAndGet();
        fullAnswers.incrementAndGet();
        Map<String, Tensor> same = seen == null ? null : tensors(seen.inputs());
        if (same == null) {
            full.inferTimed(modelNanos); // inputs not reproducible here: the full model takes the feed's next input
        } else {
            // An escalation costs the device both runs: the full one counts too.
            long start = System.nanoTime();
            full.run(same, full.outputs().stream().map(TensorSpec::name).toList());
            modelNanos.accept(System.nanoTime() - start);
        }
        return seen;
    }

    /** The loop's inputs again as tensors for the full model, or null when a type cannot be rebuilt exactly. */
    private Map<String, Tensor> tensors(List<TensorSample> samples) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorSpec spec : full.inputs()) {
            TensorSample s = samples.stream().filter(x -> x.name().equals(spec.name())).findFirst().orElse(null);
            if (s == null) {
                return null;
            }
            if (spec.type() == ElementType.FLOAT && s.isFloat()) {
                out.put(spec.name(), new Tensor(ElementType.FLOAT, s.shape(), s.floats()));
            } else if (spec.type() == ElementType.INT64 && !s.isFloat()) {
                out.put(spec.name(), new Tensor(ElementType.INT64, s.shape(), s.longs()));
            } else {
                return null;
            }
        }
        return out;
    }

    @Override
    public void smokeTest() throws ModelException {
        full.smokeTest();
        if (light != null) {
            light.smokeTest();
        }
    }

    @Override
    public List<TensorSpec> inputs() {
        return full.inputs();
    }

    @Override
    public List<TensorSpec> outputs() {
        return full.outputs();
    }

    @Override
    public void close() {
        full.close();
        if (light != null) {
            light.close();
        }
    }
}
