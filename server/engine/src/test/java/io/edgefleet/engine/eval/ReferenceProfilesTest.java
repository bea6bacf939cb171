package io.edgefleet.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.protocol.drift.FeatureProfile;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.protocol.drift.TensorSample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReferenceProfilesTest {

    @Test
    void classDistributionMatchesTheModelsOwnPredictions() {
        OnnxModel m = SampleModels.mlp(1);
        TensorData x = TestData.mlpInputs(300, 4);
        Dataset d = Dataset.of(Map.of("x", x), null, null);
        ReferenceProfile p = ReferenceProfiles.build(m, d, ReferenceProfile.SOURCE_VALIDATION, 5000,
                OrtRunner.Options.defaults());
        assertEquals(300, p.samples());
        assertEquals(List.of("x.mean", "x.std"), p.features().stream().map(FeatureProfile::name).toList());
        long[] predicted = TestData.predictions(m, x);
        double[] expected = new double[12];
        for (long c : predicted) {
            expected[(int) c + 1] += 1.0 / predicted.length;
        }
        double[] actual = p.outputClasses().proportions();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-9, "class bin " + i);
        }
        assertEquals("confidence", p.confidence().kind());
    }

    @Test
    void batchedRunsGiveTheSameProfileAsOneSampleAtATime() {
        OnnxModel m = SampleModels.cnn(2);
        float[] values = new float[40 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i * 0.37);
        }
        TensorData x = TensorData.ofFloats("x", new long[] {40, 1, 8, 8}, values);
        Dataset d = Dataset.of(Map.of("x", x), null, null);
        ReferenceProfile batched = ReferenceProfiles.build(m, d, ReferenceProfile.SOURCE_CALIBRATION, 5000,
                OrtRunner.Options.defaults());
        assertEquals("x.c0.mean", batched.features().get(0).name());

        ProfileBuilder single = new ProfileBuilder();
        try (OrtRunner r = OrtRunner.open(m)) {
            for (int i = 0; i < 40; i++) {
                Map<String, TensorData> feed = d.feeds(m, i, i + 1);
                single.add(ReferenceProfiles.samples(feed.values()), ReferenceProfiles.samples(r.run(feed).values()));
            }
        }
        ReferenceProfile one = single.build(ReferenceProfile.SOURCE_CALIBRATION);
        for (int f = 0; f < one.allFeatures().size(); f++) {
            FeatureProfile a = one.allFeatures().get(f);
            FeatureProfile b = batched.allFeatures().get(f);
            assertEquals(a.name(), b.name());
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.edges(), b.edges(), 1e-5);
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.proportions(), b.proportions(), 0.05);
        }
        List<TensorSample> s = ReferenceProfiles.samples(List.of(TensorData.ofInt64("ids", new long[] {1, 2}, new long[] {7, 9})));
        assertEquals(9, s.get(0).longs()[1]);
    }

    @Test
    void dataThatDoesNotFitTheModelIsBadInput() {
        OnnxModel m = SampleModels.mlp(1);
        Dataset wrong = Dataset.of(Map.of("y", TestData.mlpInputs(5, 1).withName("y")), null, null);
        assertThrows(BadInputException.class, () -> ReferenceProfiles.build(m, wrong, "validation", 100,
                OrtRunner.Options.defaults()));
    }
}
