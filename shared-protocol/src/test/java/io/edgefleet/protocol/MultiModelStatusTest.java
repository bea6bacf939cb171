package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code models} list of DeviceStatus: compatible both ways with agents and servers that predate it. */
class MultiModelStatusTest {
    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "b".repeat(64);
    private static final String SHA_C = "c".repeat(64);
    private final JsonCodec codec = new JsonCodec();

    @Test
    void statusWithModelsRoundTrips() {
        ModelRef mlp2 = new ModelRef("mlp", 2, SHA_A);
        ModelRef mlp1 = new ModelRef("mlp", 1, SHA_B);
        ModelRef enc = new ModelRef("encoder", 4, SHA_C);
        DeviceStatus s = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, enc, null, "0.2.0", "c1")
                .withModels(List.of(new ModelStatus("encoder", enc, null, ModelStatus.UpdateState.DOWNLOADING),
                        new ModelStatus("mlp", mlp2, mlp1, ModelStatus.UpdateState.ACTIVATED_UNCOMMITTED)));
        DeviceStatus back = codec.decode(codec.encode(s), DeviceStatus.class);
        assertEquals(s, back);
        assertEquals(ModelStatus.UpdateState.ACTIVATED_UNCOMMITTED, back.models().get(1).state());
    }

    @Test
    void statusOfAnOlderAgentParsesWithoutModels() {
        String old = "{\"v\":1,\"id\":\"m1\",\"ts\":5,\"deviceId\":\"dev-1\",\"state\":\"ONLINE\","
                + "\"active\":{\"model\":\"mlp\",\"version\":1,\"sha256\":\"" + SHA_A + "\"},\"agentVersion\":\"0.1.0\"}";
        DeviceStatus s = codec.decode(old.getBytes(StandardCharsets.UTF_8), DeviceStatus.class);
        assertNull(s.models());
        assertEquals("mlp", s.active().model());
    }

    @Test
    void anOlderServerReadsTheFirstModelFromActiveAndStandby() {
        // A server that predates the list ignores unknown fields: active/standby still describe one model.
        ModelRef enc = new ModelRef("encoder", 4, SHA_C);
        DeviceStatus s = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, enc, null, "0.2.0", "c1")
                .withModels(List.of(new ModelStatus("encoder", enc, null, ModelStatus.UpdateState.COMMITTED)));
        String json = new String(codec.encode(s), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"models\":["), json);
        assertTrue(json.contains("\"active\":{\"model\":\"encoder\""), json);
    }

    @Test
    void duplicateOrInvalidModelsAreRefused() {
        ModelRef mlp = new ModelRef("mlp", 2, SHA_A);
        DeviceStatus twice = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, mlp, null, "0.2.0", "c1")
                .withModels(List.of(new ModelStatus("mlp", mlp, null, ModelStatus.UpdateState.IDLE),
                        new ModelStatus("mlp", mlp, null, ModelStatus.UpdateState.IDLE)));
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(codec.encode(twice), DeviceStatus.class));
        assertEquals(ReasonCode.INVALID_FIELD, e.reason());

        DeviceStatus badRef = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, mlp, null, "0.2.0", "c1")
                .withModels(List.of(new ModelStatus("mlp", new ModelRef("mlp", 0, SHA_A), null, ModelStatus.UpdateState.IDLE)));
        e = assertThrows(ProtocolException.class, () -> codec.decode(codec.encode(badRef), DeviceStatus.class));
        assertTrue(e.getMessage().contains("models[0].active.version"), e.getMessage());

        DeviceStatus noState = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, mlp, null, "0.2.0", "c1")
                .withModels(List.of(new ModelStatus("mlp", mlp, null, null)));
        assertThrows(ProtocolException.class, () -> codec.decode(codec.encode(noState), DeviceStatus.class));
    }
}
