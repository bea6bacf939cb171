package io.edgefleet.engine.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Part 5 of the planner: models whose inputs only real data can feed get a clear request for data. */
class InputRequirementsTest {
    static final DeviceClassProfile ANY = new DeviceClassProfile("any", Set.of("fp32"), 1L << 30, 1L << 30, null, null,
            1.0, new DeviceClassProfile.Slo(1000, 1L << 30, null), new AccuracyGate(100, 100));

    /**
     * A streaming voice-activity detector's interface: audio x[N, T] with a dynamic frame length, a recurrent state
     * [2, N, 16] fed back from the previous call, and a scalar int64 sample rate.
     */
    static OnnxModel streaming() {
        return OnnxBuilder.model("vad").opset(17)
                .input("x", ElemType.FLOAT, "N", "T")
                .input("state", ElemType.FLOAT, 2, "N", 16)
                .input("sr", ElemType.INT64)
                .output("prob", ElemType.FLOAT, "N", "T")
                .output("stateN", ElemType.FLOAT, 2, "N", 16)
                .node("Cast").name("sr_f").in("sr").out("srf").attr("to", 1).add()
                .node("Relu").name("relu").in("x").out("rx").add()
                .node("Mul").name("scale").in("rx", "srf").out("prob").add()
                .node("Relu").name("carry").in("state").out("stateN").add()
                .build();
    }

    @Test
    void aStreamingModelWithoutDataIsAskedForDataInputByInput() {
        OnnxModel m = streaming();
        try (OrtRunner ignored = OrtRunner.open(m)) {
            // the model itself is fine: only the data is missing
        }
        BadInputException e = assertThrows(BadInputException.class,
                () -> Planner.builder(m, ANY).build().run());
        assertTrue(e.getMessage().startsWith("planning needs validation data"), e.getMessage());
        assertTrue(e.getMessage().contains("input 'sr' is a scalar"), e.getMessage());
        assertTrue(e.getMessage().contains("input 'state'") && e.getMessage().contains("recurrent state"),
                e.getMessage());
        assertTrue(e.getMessage().contains("input 'x'") && e.getMessage().contains("only real data fixes"),
                e.getMessage());
    }

    @Test
    void dataMissingAnInputNamesItAndWhy() {
        OnnxModel m = streaming();
        int n = 6;
        Dataset noSr = Dataset.of(Map.of(
                "x", TensorData.ofFloats("x", new long[] {n, 5}, new float[n * 5]),
                "state", TensorData.ofFloats("state", new long[] {n, 2, 16}, new float[n * 32])), null, null);
        BadInputException e = assertThrows(BadInputException.class,
                () -> Planner.builder(m, ANY).validation(noSr).build().run());
        assertTrue(e.getMessage().contains("has no array for it: input 'sr' is a scalar"), e.getMessage());
        assertTrue(!e.getMessage().contains("'state'"), e.getMessage());
    }

    @Test
    void withEveryInputInTheDataTheStreamingModelIsPlanned() {
        OnnxModel m = streaming();
        int n = 6;
        float[] x = new float[n * 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) - 3;
        }
        long[] sr = new long[n];
        java.util.Arrays.fill(sr, 16000);
        Dataset data = Dataset.of(Map.of(
                "x", TensorData.ofFloats("x", new long[] {n, 5}, x),
                "state", TensorData.ofFloats("state", new long[] {n, 2, 16}, new float[n * 32]),
                "sr", TensorData.ofInt64("sr", new long[] {n}, sr)), null, null);
        // the state is batched along its axis 1, like a streaming VAD's [2, N, 16]: declared, it plans
        BadInputException undeclared = assertThrows(BadInputException.class,
                () -> Planner.builder(m, ANY).validation(data).build().run());
        assertTrue(undeclared.getMessage().contains("\"batchAxis\": {\"state\": 1}"), undeclared.getMessage());
        Planner.Outcome out = Planner.builder(m, ANY).validation(data).batchAxes(Map.of("state", 1))
                .budget(new PlanBudget(1, 5, 0.1, 0.1, 3)).build().run();
        assertEquals("identity", out.plan().choice(), out.plan().reason());
    }

    /** y[4, N, 3] = x[4, N, 8] @ w: a time-major model whose batch axis is the second. */
    static OnnxModel timeMajor() {
        return OnnxBuilder.model("time_major").opset(17)
                .input("x", ElemType.FLOAT, 4, "N", 8)
                .output("y", ElemType.FLOAT, 4, "N", 3)
                .heInitializer("w", new long[] {8, 3}, 8, 3)
                .node("MatMul").name("mm").in("x", "w").out("y").add()
                .build();
    }

    @Test
    void aBatchAxisThatIsNotFirstMustBeDeclaredAndThenWorks() {
        OnnxModel m = timeMajor();
        int n = 8;
        float[] x = OnnxBuilder.randomUniform(5, n * 4 * 8, -1, 1);
        // samples along axis 0, the model's batch axis left out: [samples, 4, 8]
        Dataset data = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, 4, 8}, x)), null, null);
        BadInputException e = assertThrows(BadInputException.class,
                () -> Planner.builder(m, ANY).validation(data).build().run());
        assertTrue(e.getMessage().contains("\"batchAxis\": {\"x\": 1}"), e.getMessage());

        Planner.Outcome out = Planner.builder(m, ANY).validation(data).batchAxes(Map.of("x", 1))
                .budget(new PlanBudget(2, 5, -1, 0.1, 3))
                .candidates(List.of(new Candidate("identity", "identity", new TreeMap<>(), List.of("fp32")),
                        new Candidate("fp16-storage", "fp16-storage", new TreeMap<>(), List.of("fp32"))))
                .build().run();
        assertNotNull(out.plan().choice(), out.plan().reason());
        assertEquals(n, out.plan().validation().samples());
        // each sample was fed as [4, 1, 8]: the data reshaped for the model
        Dataset fed = InputRequirements.withBatchAxes(m, data, Map.of("x", 1));
        assertEquals("[8, 4, 1, 8]", java.util.Arrays.toString(fed.input("x").shape()));
        assertThrows(BadInputException.class, () -> InputRequirements.withBatchAxes(m, data, Map.of("x", 3)));
        assertThrows(BadInputException.class, () -> InputRequirements.withBatchAxes(m, data, Map.of("nope", 1)));
    }
}
