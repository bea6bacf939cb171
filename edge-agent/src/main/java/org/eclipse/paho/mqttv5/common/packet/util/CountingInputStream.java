package org.eclipse.paho.mqttv5.common.packet.util;

import java.io.IOException;
import java.io.InputStream;

/**
 * Replaces the class of the same name in Eclipse Paho v5 1.2.5 (its last release), which the agent's classes precede
 * on every class path (the agent jar, its shaded jar, the simulator and the integration tests).
 *
 * <p>Paho decodes every received packet through this counting wrapper around a {@code ByteArrayInputStream}; its own
 * version overrides only the one-byte {@code read()}, so {@code DataInputStream.readFully} of a PUBLISH payload goes
 * through {@code InputStream}'s default loop: one call, and one lock of the synchronized
 * {@code ByteArrayInputStream.read()}, per payload byte, twice per PUBLISH (the packet, then the payload). Measured
 * on a 2-core EPYC: about 29 CPU-seconds per GB of 64 KiB artifact chunks, 76 % of the CPU samples of a 300-agent
 * artifact delivery benchmark (docs/protocol.md "Measured"). This version has the same public members and counts
 * the same bytes, and reads arrays in bulk. {@code PahoTransport} warns once if Paho's own copy is loaded instead.
 */
public class CountingInputStream extends InputStream {
    private final InputStream in;
    private int counter;

    public CountingInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b != -1) {
            counter++;
        }
        return b;
    }

    /** Reads up to {@code len} bytes in one call to the wrapped stream and counts those read. */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            counter += n;
        }
        return n;
    }

    /** Bytes read since creation or the last {@link #resetCounter()}. */
    public int getCounter() {
        return counter;
    }

    public void resetCounter() {
        counter = 0;
    }
}
