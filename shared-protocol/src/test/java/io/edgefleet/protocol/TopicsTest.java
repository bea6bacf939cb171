package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TopicsTest {
    private static final String SHA = "0123456789abcdef".repeat(4);

    @Test
    void buildsAndParsesEveryTopicKind() {
        assertEquals("edgefleet/v1/devices/gw-1/status", Topics.status("gw-1"));
        assertEquals(Topics.Kind.TELEMETRY, Topics.parse(Topics.telemetry("gw-1")).orElseThrow().kind());
        assertEquals("gw-1", Topics.parse(Topics.events("gw-1")).orElseThrow().deviceId());
        Topics.Parsed m = Topics.parse(Topics.manifest("pi4", SHA)).orElseThrow();
        assertEquals(Topics.Kind.MANIFEST, m.kind());
        assertEquals("pi4", m.classId());
        Topics.Parsed c = Topics.parse(Topics.chunk("pi4", SHA, 12)).orElseThrow();
        assertEquals(12, c.chunkIndex());
        assertEquals(SHA, c.sha256());
        assertEquals("$share/edgefleet/edgefleet/v1/devices/+/telemetry", Topics.shared(Topics.allDevices(Topics.Kind.TELEMETRY)));
    }

    @Test
    void rejectsForeignAndMalformedTopics() {
        assertTrue(Topics.parse("other/v1/devices/x/status").isEmpty());
        assertTrue(Topics.parse("edgefleet/v1/devices/x/unknown").isEmpty());
        assertTrue(Topics.parse("edgefleet/v1/devices/x/y/status").isEmpty());
        assertTrue(Topics.parse("edgefleet/v1/classes/c/artifacts/nothex/manifest").isEmpty());
        assertTrue(Topics.parse("edgefleet/v1/classes/c/artifacts/" + SHA + "/chunks/-1").isEmpty());
        assertTrue(Topics.parse("edgefleet/v1/classes/c/artifacts/" + SHA + "/chunks/x").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Topics.status("a/b"));
        assertThrows(IllegalArgumentException.class, () -> Topics.status("+"));
        assertThrows(IllegalArgumentException.class, () -> Topics.cmd(""));
    }
}
