package io.edgefleet.agent.store;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;

/** Something start-up recovery changed, to be reported to the server as a device event once connected. */
public record RecoveryNote(DeviceEvent.Type type, String deploymentId, ModelRef model, ReasonCode reason, String detail) {
}
