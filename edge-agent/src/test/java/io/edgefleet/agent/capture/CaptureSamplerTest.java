package io.edgefleet.agent.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.Observation;
import io.edgefleet.protocol.CaptureUpload;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.drift.TensorSample;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opt-in capture on the agent: nothing leaves without the opt-in; the rate and both bounds hold; uploads round-trip. */
class CaptureSamplerTest {
    static final ModelRef MODEL = new ModelRef("m", 1, "a".repeat(64));

    @TempDir
    Path dir;

    final List<CaptureUpload> sent = new ArrayList<>();
    final JsonCodec codec = new JsonCodec();

    private CaptureSampler sampler() {
        CaptureSampler s = new CaptureSampler("dev-1", dir.resolve("capture.properties"), u -> {
            codec.decode(codec.encode(u), CaptureUpload.class); // every upload is a valid message
            sent.add(u);
        });
        s.modelChanged(MODEL);
        return s;
    }

    /** Inference i's input: 16 floats that name it, and an int input. */
    private static Observation obs(int i) {
        float[] x = new float[16];
        java.util.Arrays.fill(x, i);
        return new Observation(List.of(TensorSample.ofFloats("x", new long[] {1, 16}, x),
                TensorSample.ofLongs("ids", new long[] {1, 2}, new long[] {i, i + 1})), List.of());
    }

    private static Map<String, NpyArray> read(CaptureUpload u) throws Exception {
        return Npz.read(new ByteArrayInputStream(Base64.getDecoder().decode(u.npz())), 1 << 20, "upload");
    }

    @Test
    void nothingLeavesTheDeviceWithoutTheOptIn() {
        CaptureSampler s = sampler();
        for (int i = 0; i < 1000; i++) {
            s.observe(obs(i));
        }
        s.flush();
        assertEquals(List.of(), sent);
        assertEquals(0, s.sentSamples());
    }

    @Test
    void theRateAndTheSampleBoundHoldAndTheUploadRoundTrips() throws Exception {
        CaptureSampler s = sampler();
        s.configure(new CaptureSampler.Settings(0.25, 20, 1 << 20));
        for (int i = 1; i <= 100; i++) {
            s.observe(obs(i));
            if (i == 40) {
                s.flush(); // a telemetry window: 10 samples go out
            }
        }
        s.flush();
        assertEquals(List.of(10, 10), sent.stream().map(CaptureUpload::samples).toList());
        assertEquals(20, s.sentSamples());
        // every 4th inference (rate 0.25), until the bound of 20: inferences 4, 8, ..., 80
        Map<String, NpyArray> first = read(sent.get(0));
        assertArrayEquals(new long[] {10, 16}, first.get("x").shape());
        assertArrayEquals(new long[] {10, 2}, first.get("ids").shape());
        float[] xs = first.get("x").toFloats();
        long[] ids = first.get("ids").toLongs();
        for (int k = 0; k < 10; k++) {
            assertEquals(4f * (k + 1), xs[k * 16]);
            assertEquals(4L * (k + 1), ids[k * 2]);
        }
        assertEquals(80f, read(sent.get(1)).get("x").toFloats()[9 * 16]);
        for (int i = 0; i < 100; i++) {
            s.observe(obs(i));
        }
        s.flush();
        assertEquals(2, sent.size(), "the bound is reached: nothing more is taken");
    }

    @Test
    void theByteBoundHoldsAndAnOptOutDropsTheBuffer() {
        CaptureSampler s = sampler();
        long perSample = 16 * 4 + 2 * 8;
        s.configure(new CaptureSampler.Settings(1.0, 1000, 3 * perSample + 10));
        for (int i = 0; i < 10; i++) {
            s.observe(obs(i));
        }
        s.flush();
        assertEquals(3, sent.get(0).samples());
        assertTrue(s.sentBytes() <= 3 * perSample + 10);

        s.configure(new CaptureSampler.Settings(1.0, 1000, 1 << 20)); // a new opt-in: new bounds
        s.observe(obs(1));
        s.configure(CaptureSampler.Settings.OFF);
        s.flush();
        for (int i = 0; i < 10; i++) {
            s.observe(obs(i));
        }
        s.flush();
        assertEquals(1, sent.size(), "what was buffered at the opt-out is never sent");
    }

    @Test
    void theOptInAndItsCountsSurviveARestart() {
        CaptureSampler s = sampler();
        s.configure(new CaptureSampler.Settings(1.0, 5, 1 << 20));
        for (int i = 0; i < 3; i++) {
            s.observe(obs(i));
        }
        s.flush();
        CaptureSampler again = sampler();
        assertEquals(new CaptureSampler.Settings(1.0, 5, 1 << 20), again.settings());
        assertEquals(3, again.sentSamples());
        for (int i = 0; i < 10; i++) {
            again.observe(obs(i));
        }
        again.flush();
        assertEquals(List.of(3, 2), sent.stream().map(CaptureUpload::samples).toList());
        again.configure(CaptureSampler.Settings.OFF);
        assertEquals(CaptureSampler.Settings.OFF, sampler().settings());
    }
}
