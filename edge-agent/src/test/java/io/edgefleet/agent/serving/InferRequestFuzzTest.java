package io.edgefleet.agent.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
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
 * <p>This class never loads ONNX Runtime: in a JVM where Jazzer's agent is installed its native library crashed the
 * JVM (SIGSEGV, exit 139) as soon as it loaded. Requests against a real model are {@code InferenceServiceTest}'s.
 *
 * <p>Without {@code JAZZER_FUZZ} the fuzz test runs as a regression test over the checked-in seeds in
 * {@code src/test/resources/io/edgefleet/agent/serving/InferRequestFuzzTestInputs/readRequest/} (every build);
 * {@code .ci/fuzz} runs it in fuzzing mode for a bounded time (docs/security.md).
 */
class InferRequestFuzzTest {
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

    /** The seeds are what their names say: {@code ok-*} and {@code refused-*} parse (the model refuses the latter). */
    @Test
    void seedsAreRequestsThatParse() throws Exception {
        Path seeds = Path.of(InferRequestFuzzTest.class.getResource("InferRequestFuzzTestInputs/readRequest").toURI());
        List<Path> files;
        try (Stream<Path> all = Files.list(seeds)) {
            files = all.sorted().toList();
        }
        assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().startsWith("ok-")), files.toString());
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.startsWith("ok-") || name.startsWith("refused-")) {
                InferRequest r = KServeJson.readRequest(Files.readAllBytes(f));
                assertEquals("X", r.inputs().get(0).name(), name);
            } else {
                assertTrue(name.startsWith("crash-"), "a seed named ok-, refused- or crash-: " + name);
                ServingException e = assertThrows(ServingException.class, () -> KServeJson.readRequest(Files.readAllBytes(f)));
                assertEquals(ServingError.BAD_REQUEST, e.error(), name);
            }
        }
    }
}
