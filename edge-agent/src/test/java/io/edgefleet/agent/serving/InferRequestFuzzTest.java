package io.edgefleet.agent.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.ModelRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Promise 7 on the agent's inference API (issue 13, item 8): a request body as the HTTP server hands it on after its
 * size and {@code Content-Type} checks. {@link KServeJson#readRequest} answers every input with a request or a
 * {@link ServingException} with a 4xx error and a reason; anything else escaping is a finding, and so is an accepted
 * tensor whose values are not held in its datatype's array (the service would fail on it instead of refusing).
 *
 * <p>The fuzzed path stops before ONNX Runtime: loaded into a Jazzer fuzzing process, its native library crashes the
 * JVM (SIGSEGV, exit 139) as soon as it loads. The seeds still go the whole way, through {@link InferenceService}
 * and a real ONNX Runtime model, in {@link #seedsAreValidRequestsAndNamedRefusals}, which runs in every build.
 *
 * <p>Without {@code JAZZER_FUZZ} the fuzz test runs as a regression test over the checked-in seeds in
 * {@code src/test/resources/io/edgefleet/agent/serving/InferRequestFuzzTestInputs/readRequest/} (every build);
 * {@code .ci/fuzz} runs it in fuzzing mode for a bounded time (docs/security.md).
 */
class InferRequestFuzzTest {
    /**
     * One served model for the seeds: the agent's linear test model, input "X" FP32 [-1, 4], output "Y" [-1, 3]. Made on
     * first use, not in the class initializer, so the fuzzing process never loads ONNX Runtime.
     */
    private static InferenceService service;

    static synchronized InferenceService service() {
        if (service == null) {
            service = serveLinear();
        }
        return service;
    }

    static InferenceService serveLinear() {
        try {
            Path dir = Files.createTempDirectory("edgefleet-infer-fuzz-");
            Path model = dir.resolve("linear.onnx");
            Files.write(model, TinyOnnx.linear());
            ServedModels models = new ServedModels();
            models.add(new ServedModel()).swap(new OrtModelRunner(1, null).load(model),
                    new ModelRef("linear", 1, "%064x".formatted(1)), null);
            model.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return new InferenceService(models, new ServingFixtures.Counting(), 1.0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot serve the fuzz target's model", e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void readRequest(byte[] body) {
        InferRequest request;
        try {
            request = KServeJson.readRequest(body);
        } catch (ServingException e) {
            if (e.error().httpStatus() >= 500 || e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("refused with " + e.error() + " and reason '" + e.getMessage() + "'", e);
            }
            return;
        }
        if (request == null) {
            throw new AssertionError("readRequest returned null instead of refusing");
        }
        for (InferInput in : request.inputs()) {
            if (!in.datatype().elementType().arrayClass().isInstance(in.data())) {
                throw new AssertionError("a malformed tensor was accepted: " + in);
            }
        }
    }

    /** The seeds are what they say: {@code ok-*} answered by the model, {@code refused-*} a 400 with a reason. */
    @Test
    void seedsAreValidRequestsAndNamedRefusals() throws Exception {
        Path seeds = Path.of(InferRequestFuzzTest.class.getResource("InferRequestFuzzTestInputs/readRequest").toURI());
        List<Path> files;
        try (Stream<Path> all = Files.list(seeds)) {
            files = all.sorted().toList();
        }
        assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().startsWith("ok-")), files.toString());
        for (Path f : files) {
            String name = f.getFileName().toString();
            byte[] body = Files.readAllBytes(f);
            if (name.startsWith("ok-")) {
                InferResponse r = service().infer("linear", KServeJson.readRequest(body));
                assertEquals(3, r.output("Y").shape()[1], name);
            } else if (name.startsWith("refused-")) {
                ServingException e = assertThrows(ServingException.class, () -> service().infer("linear", KServeJson.readRequest(body)), name);
                assertEquals(ServingError.BAD_REQUEST, e.error(), name + ": " + e.getMessage());
            }
        }
    }
}
