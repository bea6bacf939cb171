package io.edgefleet.protocol;

/** Agent to server on {@code devices/{id}/events}: progress and outcome of deploys and rollbacks. */
public record DeviceEvent(
        int v,
        String id,
        long ts,
        String deviceId,
        Type type,
        String deploymentId,
        ModelRef model,
        ReasonCode reason,
        String detail,
        Double progress) implements Message {

    public enum Type {
        DEPLOY_RECEIVED,
        DOWNLOAD_PROGRESS,
        DOWNLOADED,
        VERIFIED,
        ACTIVATED,
        COMMITTED,
        ROLLED_BACK,
        DEPLOY_FAILED,
        COMMAND_REJECTED,
        /**
         * A model switched between its full model and its light fallback ({@code detail}: {@code "from -> to: why"};
         * {@code reason}: LATENCY_SLO_BREACH, THERMAL_THROTTLING, PRESSURE_ENDED, OPERATOR_REQUEST or HEALTH_WATCH).
         * Carries no deployment: it moves no rollout.
         */
        MODE_CHANGED
    }

    public static DeviceEvent of(String deviceId, Type type, String deploymentId, ModelRef model,
                                 ReasonCode reason, String detail) {
        return new DeviceEvent(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, type, deploymentId, model, reason == null ? ReasonCode.NONE : reason, detail, null);
    }

    public DeviceEvent withProgress(double fraction) {
        return new DeviceEvent(v, id, ts, deviceId, type, deploymentId, model, reason, detail, fraction);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.requirePresent(type, "type");
        if (model != null) {
            model.validate("model");
        }
        if (detail != null) {
            Message.require(detail.length() <= 4096, ReasonCode.INVALID_FIELD, "field 'detail' is longer than 4096 chars");
        }
        if (progress != null) {
            Message.require(progress >= 0 && progress <= 1, ReasonCode.INVALID_FIELD, "field 'progress' must be in [0,1]");
        }
    }
}
