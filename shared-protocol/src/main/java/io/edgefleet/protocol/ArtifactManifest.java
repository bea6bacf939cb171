package io.edgefleet.protocol;

import io.edgefleet.protocol.drift.ReferenceProfile;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Retained on {@code classes/{classId}/artifacts/{sha256}/manifest}. Size, whole-file hash and the
 * hash of every chunk come from here, and the whole manifest is signed by the server's key, so an
 * agent trusts nothing it downloads that the signature does not cover.
 *
 * @param referenceProfile optional drift reference of the model (validation or calibration data), signed
 * @param power            optional power model of the device class, signed
 */
public record ArtifactManifest(
        int v,
        String id,
        long ts,
        String classId,
        ModelRef model,
        long size,
        int chunkSize,
        List<String> chunks,
        String keyId,
        String signature,
        ReferenceProfile referenceProfile,
        PowerModel power) implements Message {

    /** A manifest without reference profile and power model (what a server before them sends). */
    public ArtifactManifest(int v, String id, long ts, String classId, ModelRef model, long size, int chunkSize,
                            List<String> chunks, String keyId, String signature) {
        this(v, id, ts, classId, model, size, chunkSize, chunks, keyId, signature, null, null);
    }

    /** Hard bounds an agent enforces before allocating anything. */
    public static final long MAX_ARTIFACT_BYTES = 2L * 1024 * 1024 * 1024;
    public static final int MIN_CHUNK = 1024;
    public static final int MAX_CHUNK = 8 * 1024 * 1024;

    public int chunkCount() {
        return chunks.size();
    }

    /**
     * The exact bytes the signature covers: every field but the signature, in a fixed order, one per
     * line. Spelled out rather than derived from JSON so that no serializer setting can change it.
     */
    public byte[] signedBytes() {
        StringBuilder sb = new StringBuilder("edgefleet-manifest-v").append(v).append('\n')
                .append(classId).append('\n')
                .append(model.model()).append('\n')
                .append(model.version()).append('\n')
                .append(model.sha256()).append('\n')
                .append(size).append('\n')
                .append(chunkSize).append('\n')
                .append(String.join(",", chunks)).append('\n')
                .append(ts).append('\n')
                .append(keyId).append('\n');
        // Added fields are covered only when present, so manifests without them verify as before, and
        // removing or changing one breaks the signature. The profile is covered through its canonical hash.
        if (referenceProfile != null) {
            sb.append("referenceProfile ").append(referenceProfile.canonicalSha256()).append('\n');
        }
        if (power != null) {
            sb.append("power ").append(power.idleWatts()).append(',').append(power.activeWatts()).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public ArtifactManifest withSignature(String keyId, String signature) {
        return new ArtifactManifest(v, id, ts, classId, model, size, chunkSize, chunks, keyId, signature,
                referenceProfile, power);
    }

    /** The same manifest carrying a reference profile and a power model (either may be null); sign afterwards. */
    public ArtifactManifest withExtras(ReferenceProfile profile, PowerModel powerModel) {
        return new ArtifactManifest(v, id, ts, classId, model, size, chunkSize, chunks, keyId, signature,
                profile, powerModel);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(classId, "classId");
        Message.require(Topics.isId(classId), ReasonCode.INVALID_FIELD, "field 'classId' is not a valid id");
        Message.requirePresent(model, "model");
        model.validate("model");
        Message.require(size > 0 && size <= MAX_ARTIFACT_BYTES, ReasonCode.INVALID_FIELD,
                "field 'size' must be in (0, " + MAX_ARTIFACT_BYTES + "]");
        Message.require(chunkSize >= MIN_CHUNK && chunkSize <= MAX_CHUNK, ReasonCode.INVALID_FIELD,
                "field 'chunkSize' must be in [" + MIN_CHUNK + ", " + MAX_CHUNK + "]");
        Message.requirePresent(chunks, "chunks");
        long expected = (size + chunkSize - 1) / chunkSize;
        Message.require(chunks.size() == expected, ReasonCode.INVALID_FIELD,
                "manifest lists " + chunks.size() + " chunks but size/chunkSize needs " + expected);
        for (String c : chunks) {
            Message.require(Topics.isSha(c), ReasonCode.INVALID_FIELD, "every chunk hash must be 64 hex digits");
        }
        Message.requirePresent(keyId, "keyId");
        Message.requirePresent(signature, "signature");
        if (referenceProfile != null) {
            referenceProfile.validate();
        }
        if (power != null) {
            power.validate();
        }
    }
}
