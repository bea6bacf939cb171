package io.edgefleet.protocol.drift;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What a model's inputs and outputs looked like on reference data, binned so that a device can
 * compare what it sees against it with {@link DriftStats}. Travels inside the signed
 * {@link io.edgefleet.protocol.ArtifactManifest}.
 *
 * @param source     where the reference came from: {@code validation}, {@code calibration} (a dataset on
 *                   the server) or {@code self} (the agent's own first inferences after a commit)
 * @param samples    number of reference samples
 * @param features   input features ({@code mean}/{@code std} per float input or channel,
 *                   {@code length}/{@code rare-share} per token-id input)
 * @param outputClasses the output class distribution (kind {@code class}), null for non-classifier outputs
 * @param confidence the top-1 confidence histogram (kind {@code confidence}) or, for non-classifier outputs,
 *                   the output-norm histogram (kind {@code norm}); null when the model has no float output
 */
@Schema(description = "What a model's inputs and outputs looked like on reference data, binned; devices compare "
        + "their inferences against it.")
public record ReferenceProfile(
        @Schema(description = "Where the reference came from: validation or calibration (a server dataset) or "
                + "self (the device's first inferences).")
        String source,
        @Schema(description = "Number of reference samples.")
        long samples,
        @Schema(description = "Input features (mean/std per float input or channel, length/rare-share per "
                + "token-id input).")
        List<FeatureProfile> features,
        @Schema(description = "Output class distribution (kind class); null for non-classifier outputs.")
        FeatureProfile outputClasses,
        @Schema(description = "Top-1 confidence histogram (kind confidence) or output-norm histogram (kind "
                + "norm); null without a float output.")
        FeatureProfile confidence) {

    public static final String SOURCE_VALIDATION = "validation";
    public static final String SOURCE_CALIBRATION = "calibration";
    public static final String SOURCE_SELF = "self";
    public static final int MAX_FEATURES = 256;
    public static final int MAX_EDGES = 66;
    public static final int MAX_COMMON_IDS = 8192;
    /** A profile whose JSON is larger than this is refused (server side, before it is stored or signed). */
    public static final int MAX_ENCODED_BYTES = 256 * 1024;

    /** All features in a fixed order: inputs, then output class, then confidence or norm. */
    public List<FeatureProfile> allFeatures() {
        List<FeatureProfile> all = new java.util.ArrayList<>(features);
        if (outputClasses != null) {
            all.add(outputClasses);
        }
        if (confidence != null) {
            all.add(confidence);
        }
        return all;
    }

    /** Throws {@link io.edgefleet.protocol.ProtocolException} (INVALID_FIELD) when malformed or over the bounds. */
    public void validate() {
        Message.require(SOURCE_VALIDATION.equals(source) || SOURCE_CALIBRATION.equals(source) || SOURCE_SELF.equals(source),
                ReasonCode.INVALID_FIELD, "referenceProfile.source must be validation, calibration or self");
        Message.require(samples > 0, ReasonCode.INVALID_FIELD, "referenceProfile.samples must be > 0");
        Message.requirePresent(features, "referenceProfile.features");
        Message.require(features.size() <= MAX_FEATURES, ReasonCode.INVALID_FIELD,
                "referenceProfile has more than " + MAX_FEATURES + " features");
        Set<String> names = new HashSet<>();
        for (FeatureProfile f : allFeatures()) {
            Message.require(f != null, ReasonCode.INVALID_FIELD, "referenceProfile has a null feature");
            f.validate();
            Message.require(names.add(f.name()), ReasonCode.INVALID_FIELD, "duplicate feature name '" + f.name() + "'");
        }
    }

    /**
     * The exact text the manifest signature covers (through its SHA-256, see {@link #canonicalSha256()}).
     * Spelled out field by field, with {@link Double#toString} numbers that survive a JSON round trip bit
     * for bit, so no serializer setting can change what is signed.
     */
    public byte[] canonicalBytes() {
        StringBuilder sb = new StringBuilder("edgefleet-reference-profile-v1\n")
                .append(source).append('\n').append(samples).append('\n')
                .append(features.size()).append('\n');
        for (FeatureProfile f : features) {
            f.appendCanonical(sb);
        }
        sb.append(outputClasses == null ? "-" : "classes").append('\n');
        if (outputClasses != null) {
            outputClasses.appendCanonical(sb);
        }
        sb.append(confidence == null ? "-" : "confidence").append('\n');
        if (confidence != null) {
            confidence.appendCanonical(sb);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public String canonicalSha256() {
        return Hashing.sha256Hex(canonicalBytes());
    }
}
