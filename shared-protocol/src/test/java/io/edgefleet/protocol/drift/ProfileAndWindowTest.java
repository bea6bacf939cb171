package io.edgefleet.protocol.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProfileAndWindowTest {

    /** A [1, 2, 2, 2] image-like input (2 channels) and a 3-class logit output driven by the input mean. */
    private static List<List<TensorSample>> inference(Random rnd, double shift) {
        float[] x = new float[8];
        for (int i = 0; i < 8; i++) {
            x[i] = (float) (rnd.nextGaussian() + shift + (i >= 4 ? 3 : 0));
        }
        double m = 0;
        for (float v : x) {
            m += v;
        }
        m /= 8;
        float[] logits = {(float) -m, (float) (1 - Math.abs(m - 1.5)), (float) m};
        return List.of(List.of(TensorSample.ofFloats("image", new long[] {1, 2, 2, 2}, x)),
                List.of(TensorSample.ofFloats("logits", new long[] {1, 3}, logits)));
    }

    private static ReferenceProfile reference(long seed, int n) {
        ProfileBuilder b = new ProfileBuilder();
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            List<List<TensorSample>> io = inference(rnd, 0);
            b.add(io.get(0), io.get(1));
        }
        return b.build(ReferenceProfile.SOURCE_VALIDATION);
    }

    @Test
    void profileHasPerChannelFeaturesAndOutputHistograms() {
        ReferenceProfile p = reference(1, 2000);
        assertEquals(2000, p.samples());
        assertEquals(List.of("image.c0.mean", "image.c0.std", "image.c1.mean", "image.c1.std"),
                p.features().stream().map(FeatureProfile::name).toList());
        assertEquals(1, p.features().get(2).channel());
        assertEquals(3.0, p.features().get(2).mean(), 0.1); // channel 1 is shifted by 3 in the generator
        assertEquals("class", p.outputClasses().kind());
        assertArrayEquals(Bins.categoryEdges(3), p.outputClasses().edges(), 0);
        assertEquals("confidence", p.confidence().kind());
        for (FeatureProfile f : p.allFeatures()) {
            assertEquals(0.0, f.proportions()[0], 0, "reference data never underflows its own edges");
            assertEquals(0.0, f.proportions()[f.proportions().length - 1], 0);
        }
    }

    @Test
    void sameDistributionStaysLowAndAShiftCrossesTheAlertThreshold() {
        ReferenceProfile p = reference(1, 2000);
        DriftWindow w = new DriftWindow(p);
        Random rnd = new Random(99);
        for (int i = 0; i < 500; i++) {
            List<List<TensorSample>> io = inference(rnd, 0);
            w.add(io.get(0), io.get(1));
        }
        DriftReport same = w.cut();
        assertEquals(500, same.samples());
        assertTrue(same.psi() < DriftThresholds.PSI_WARN, "unshifted psi " + same.psi());
        assertTrue(same.js() < DriftThresholds.JS_ALERT, "unshifted js " + same.js());
        assertEquals(0.0, same.confidenceShift(), 0.03);
        assertEquals(6, same.features().size());
        assertEquals("validation", same.reference());

        for (int i = 0; i < 500; i++) {
            List<List<TensorSample>> io = inference(rnd, 0.5);
            w.add(io.get(0), io.get(1));
        }
        DriftReport shifted = w.cut();
        assertTrue(shifted.psi() >= DriftThresholds.PSI_ALERT, "shifted psi " + shifted.psi());
        assertTrue(shifted.js() > same.js());
        double meanPsi = shifted.features().stream().filter(f -> f.name().equals("image.c0.mean")).findFirst()
                .orElseThrow().psi();
        assertEquals(shifted.psi(), Math.max(meanPsi, shifted.psi()), 0, "overall is the maximum over the features");
        assertNull(w.cut(), "an empty window has no report");
    }

    @Test
    void tokenIdsGiveLengthAndRareShare() {
        ProfileBuilder b = new ProfileBuilder();
        Random rnd = new Random(5);
        for (int i = 0; i < 400; i++) {
            long[] ids = new long[8];
            int len = 3 + rnd.nextInt(5);
            for (int j = 0; j < len; j++) {
                ids[j] = 100 + rnd.nextInt(20); // a small vocabulary
            }
            b.add(List.of(TensorSample.ofLongs("input_ids", new long[] {1, 8}, ids)),
                    List.of(TensorSample.ofFloats("embedding", new long[] {1, 4}, new float[] {1, 2, 3, 4})));
        }
        ReferenceProfile p = b.build(ReferenceProfile.SOURCE_CALIBRATION);
        FeatureProfile rare = p.features().get(1);
        assertEquals("rare-share", rare.kind());
        assertNotNull(rare.commonIds());
        assertTrue(rare.commonIds().length >= 15 && rare.commonIds().length <= 20);
        FeatureSpec spec = FeatureSpec.of(rare);
        long[] unseen = {5000, 5001, 100, 0, 0, 0, 0, 0};
        assertEquals(2.0 / 3, spec.value(TensorSample.ofLongs("input_ids", new long[] {1, 8}, unseen), 0, rare.commonIds()), 1e-12);
        assertEquals(3.0, FeatureSpec.of(p.features().get(0))
                .value(TensorSample.ofLongs("input_ids", new long[] {1, 8}, unseen), 0, null), 0);
        // [1, 4] float output: 4 columns is class scores; these are not a distribution, so the softmax is used
        assertEquals("class", p.outputClasses().kind());
    }

    @Test
    void nonClassifierOutputsGetANormHistogram() {
        ProfileBuilder b = new ProfileBuilder();
        for (int i = 1; i <= 50; i++) {
            b.add(List.of(TensorSample.ofFloats("x", new long[] {1, 2}, new float[] {i, i})),
                    List.of(TensorSample.ofFloats("y", new long[] {1, 1}, new float[] {i})));
        }
        ReferenceProfile p = b.build(ReferenceProfile.SOURCE_SELF);
        assertNull(p.outputClasses());
        assertEquals("norm", p.confidence().kind());
        DriftWindow w = new DriftWindow(p);
        w.add(List.of(TensorSample.ofFloats("x", new long[] {1, 2}, new float[] {1, 1})),
                List.of(TensorSample.ofFloats("y", new long[] {1, 1}, new float[] {1})));
        assertNull(w.cut().confidenceShift());
    }

    @Test
    void profileSurvivesJsonAndItsCanonicalHashIsStable() throws Exception {
        ReferenceProfile p = reference(3, 300);
        JsonCodec codec = new JsonCodec();
        byte[] json = codec.mapper().writeValueAsBytes(p);
        ReferenceProfile back = codec.mapper().readValue(json, ReferenceProfile.class);
        assertEquals(p, back);
        assertEquals(p.canonicalSha256(), back.canonicalSha256());
        back.validate();
    }

    @Test
    void malformedProfilesAreRefused() {
        FeatureProfile bad = new FeatureProfile("f", "mean", "x", null, new double[] {2, 1}, new double[] {0, 1, 0}, 0, null);
        ReferenceProfile p = new ReferenceProfile("validation", 10, List.of(bad), null, null);
        ProtocolException e = assertThrows(ProtocolException.class, p::validate);
        assertEquals(ReasonCode.INVALID_FIELD, e.reason());
        FeatureProfile ok = new FeatureProfile("f", "mean", "x", null, new double[] {1, 2}, new double[] {0, 1, 0}, 0, null);
        assertThrows(ProtocolException.class, () -> new ReferenceProfile("elsewhere", 10, List.of(ok), null, null).validate());
        assertThrows(ProtocolException.class, () -> new ReferenceProfile("self", 10, List.of(ok, ok), null, null).validate());
        new ReferenceProfile("self", 10, List.of(ok), null, null).validate();
    }
}
