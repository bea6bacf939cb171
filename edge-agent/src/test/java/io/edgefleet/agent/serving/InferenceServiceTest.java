package io.edgefleet.agent.serving;

import static io.edgefleet.agent.serving.ServingFixtures.direct;
import static io.edgefleet.agent.serving.ServingFixtures.load;
import static io.edgefleet.agent.serving.ServingFixtures.ref;
import static io.edgefleet.agent.serving.ServingFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.InferenceListener;
import io.edgefleet.agent.inference.Observation;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.drift.TensorSample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process API against real ONNX Runtime models: answers, metadata, every refusal, telemetry. */
class InferenceServiceTest {
    static final long[] ONE_BY_FOUR = {1, 4};
    static final float[] X = {0.5f, -1.25f, 2f, 3.5f};

    @TempDir
    Path dir;

    final ServedModels models = new ServedModels();
    final ServedModel slot = models.add(new ServedModel());
    final ServingFixtures.Counting counts = new ServingFixtures.Counting();
    final InferenceService service = new InferenceService(models, counts, 1.0);

    @AfterEach
    void close() {
        slot.swap(null, null, null);
    }

    Path serveLinear() throws Exception {
        Path p = write(dir, "linear.onnx", TinyOnnx.linear());
        slot.swap(load(p), ref("linear", 3), null);
        return p;
    }

    ServingException refused(ServingError error, InferRequest r) {
        ServingException e = assertThrows(ServingException.class, () -> service.infer("linear", r));
        assertEquals(error, e.error(), e.getMessage());
        return e;
    }

    @Test
    void answersEqualOnnxRuntimeCalledDirectly() throws Exception {
        Path p = serveLinear();
        InferResponse r = service.infer("linear", new InferRequest("req-7", List.of(InferInput.fp32("X", ONE_BY_FOUR, X)), null));
        assertEquals("linear", r.modelName());
        assertEquals("3", r.modelVersion());
        assertEquals("req-7", r.id());
        InferOutput y = r.output("Y");
        assertEquals(Datatype.FP32, y.datatype());
        assertArrayEquals(new long[] {1, 3}, y.shape());
        assertArrayEquals(direct(p, "X", X, ONE_BY_FOUR, "Y"), y.floats());

        // A batch of two on the dynamic first dimension.
        float[] two = {1, 2, 3, 4, -1, -2, -3, -4};
        InferOutput y2 = service.infer("linear", InferRequest.of(InferInput.fp32("X", new long[] {2, 4}, two))).output("Y");
        assertArrayEquals(new long[] {2, 3}, y2.shape());
        assertArrayEquals(direct(p, "X", two, new long[] {2, 4}, "Y"), y2.floats());
        assertEquals(2, counts.successes.get());
    }

    @Test
    void everyExchangeableDatatypeGoesThroughTheRuntimeAndBack() throws Exception {
        slot.swap(load(write(dir, "ids.onnx", TinyOnnx.identities())), ref("ids", 1), null);
        InferRequest r = new InferRequest(null, List.of(
                InferInput.fp64("D", new long[] {1, 2}, 1.5, -2.25),
                InferInput.int32("I32", new long[] {1, 2}, Integer.MIN_VALUE, 7),
                new InferInput("I16", new long[] {2}, Datatype.INT16, new short[] {-300, 300}),
                new InferInput("I8", new long[] {2}, Datatype.INT8, new byte[] {-128, 127}),
                new InferInput("U8", new long[] {2}, Datatype.UINT8, new byte[] {0, (byte) 255}),
                new InferInput("B", new long[] {2}, Datatype.BOOL, new boolean[] {true, false}),
                InferInput.int64("L", new long[] {2}, Long.MIN_VALUE, Long.MAX_VALUE)), List.of());
        InferResponse out = service.infer("ids", r);
        assertEquals(7, out.outputs().size());
        for (InferInput in : r.inputs()) {
            InferOutput o = out.output(in.name() + "_out");
            assertEquals(in.datatype(), o.datatype(), in.name());
            assertArrayEquals(in.shape(), o.shape(), in.name());
            assertTrue(java.util.Objects.deepEquals(in.data(), o.data()), in.name());
        }
        // Only the outputs asked for, in the order asked.
        InferResponse two = service.infer("ids", new InferRequest(null, r.inputs(), List.of("L_out", "D_out")));
        assertEquals(List.of("L_out", "D_out"), two.outputs().stream().map(InferOutput::name).toList());
    }

    @Test
    void metadataDescribesTheModelInProtocolTerms() throws Exception {
        serveLinear();
        ModelMetadata m = service.modelMetadata("linear");
        assertEquals("linear", m.name());
        assertEquals(List.of("3"), m.versions());
        assertEquals("onnxruntime_onnx", m.platform());
        assertEquals(List.of(new ModelMetadata.TensorMetadata("X", "FP32", new long[] {-1, 4})), m.inputs());
        assertEquals(List.of(new ModelMetadata.TensorMetadata("Y", "FP32", new long[] {-1, 3})), m.outputs());
        assertTrue(service.isReady("linear"));
        assertTrue(service.ready());
        assertNull(service.notReadyReason());
    }

    @Test
    void inputsThatDoNotFitTheModelAreRefusedWithTheReasonAndNotCounted() throws Exception {
        serveLinear();
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("Z", ONE_BY_FOUR, X)))
                .getMessage().contains("unexpected input 'Z'; the model's inputs are [X]"));
        assertTrue(refused(ServingError.BAD_REQUEST, new InferRequest(null, List.of(), null))
                .getMessage().contains("missing input [X]"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X),
                InferInput.fp32("X", ONE_BY_FOUR, X))).getMessage().contains("given twice"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp64("X", ONE_BY_FOUR, 1, 2, 3, 4)))
                .getMessage().contains("datatype FP64 but the model expects FP32"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("X", new long[] {4}, X)))
                .getMessage().contains("expects 2 dimensions [-1, 4]"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("X", new long[] {2, 2}, X)))
                .getMessage().contains("dimension 1 does not fit"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("X", new long[] {0, 4})))
                .getMessage().contains("dimension 0 does not fit"), "a dynamic dimension takes any positive size, not 0");
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(InferInput.fp32("X", new long[] {2, 4}, X)))
                .getMessage().contains("has 4 values but shape [2, 4] needs 8"));
        assertTrue(refused(ServingError.BAD_REQUEST, InferRequest.of(new InferInput("X", ONE_BY_FOUR, Datatype.FP32,
                new double[] {1, 2, 3, 4}))).getMessage().contains("FP32 data must be a float[], not a double[]"));
        assertTrue(refused(ServingError.BAD_REQUEST, new InferRequest(null, List.of(InferInput.fp32("X", ONE_BY_FOUR, X)),
                List.of("nope"))).getMessage().contains("unknown output 'nope'; the model's outputs are [Y]"));
        assertEquals(0, counts.successes.get() + counts.errors.get(), "a client's mistakes are not the model's errors");
        // And the model still answers.
        service.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X)));
        assertEquals(1, counts.successes.get());
    }

    @Test
    void typesTheApiDoesNotExchangeAreDescribedButRefused() throws Exception {
        slot.swap(load(write(dir, "half.onnx", TinyOnnx.castHalf())), ref("half", 1), null);
        assertEquals("FP16", service.modelMetadata("half").outputs().get(0).datatype());
        InferInput x = InferInput.fp32("X", new long[] {2}, 1, 2);
        ServingException all = assertThrows(ServingException.class, () -> service.infer("half", InferRequest.of(x)));
        assertEquals(ServingError.BAD_REQUEST, all.error());
        assertTrue(all.getMessage().contains("no outputs this API can return"), all.getMessage());
        ServingException asked = assertThrows(ServingException.class,
                () -> service.infer("half", new InferRequest(null, List.of(x), List.of("Y"))));
        assertTrue(asked.getMessage().contains("output 'Y' has datatype FP16, which this API cannot return"), asked.getMessage());

        // An input of such a type (the agent's loader refuses those models today, the check stays anyway).
        var spec = new io.edgefleet.agent.inference.TensorSpec("H", io.edgefleet.agent.inference.ElementType.OTHER,
                "FLOAT16", new long[] {2});
        ServingException in = assertThrows(ServingException.class, () -> InferenceService.inputs(List.of(spec),
                List.of(InferInput.fp32("H", new long[] {2}, 1, 2))));
        assertTrue(in.getMessage().contains("'H' has datatype FP16, which this API does not accept"), in.getMessage());
    }

    @Test
    void unknownModelsAndVersionsAre404AndAModelThatFailedToLoadIs503() throws Exception {
        ServingException none = assertThrows(ServingException.class, () -> service.modelMetadata("linear"));
        assertEquals(ServingError.MODEL_NOT_FOUND, none.error());
        assertTrue(none.getMessage().contains("no model is deployed yet"), none.getMessage());
        assertFalse(service.ready());
        assertEquals("no model is deployed on this device yet", service.notReadyReason());

        serveLinear();
        ServingException other = assertThrows(ServingException.class,
                () -> service.infer("resnet", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X))));
        assertEquals(ServingError.MODEL_NOT_FOUND, other.error());
        assertTrue(other.getMessage().contains("it serves [linear]"), other.getMessage());
        ServingException version = assertThrows(ServingException.class,
                () -> service.infer("linear", "2", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X))));
        assertEquals(ServingError.MODEL_NOT_FOUND, version.error());
        assertTrue(version.getMessage().contains("the active version is 3"), version.getMessage());
        assertEquals("3", service.infer("linear", "3", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X))).modelVersion());

        slot.unavailable(ref("linear", 4), "linear:4 failed to load at start", null);
        ServingException down = assertThrows(ServingException.class,
                () -> service.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X))));
        assertEquals(ServingError.MODEL_NOT_READY, down.error());
        assertTrue(down.getMessage().contains("failed to load at start"), down.getMessage());
        assertFalse(service.modelReady("linear", null));
        assertFalse(service.ready());
    }

    @Test
    void apiInferencesLandInTheTelemetryWindowAndRuntimeFailuresCountAsErrors() throws Exception {
        WindowRecorder recorder = new WindowRecorder(0);
        InferenceService svc = new InferenceService(models, recorder, 1.0);
        serveLinear();
        for (int i = 0; i < 5; i++) {
            svc.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X)));
        }
        assertThrows(ServingException.class, () -> svc.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR))));
        WindowRecorder.Window w = recorder.cut(1000);
        assertEquals(5, w.inferences());
        assertEquals(0, w.errors());
        assertTrue(w.latency() != null && w.latency().p50() > 0);

        // A model that loads but fails at run time: the failure is the model's, so it counts.
        slot.swap(load(write(dir, "bad.onnx", TinyOnnx.failsAtRunTime())), ref("linear", 5), null);
        ServingException e = assertThrows(ServingException.class,
                () -> svc.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X))));
        assertEquals(ServingError.INFERENCE_FAILED, e.error());
        assertTrue(e.getMessage().startsWith("inference failed: "), e.getMessage());
        WindowRecorder.Window w2 = recorder.cut(2000);
        assertEquals(1, w2.inferences());
        assertEquals(1, w2.errors());
    }

    @Test
    void apiInferencesHandDriftAndEnergyWhatTheySaw() throws Exception {
        List<Observation> seen = new ArrayList<>();
        List<Long> cpu = new ArrayList<>();
        InferenceListener listener = new InferenceListener() {
            @Override
            public void onSuccess(long latencyNanos) {
                throw new AssertionError("the API must report through onInference, with what it saw");
            }

            @Override
            public void onError(Throwable error) {
            }

            @Override
            public void onInference(long latencyNanos, long cpuNanos, Observation observation) {
                seen.add(observation);
                cpu.add(cpuNanos);
            }
        };
        InferenceService svc = new InferenceService(models, listener, 1.0);
        Path p = serveLinear();
        svc.infer("linear", InferRequest.of(InferInput.fp32("X", ONE_BY_FOUR, X)));
        assertEquals(1, seen.size());
        TensorSample in = seen.get(0).inputs().get(0);
        assertEquals("X", in.name());
        assertArrayEquals(ONE_BY_FOUR, in.shape());
        assertArrayEquals(X, in.floats());
        TensorSample out = seen.get(0).outputs().get(0);
        assertEquals("Y", out.name());
        assertArrayEquals(direct(p, "X", X, ONE_BY_FOUR, "Y"), out.floats());
        assertTrue(cpu.get(0) >= 0);
    }
}
