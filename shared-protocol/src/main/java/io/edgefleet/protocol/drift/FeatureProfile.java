package io.edgefleet.protocol.drift;

import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ReasonCode;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * One summary feature of a reference profile: how to compute it from an inference, and how the
 * reference data distributed over its bins.
 *
 * @param name        unique within the profile, e.g. {@code pixels.c0.mean} or {@code output.class}
 * @param kind        one of the {@link Kind} names: what is computed per sample
 * @param tensor      the input or output tensor it is computed from
 * @param channel     the channel (axis 1) for per-channel features, null for the whole sample
 * @param edges       strictly increasing bin edges, see {@link Bins}
 * @param proportions reference share of each of the {@code edges.length + 1} bins
 * @param mean        mean of the feature over the reference (the baseline of the confidence shift)
 * @param commonIds   for {@code rare-share}: the sorted token ids that are not rare, else null
 */
@Schema(description = "One summary feature of a reference profile: what is computed per inference and how the "
        + "reference data fell into its bins.")
public record FeatureProfile(
        @Schema(description = "Unique within the profile, e.g. pixels.c0.mean or output.class.")
        String name,
        @Schema(description = "What is computed per sample: mean, std, length, rare-share, class, confidence or "
                + "norm.")
        String kind,
        @Schema(description = "The input or output tensor it is computed from.")
        String tensor,
        @Schema(description = "The channel (axis 1) for per-channel features; null for the whole sample.")
        Integer channel,
        @Schema(description = "Strictly increasing bin edges.")
        double[] edges,
        @Schema(description = "Reference share of each of the edges.length + 1 bins.")
        double[] proportions,
        @Schema(description = "Mean of the feature over the reference data.")
        double mean,
        @Schema(description = "For rare-share: the sorted token ids that are not rare; null otherwise.")
        long[] commonIds) {

    /** What a feature computes per sample. */
    public enum Kind {
        /** mean of a float tensor's sample (or of one channel of it) */
        MEAN("mean"),
        /** standard deviation of a float tensor's sample (or of one channel) */
        STD("std"),
        /** number of non-padding token ids (id != 0) in an integer tensor's sample */
        LENGTH("length"),
        /** share of non-padding token ids that are not among the reference's common ids */
        RARE_SHARE("rare-share"),
        /** argmax class of a classifier output */
        CLASS("class"),
        /** top-1 probability of a classifier output (softmax applied when the output is not a distribution) */
        CONFIDENCE("confidence"),
        /** L2 norm of a regression or embedding output */
        NORM("norm");

        private final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static Kind of(String wire) {
            for (Kind k : values()) {
                if (k.wire.equals(wire)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown feature kind '" + wire + "'");
        }
    }

    public Kind kindEnum() {
        return Kind.of(kind);
    }

    void validate() {
        Message.require(name != null && !name.isBlank() && name.length() <= 200, ReasonCode.INVALID_FIELD,
                "feature name must be 1..200 chars");
        try {
            Kind.of(kind);
        } catch (IllegalArgumentException e) {
            throw new io.edgefleet.protocol.ProtocolException(ReasonCode.INVALID_FIELD, "feature '" + name + "': " + e.getMessage());
        }
        Message.require(tensor != null && tensor.length() <= 200, ReasonCode.INVALID_FIELD,
                "feature '" + name + "' needs a tensor name");
        Message.require(edges != null && edges.length >= 2 && edges.length <= ReferenceProfile.MAX_EDGES,
                ReasonCode.INVALID_FIELD, "feature '" + name + "' needs 2.." + ReferenceProfile.MAX_EDGES + " edges");
        for (int i = 0; i < edges.length; i++) {
            Message.require(Double.isFinite(edges[i]) && (i == 0 || edges[i] > edges[i - 1]), ReasonCode.INVALID_FIELD,
                    "feature '" + name + "' edges must be finite and strictly increasing");
        }
        Message.require(proportions != null && proportions.length == edges.length + 1, ReasonCode.INVALID_FIELD,
                "feature '" + name + "' needs edges.length + 1 proportions");
        double sum = 0;
        for (double p : proportions) {
            Message.require(Double.isFinite(p) && p >= 0 && p <= 1, ReasonCode.INVALID_FIELD,
                    "feature '" + name + "' proportions must be in [0, 1]");
            sum += p;
        }
        Message.require(Math.abs(sum - 1) < 1e-6, ReasonCode.INVALID_FIELD, "feature '" + name + "' proportions must sum to 1");
        Message.require(Double.isFinite(mean), ReasonCode.INVALID_FIELD, "feature '" + name + "' mean must be finite");
        if (commonIds != null) {
            Message.require(commonIds.length <= ReferenceProfile.MAX_COMMON_IDS, ReasonCode.INVALID_FIELD,
                    "feature '" + name + "' lists more than " + ReferenceProfile.MAX_COMMON_IDS + " common ids");
            for (int i = 1; i < commonIds.length; i++) {
                Message.require(commonIds[i] > commonIds[i - 1], ReasonCode.INVALID_FIELD,
                        "feature '" + name + "' common ids must be sorted and distinct");
            }
        }
    }

    /** Appends the fields that the manifest signature covers, one per line, numbers in Java's exact notation. */
    void appendCanonical(StringBuilder sb) {
        sb.append(name).append('|').append(kind).append('|').append(tensor).append('|').append(channel).append('\n');
        appendArray(sb, edges);
        appendArray(sb, proportions);
        sb.append(mean).append('\n');
        if (commonIds != null) {
            for (int i = 0; i < commonIds.length; i++) {
                sb.append(i == 0 ? "" : ",").append(commonIds[i]);
            }
        }
        sb.append('\n');
    }

    private static void appendArray(StringBuilder sb, double[] a) {
        for (int i = 0; i < a.length; i++) {
            sb.append(i == 0 ? "" : ",").append(a[i]);
        }
        sb.append('\n');
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureProfile f && name.equals(f.name) && kind.equals(f.kind)
                && java.util.Objects.equals(tensor, f.tensor) && java.util.Objects.equals(channel, f.channel)
                && java.util.Arrays.equals(edges, f.edges) && java.util.Arrays.equals(proportions, f.proportions)
                && Double.compare(mean, f.mean) == 0 && java.util.Arrays.equals(commonIds, f.commonIds);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, kind, tensor, channel, java.util.Arrays.hashCode(edges),
                java.util.Arrays.hashCode(proportions), mean, java.util.Arrays.hashCode(commonIds));
    }

    @Override
    public String toString() {
        return "FeatureProfile[" + name + ", " + kind + ", " + edges.length + " edges]";
    }
}
