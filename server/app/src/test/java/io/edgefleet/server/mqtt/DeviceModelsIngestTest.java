package io.edgefleet.server.mqtt;

import static io.edgefleet.server.support.Api.api;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ModelStatus;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.mqtt.InboundDispatcher.Inbound;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several models per device: the status's model list stored per device, shown and filtered by the device API. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DeviceModelsIngestTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final ModelRef MLP1 = new ModelRef("mlp", 1, "1".repeat(64));
    private static final ModelRef MLP2 = new ModelRef("mlp", 2, "2".repeat(64));
    private static final ModelRef ENC4 = new ModelRef("enc", 4, "4".repeat(64));

    @Inject
    InboundProcessor processor;

    private void status(String deviceId, DeviceStatus s) {
        processor.process(List.of(new Inbound(Topics.Kind.STATUS, deviceId, CODEC.encode((Message) s),
                System.currentTimeMillis())));
    }

    private static DeviceStatus online(String deviceId, long ts, ModelRef active, ModelRef standby, List<ModelStatus> models) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), ts, deviceId, DeviceStatus.State.ONLINE,
                active, standby, "0.2.0", "c-" + deviceId, models);
    }

    @Test
    void everyModelOfADeviceIsShownWithItsSlotsAndState() {
        Api.createClass("mm-gw");
        Api.registerDevice("mm-1", "mm-gw");
        Api.registerDevice("mm-2", "mm-gw");
        long now = System.currentTimeMillis();
        status("mm-1", online("mm-1", now, ENC4, null, List.of(
                new ModelStatus("enc", ENC4, null, ModelStatus.UpdateState.COMMITTED),
                new ModelStatus("mlp", MLP2, MLP1, ModelStatus.UpdateState.ACTIVATED_UNCOMMITTED))));
        // An agent that predates the list: its one model is its whole truth.
        status("mm-2", new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now, "mm-2", DeviceStatus.State.ONLINE,
                MLP1, null, "0.1.0", "c-mm-2"));

        api().get("/api/v1/devices/mm-1").then().statusCode(200)
                .body("active.model", equalTo("enc"))
                .body("models", hasSize(2))
                .body("models[0].name", equalTo("enc"))
                .body("models[0].active.version", equalTo(4))
                .body("models[0].standby", nullValue())
                .body("models[0].updateState", equalTo("COMMITTED"))
                .body("models[1].name", equalTo("mlp"))
                .body("models[1].active.version", equalTo(2))
                .body("models[1].standby.version", equalTo(1))
                .body("models[1].updateState", equalTo("ACTIVATED_UNCOMMITTED"));
        api().get("/api/v1/devices/mm-2").then().statusCode(200)
                .body("models", hasSize(1))
                .body("models[0].name", equalTo("mlp"))
                .body("models[0].active.version", equalTo(1))
                .body("models[0].updateState", nullValue());

        // Filters match any model a device runs, not only the first.
        api().get("/api/v1/devices?classId=mm-gw&model=mlp").then().body("id", equalTo(List.of("mm-1", "mm-2")));
        api().get("/api/v1/devices?classId=mm-gw&model=mlp&version=2").then().body("id", equalTo(List.of("mm-1")));
        api().get("/api/v1/devices?classId=mm-gw&model=enc&version=4").then().body("id", equalTo(List.of("mm-1")));
        api().get("/api/v1/devices?classId=mm-gw&model=enc&version=3").then().body("id", equalTo(List.of()));

        // The will names no models: the last ONLINE status stays the truth about them.
        status("mm-1", new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now + 1, "mm-1",
                DeviceStatus.State.OFFLINE, null, null, "0.2.0", "c-mm-1"));
        api().get("/api/v1/devices/mm-1").then().body("online", equalTo(false)).body("models", hasSize(2));

        // The next connection's ONLINE status replaces the list: a model the device no longer holds disappears.
        status("mm-1", new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now + 2, "mm-1", DeviceStatus.State.ONLINE,
                MLP2, MLP1, "0.2.0", "c-mm-1-again", List.of(new ModelStatus("mlp", MLP2, MLP1, ModelStatus.UpdateState.COMMITTED))));
        api().get("/api/v1/devices/mm-1").then().body("models", hasSize(1)).body("models[0].updateState", equalTo("COMMITTED"));
        api().get("/api/v1/devices?classId=mm-gw&model=enc").then().body("id", equalTo(List.of()));
    }
}
