package io.edgefleet.protocol.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link ReferenceProfile} from reference inferences (their input and output tensors). The
 * server feeds it a validation or calibration set; an agent without a signed profile feeds it its
 * first inferences after a commit. The features are fixed by the first inference added; later ones
 * that do not fit contribute NaN, which is skipped.
 */
public final class ProfileBuilder {
    /** The common token ids are the most frequent ones that together cover this share of the reference's ids. */
    public static final double COMMON_ID_COVERAGE = 0.95;

    private final int bins;
    private final int maxSamples;
    private List<FeatureSpec> specs;
    private final List<double[]> values = new ArrayList<>();
    private final Map<String, Map<Long, Long>> tokenFrequency = new HashMap<>();
    private final Map<String, List<long[]>> tokenRows = new LinkedHashMap<>();
    private int samples;

    /**
     * @param bins       inner bins per continuous feature (quantiles of the reference)
     * @param maxSamples samples beyond this are ignored, bounding memory
     */
    public ProfileBuilder(int bins, int maxSamples) {
        if (bins < 2 || bins > ReferenceProfile.MAX_EDGES - 2) {
            throw new IllegalArgumentException("bins must be in [2, " + (ReferenceProfile.MAX_EDGES - 2) + "]");
        }
        this.bins = bins;
        this.maxSamples = maxSamples;
    }

    public ProfileBuilder() {
        this(Bins.DEFAULT_BINS, 100_000);
    }

    public synchronized int samples() {
        return samples;
    }

    /** Adds one inference (a batch of samples): its inputs and outputs. */
    public synchronized void add(List<TensorSample> inputs, List<TensorSample> outputs) {
        if (specs == null) {
            specs = new ArrayList<>(FeatureSpec.forInputs(inputs));
            specs.addAll(FeatureSpec.forOutputs(outputs));
        }
        Map<String, TensorSample> byName = new HashMap<>();
        outputs.forEach(t -> byName.put(t.name(), t));
        inputs.forEach(t -> byName.put(t.name(), t));
        int batch = batchOf(specs, byName);
        for (int i = 0; i < batch && samples < maxSamples; i++) {
            double[] row = new double[specs.size()];
            for (int f = 0; f < specs.size(); f++) {
                FeatureSpec s = specs.get(f);
                TensorSample t = byName.get(s.tensor());
                row[f] = s.value(t, i, null);
                if (s.kind() == FeatureProfile.Kind.RARE_SHARE && t != null && !t.isFloat() && i < t.batch()) {
                    int n = t.sampleLength();
                    long[] ids = Arrays.copyOfRange(t.longs(), i * n, (i + 1) * n);
                    Map<Long, Long> freq = tokenFrequency.computeIfAbsent(s.name(), k -> new HashMap<>());
                    for (long id : ids) {
                        if (id != FeatureSpec.PAD_ID) {
                            freq.merge(id, 1L, Long::sum);
                        }
                    }
                    tokenRows.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(ids);
                }
            }
            values.add(row);
            samples++;
        }
    }

    static int batchOf(List<FeatureSpec> specs, Map<String, TensorSample> byName) {
        for (FeatureSpec s : specs) {
            TensorSample t = byName.get(s.tensor());
            if (t != null) {
                return t.batch();
            }
        }
        return 0;
    }

    /** The profile of everything added so far. */
    public synchronized ReferenceProfile build(String source) {
        if (samples == 0 || specs == null) {
            throw new IllegalStateException("no reference samples were added");
        }
        List<FeatureProfile> inputs = new ArrayList<>();
        FeatureProfile classes = null;
        FeatureProfile confidence = null;
        for (int f = 0; f < specs.size(); f++) {
            FeatureSpec s = specs.get(f);
            long[] common = null;
            double[] column = new double[samples];
            if (s.kind() == FeatureProfile.Kind.RARE_SHARE) {
                common = commonIds(tokenFrequency.getOrDefault(s.name(), Map.of()));
                List<long[]> rows = tokenRows.getOrDefault(s.name(), List.of());
                Arrays.fill(column, Double.NaN);
                TensorSample probe;
                for (int r = 0; r < rows.size() && r < samples; r++) {
                    long[] ids = rows.get(r);
                    probe = TensorSample.ofLongs(s.tensor(), new long[] {ids.length}, ids);
                    column[r] = s.value(probe, 0, common);
                }
            } else {
                for (int r = 0; r < samples; r++) {
                    column[r] = values.get(r)[f];
                }
            }
            FeatureProfile p = profileOf(s, column, common);
            if (p == null) {
                continue;
            }
            switch (s.kind()) {
                case CLASS -> classes = p;
                case CONFIDENCE, NORM -> confidence = p;
                default -> inputs.add(p);
            }
        }
        ReferenceProfile profile = new ReferenceProfile(source, samples, inputs, classes, confidence);
        profile.validate();
        return profile;
    }

    private FeatureProfile profileOf(FeatureSpec s, double[] column, long[] common) {
        double[] finite = Arrays.stream(column).filter(Double::isFinite).toArray();
        if (finite.length == 0) {
            return null;
        }
        double[] edges = s.kind() == FeatureProfile.Kind.CLASS ? Bins.categoryEdges(s.classes()) : Bins.quantileEdges(finite, bins);
        double[] proportions = Bins.proportions(Bins.count(edges, finite));
        double mean = Arrays.stream(finite).average().orElse(0);
        return new FeatureProfile(s.name(), s.kind().wire(), s.tensor(), s.channel(), edges, proportions, mean, common);
    }

    static long[] commonIds(Map<Long, Long> frequency) {
        long total = frequency.values().stream().mapToLong(Long::longValue).sum();
        List<Map.Entry<Long, Long>> byCount = new ArrayList<>(frequency.entrySet());
        byCount.sort((a, b) -> b.getValue().equals(a.getValue()) ? Long.compare(a.getKey(), b.getKey())
                : Long.compare(b.getValue(), a.getValue()));
        List<Long> common = new ArrayList<>();
        long covered = 0;
        for (Map.Entry<Long, Long> e : byCount) {
            if (covered >= COMMON_ID_COVERAGE * total || common.size() >= ReferenceProfile.MAX_COMMON_IDS) {
                break;
            }
            common.add(e.getKey());
            covered += e.getValue();
        }
        return common.stream().mapToLong(Long::longValue).sorted().toArray();
    }
}
