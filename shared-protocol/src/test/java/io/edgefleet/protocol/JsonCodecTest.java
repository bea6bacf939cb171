package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonCodecTest {
    private static final String SHA = "a".repeat(64);
    private final JsonCodec codec = new JsonCodec();

    @Test
    void everyMessageTypeRoundTrips() {
        ModelRef ref = new ModelRef("mlp", 3, SHA);
        DeviceStatus status = DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, ref, null, "0.1.0");
        assertEquals(status, codec.decode(codec.encode(status), DeviceStatus.class));

        ArtifactRef art = new ArtifactRef("gw", ref, 1234, Topics.manifest("gw", SHA));
        Command deploy = Command.deploy("d-1", art, new HealthPolicy(25, 0.1, 2, 5));
        assertEquals(deploy, codec.decode(codec.encode(deploy), Command.class));
        Command cfg = Command.config(Map.of("telemetryWindowSeconds", "5"));
        assertEquals(cfg, codec.decode(codec.encode(cfg), Command.class));

        DeviceEvent ev = DeviceEvent.of("dev-1", DeviceEvent.Type.ROLLED_BACK, "d-1", ref,
                ReasonCode.LATENCY_SLO_BREACH, "p95 40ms > 25ms").withProgress(1.0);
        assertEquals(ev, codec.decode(codec.encode(ev), DeviceEvent.class));

        TelemetryWindow tw = new TelemetryWindow(1, "m1", 10, "dev-1", 7, 1000, 11000, ref, 100, 1,
                new LatencyStats(1, 2, 3, 4, 1.5), 0.4, null, 0, false);
        assertEquals(tw, codec.decode(codec.encode(tw), TelemetryWindow.class));
    }

    @Test
    void malformedJsonIsRefusedWithReason() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> codec.decode("{\"v\":1,\"id\":".getBytes(StandardCharsets.UTF_8), DeviceStatus.class));
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, e.reason());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD,
                assertThrows(ProtocolException.class, () -> codec.decode(new byte[0], DeviceStatus.class)).reason());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD,
                assertThrows(ProtocolException.class, () -> codec.decode("null".getBytes(), DeviceStatus.class)).reason());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD,
                assertThrows(ProtocolException.class, () -> codec.decode("{} {}".getBytes(), DeviceStatus.class)).reason());
    }

    @Test
    void oversizedPayloadIsRefusedBeforeParsing() {
        JsonCodec small = new JsonCodec(64);
        byte[] big = ("{\"v\":1,\"id\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8);
        ProtocolException e = assertThrows(ProtocolException.class, () -> small.decode(big, DeviceStatus.class));
        assertEquals(ReasonCode.OVERSIZED_PAYLOAD, e.reason());
    }

    @Test
    void wrongVersionAndMissingFieldsAreRefused() {
        String v2 = "{\"v\":2,\"id\":\"x\",\"ts\":5,\"deviceId\":\"d\",\"state\":\"ONLINE\"}";
        assertEquals(ReasonCode.UNSUPPORTED_VERSION,
                assertThrows(ProtocolException.class, () -> codec.decode(v2.getBytes(), DeviceStatus.class)).reason());
        String noState = "{\"v\":1,\"id\":\"x\",\"ts\":5,\"deviceId\":\"d\"}";
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(noState.getBytes(), DeviceStatus.class));
        assertEquals(ReasonCode.MISSING_FIELD, e.reason());
        assertTrue(e.getMessage().contains("state"));
        String badDeploy = "{\"v\":1,\"id\":\"x\",\"ts\":5,\"type\":\"DEPLOY\",\"deploymentId\":\"d\"}";
        assertEquals(ReasonCode.MISSING_FIELD,
                assertThrows(ProtocolException.class, () -> codec.decode(badDeploy.getBytes(), Command.class)).reason());
        String badEnum = "{\"v\":1,\"id\":\"x\",\"ts\":5,\"type\":\"EXPLODE\"}";
        assertEquals(ReasonCode.MALFORMED_PAYLOAD,
                assertThrows(ProtocolException.class, () -> codec.decode(badEnum.getBytes(), Command.class)).reason());
    }

    @Test
    void unknownFieldsAreIgnoredForForwardCompatibility() {
        String s = "{\"v\":1,\"id\":\"x\",\"ts\":5,\"deviceId\":\"d\",\"state\":\"OFFLINE\",\"future\":{\"a\":1}}";
        assertEquals(DeviceStatus.State.OFFLINE, codec.decode(s.getBytes(), DeviceStatus.class).state());
    }

    @Test
    void telemetryWithDisorderedPercentilesIsRefused() {
        TelemetryWindow tw = new TelemetryWindow(1, "m1", 10, "dev-1", 0, 1000, 11000, null, 100, 0,
                new LatencyStats(5, 2, 3, 4, 1.5), null, null, 0, false);
        assertEquals(ReasonCode.INVALID_FIELD,
                assertThrows(ProtocolException.class, () -> codec.decode(codec.encode(tw), TelemetryWindow.class)).reason());
    }
}
