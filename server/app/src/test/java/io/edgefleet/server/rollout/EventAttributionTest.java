package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.device.DeviceModel;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which device events move a deployment's target when the device holds several models, as a table. */
class EventAttributionTest {

    static DeviceEntity device(String... models) {
        DeviceEntity d = new DeviceEntity();
        d.id = "dev";
        for (String m : models) {
            d.models.put(m, new DeviceModel());
        }
        return d;
    }

    static DeviceEvent event(String model) {
        return DeviceEvent.of("dev", DeviceEvent.Type.ROLLED_BACK, "dep-1",
                model == null ? null : new ModelRef(model, 1, "a".repeat(64)), ReasonCode.OPERATOR_REQUEST, null);
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                // device models, deployment model, event model, is another model's event
                Arguments.of(new String[] {"clf", "enc"}, "clf", "enc", true),
                Arguments.of(new String[] {"clf", "enc"}, "clf", "clf", false),
                Arguments.of(new String[] {"clf", "enc"}, "clf", null, false),
                // the event's model is not one the device holds separately: a fallback of another name
                Arguments.of(new String[] {"clf", "enc"}, "clf", "old", false),
                // one model (or an older agent): a rollback to a differently named fallback is this deployment's
                Arguments.of(new String[] {"clf"}, "clf", "old", false),
                Arguments.of(new String[] {}, "clf", "enc", false),
                // the deployment's model is not on the device yet (first install): never another model's event
                Arguments.of(new String[] {"enc", "vit"}, "clf", "enc", false));
    }

    @ParameterizedTest(name = "device {0}, deployment of {1}, event of {2} -> another model: {3}")
    @MethodSource("rows")
    void eventsOfAnotherModelDoNotMoveTheTarget(String[] models, String depModel, String eventModel, boolean other) {
        DeploymentEntity dep = new DeploymentEntity();
        dep.id = "dep-1";
        dep.modelName = depModel;
        assertEquals(other, DeviceEventApplier.ofAnotherModel(device(models), dep, event(eventModel)));
    }
}
