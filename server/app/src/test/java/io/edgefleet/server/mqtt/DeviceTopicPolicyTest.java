package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeviceTopicPolicyTest {

    @ParameterizedTest(name = "{0} publishes {1} -> {2}")
    @CsvSource({
        "dev-1, edgefleet/v1/devices/dev-1/status, true",
        "dev-1, edgefleet/v1/devices/dev-1/events, true",
        "dev-1, edgefleet/v1/devices/dev-1/telemetry, true",
        "dev-1, edgefleet/v1/devices/dev-1/benchmark, true",
        "dev-1, edgefleet/v1/devices/dev-1/capture, true",
        "dev-1, edgefleet/v1/devices/dev-2/capture, false",
        "dev-1, edgefleet/v1/devices/dev-2/benchmark, false",
        "dev-1, edgefleet/v1/devices/dev-1/cmd, false",
        "dev-1, edgefleet/v1/devices/dev-2/telemetry, false",
        "dev-1, edgefleet/v1/devices/dev-1/telemetry/extra, false",
        "dev-1, edgefleet/v1/classes/gw/artifacts/aa/manifest, false",
        "dev-1, edgefleet/v1/devices/+/telemetry, false",
        "dev-1, other/topic, false",
        "bad/id, edgefleet/v1/devices/bad/id/status, false",
    })
    void publishing(String device, String topic, boolean allowed) {
        assertEquals(allowed, DeviceTopicPolicy.canPublish(device, topic));
    }

    @ParameterizedTest(name = "{0} of {1} subscribes {2} -> {3}")
    @CsvSource({
        "dev-1, gw, edgefleet/v1/devices/dev-1/cmd, true",
        "dev-1, gw, edgefleet/v1/devices/dev-2/cmd, false",
        "dev-1, gw, edgefleet/v1/devices/dev-1/ack, true",
        "dev-1, gw, edgefleet/v1/devices/dev-2/ack, false",
        "dev-1, gw, edgefleet/v1/devices/+/ack, false",
        "dev-1, gw, edgefleet/v1/devices/+/cmd, false",
        "dev-1, gw, edgefleet/v1/devices/#, false",
        "dev-1, gw, edgefleet/v1/devices/dev-1/telemetry, false",
        "dev-1, gw, edgefleet/v1/devices/dev-1/capture, false",
        "dev-1, gw, edgefleet/v1/classes/gw/artifacts/#, true",
        "dev-1, gw, edgefleet/v1/classes/gw/artifacts/0123/manifest, true",
        "dev-1, gw, edgefleet/v1/classes/gw/artifacts/+/chunks/#, true",
        "dev-1, gw, edgefleet/v1/classes/gw/artifacts, false",
        "dev-1, gw, edgefleet/v1/classes/other/artifacts/#, false",
        "dev-1, gw, edgefleet/v1/classes/+/artifacts/#, false",
        "dev-1, gw, edgefleet/v1/classes/#, false",
        "dev-1, gw, edgefleet/v1/classes/gw2/artifacts/#, false",
        "dev-1, gw, #, false",
    })
    void subscribing(String device, String classId, String filter, boolean allowed) {
        assertEquals(allowed, DeviceTopicPolicy.canSubscribe(device, classId, filter));
    }

    @ParameterizedTest
    @CsvSource({
        "$share/edgefleet/edgefleet/v1/devices/+/status, edgefleet/v1/devices/+/status",
        "$share/g/edgefleet/v1/devices/dev-2/cmd, edgefleet/v1/devices/dev-2/cmd",
        "edgefleet/v1/devices/dev-1/cmd, edgefleet/v1/devices/dev-1/cmd",
    })
    void sharePrefixIsStrippedBeforeTheCheck(String filter, String plain) {
        assertEquals(plain, DeviceTopicPolicy.withoutSharePrefix(filter));
    }
}
