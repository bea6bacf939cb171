package io.edgefleet.protocol;

/**
 * Agent to server on {@code devices/{id}/capture}: raw inputs the device sampled from its real inferences, sent only
 * under the operator's per-device opt-in (a signed CONFIG command, see docs/capture.md). {@code npz} is a base64
 * {@code .npz} archive with one array per model input, samples along axis 0; the server stores it as a dataset
 * named {@code capture/<classId>/<modelName>/<yyyyMMddHHmmss>}.
 *
 * @param model the model whose inputs were sampled
 * @param samples samples in the archive (every array's first dimension)
 * @param npz base64 of the {@code .npz} bytes
 */
public record CaptureUpload(
        int v,
        String id,
        long ts,
        String deviceId,
        ModelRef model,
        int samples,
        String npz) implements Message {

    public static CaptureUpload of(String deviceId, ModelRef model, int samples, String npzBase64) {
        return new CaptureUpload(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(), deviceId, model,
                samples, npzBase64);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.requirePresent(model, "model");
        model.validate("model");
        Message.require(samples > 0, ReasonCode.INVALID_FIELD, "field 'samples' must be > 0");
        Message.requirePresent(npz, "npz");
        Message.require(!npz.isEmpty(), ReasonCode.INVALID_FIELD, "field 'npz' is empty");
    }
}
