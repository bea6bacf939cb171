package io.edgefleet.agent.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.Observation;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.DriftThresholds;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.protocol.drift.TensorSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftMonitorTest {

    private static Observation obs(Random r, double shift) {
        float[] x = new float[16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() + shift);
        }
        float[] y = {x[0], x[1], -x[0]};
        return new Observation(List.of(TensorSample.ofFloats("x", new long[] {1, 16}, x)),
                List.of(TensorSample.ofFloats("y", new long[] {1, 3}, y)));
    }

    /** A signed-style profile from 1,000 undrifted inferences of {@link #obs}. */
    private static ReferenceProfile validationProfile(Random r) {
        ProfileBuilder b = new ProfileBuilder();
        for (int i = 0; i < 1000; i++) {
            Observation o = obs(r, 0);
            b.add(o.inputs(), o.outputs());
        }
        return b.build(ReferenceProfile.SOURCE_VALIDATION);
    }

    @Test
    void withoutAProfileTheFirstInferencesBecomeTheSelfReference() {
        List<ReferenceProfile> kept = new ArrayList<>();
        DriftMonitor m = new DriftMonitor(null, 200, 30, kept::add);
        Random r = new Random(1);
        for (int i = 0; i < 199; i++) {
            m.observe(obs(r, 0));
        }
        assertNull(m.reference(), "still collecting");
        assertNull(m.cut(), "no report while the reference is being collected");
        m.observe(obs(r, 0));
        assertEquals("self", m.reference());
        assertEquals(1, kept.size());
        assertEquals(200, kept.get(0).samples());

        for (int i = 0; i < 20; i++) {
            m.observe(obs(r, 0));
        }
        assertNull(m.cut(), "20 inferences are below the window minimum of 30");
        for (int i = 0; i < 300; i++) {
            m.observe(obs(r, 0));
        }
        DriftReport same = m.cut();
        assertNotNull(same);
        assertEquals("self", same.reference());
        assertEquals(320, same.samples(), "the 20 of the short window carried over");
        assertTrue(same.psi() < DriftThresholds.PSI_ALERT, "psi " + same.psi());

        for (int i = 0; i < 300; i++) {
            m.observe(obs(r, 1.0));
        }
        DriftReport shifted = m.cut();
        assertTrue(shifted.psi() >= DriftThresholds.PSI_ALERT, "psi " + shifted.psi());
    }

    @Test
    void aSignedProfileIsUsedFromTheFirstInference() {
        Random r = new Random(2);
        DriftMonitor m = new DriftMonitor(validationProfile(r), 200, 30, p -> {
            throw new AssertionError("no self-reference with a signed profile");
        });
        assertEquals("validation", m.reference());
        for (int i = 0; i < 100; i++) {
            m.observe(obs(r, 2.0));
        }
        DriftReport d = m.cut();
        assertEquals("validation", d.reference());
        assertTrue(d.psi() >= DriftThresholds.PSI_ALERT);
        assertNotNull(d.confidenceShift());
    }

    @Test
    void aSlowDeviceIsScoredOverSeveralWindowsNotOnAHandfulOfInferences() {
        Random r = new Random(3);
        ReferenceProfile ref = validationProfile(r);
        // one inference a second and 60 s windows: 60 a window, so the default minimum of 200 takes four windows
        DriftMonitor m = new DriftMonitor(ref, 200, 200, p -> {
        });
        List<DriftReport> reports = new ArrayList<>();
        for (int window = 0; window < 8; window++) {
            for (int i = 0; i < 60; i++) {
                m.observe(obs(r, 0));
            }
            reports.add(m.cut());
        }
        assertNull(reports.get(0));
        assertNull(reports.get(1));
        assertNull(reports.get(2));
        assertEquals(240, reports.get(3).samples());
        assertNull(reports.get(4));
        assertEquals(240, reports.get(7).samples());
        for (DriftReport d : List.of(reports.get(3), reports.get(7))) {
            assertTrue(d.psi() < DriftThresholds.PSI_ALERT, "an undrifted stream over 240 inferences: psi " + d.psi());
        }

        // the same stream cut every 60 inferences, as the old rule did (a minimum of 30): most windows of an undrifted
        // stream score over the alert threshold, which is why the minimum is no longer 30
        DriftMonitor old = new DriftMonitor(ref, 200, 30, p -> {
        });
        int over = 0;
        for (int window = 0; window < 20; window++) {
            for (int i = 0; i < 60; i++) {
                old.observe(obs(r, 0));
            }
            if (old.cut().psi() >= DriftThresholds.PSI_ALERT) {
                over++;
            }
        }
        assertTrue(over >= 10, over + " of 20 undrifted 60-inference windows over the alert threshold");
    }
}
