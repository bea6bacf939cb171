package io.edgefleet.agent.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.MqttPublish;
import org.eclipse.paho.mqttv5.common.packet.MqttWireMessage;
import org.eclipse.paho.mqttv5.common.packet.util.CountingInputStream;
import org.junit.jupiter.api.Test;

/** The agent's replacement of Paho's CountingInputStream: bulk reads, the same count, packets decode as before. */
class PahoDecodingTest {

    /** Counts the one-byte reads made on it. */
    private static final class OneByteReads extends InputStream {
        final ByteArrayInputStream in;
        int oneByteCalls;

        OneByteReads(byte[] data) {
            this.in = new ByteArrayInputStream(data);
        }

        @Override
        public int read() {
            oneByteCalls++;
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return in.read(b, off, len);
        }
    }

    @Test
    void aPayloadIsReadInBulkAndCounted() throws IOException {
        byte[] data = new byte[65536 + 3];
        new Random(7).nextBytes(data);
        OneByteReads source = new OneByteReads(data);
        CountingInputStream counting = new CountingInputStream(source);
        DataInputStream in = new DataInputStream(counting);

        int first = in.readUnsignedByte();
        byte[] payload = new byte[65536];
        in.readFully(payload);

        assertEquals(data[0] & 0xff, first);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1, 65537), payload);
        assertEquals(65537, counting.getCounter());
        // Paho 1.2.5's own class makes one call per byte here (65,537); this one only the readUnsignedByte.
        assertEquals(1, source.oneByteCalls);
        counting.resetCounter();
        assertEquals(2, in.read(new byte[8]));
        assertEquals(2, counting.getCounter());
        assertEquals(-1, in.read());
        assertEquals(2, counting.getCounter());
    }

    @Test
    void aChunkPublishWithPropertiesDecodesToTheSameMessage() throws Exception {
        byte[] payload = new byte[65536];
        new Random(11).nextBytes(payload);
        MqttMessage message = new MqttMessage(payload);
        message.setQos(1);
        message.setRetained(true);
        MqttProperties props = new MqttProperties();
        props.setContentType("application/octet-stream");
        MqttPublish publish = new MqttPublish("edgefleet/artifacts/cls/abc/chunks/7", message, props);
        publish.setMessageId(4711);
        byte[] header = publish.getHeader();
        byte[] packet = new byte[header.length + payload.length];
        System.arraycopy(header, 0, packet, 0, header.length);
        System.arraycopy(publish.getPayload(), 0, packet, header.length, payload.length);

        MqttPublish decoded = (MqttPublish) MqttWireMessage.createWireMessage(packet);

        assertEquals("edgefleet/artifacts/cls/abc/chunks/7", decoded.getTopicName());
        assertEquals(4711, decoded.getMessageId());
        assertEquals(1, decoded.getMessage().getQos());
        assertEquals("application/octet-stream", decoded.getProperties().getContentType());
        assertArrayEquals(payload, decoded.getMessage().getPayload());
    }

    @Test
    void pahoLoadsTheAgentsBulkReadingClass() {
        assertTrue(PahoTransport.bulkDecoding(), "Paho's one-byte-per-call CountingInputStream is first on the class path");
    }
}
