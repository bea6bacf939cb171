package io.edgefleet.agent.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protocol's JSON: what clients send (flat or nested, any field order) and every malformed body. */
class KServeJsonTest {

    static InferRequest read(String json) throws ServingException {
        return KServeJson.readRequest(json.getBytes(StandardCharsets.UTF_8));
    }

    static String refusal(String json) {
        ServingException e = assertThrows(ServingException.class, () -> read(json));
        assertEquals(ServingError.BAD_REQUEST, e.error(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsAFlatRequestWithIdOutputsAndParameters() throws Exception {
        InferRequest r = read("""
                {"id": "42", "parameters": {"priority": 1},
                 "inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1, 2.5, -3e-2, 4],
                             "parameters": {"content_type": "np"}}],
                 "outputs": [{"name": "Y"}]}""");
        assertEquals("42", r.id());
        assertEquals(List.of("Y"), r.outputs());
        InferInput x = r.inputs().get(0);
        assertEquals("X", x.name());
        assertEquals(Datatype.FP32, x.datatype());
        assertArrayEquals(new long[] {1, 4}, x.shape());
        assertArrayEquals(new float[] {1f, 2.5f, -0.03f, 4f}, (float[]) x.data());
    }

    @Test
    void nestedDataIsFlattenedRowMajorAndFieldOrderDoesNotMatter() throws Exception {
        InferRequest r = read("""
                {"inputs": [{"data": [[1, 2, 3], [4, 5, 6]], "datatype": "INT64", "name": "ids", "shape": [2, 3]},
                            {"name": "m", "datatype": "BOOL", "shape": [3], "data": [true, false, 1]},
                            {"name": "u", "datatype": "UINT8", "shape": [2], "data": [0, 255]},
                            {"name": "s", "datatype": "FP64", "shape": [1], "data": 0.1}]}""");
        assertNull(r.id());
        assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6}, (long[]) r.inputs().get(0).data());
        assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) r.inputs().get(1).data());
        assertArrayEquals(new byte[] {0, (byte) 255}, (byte[]) r.inputs().get(2).data());
        assertArrayEquals(new double[] {0.1}, (double[]) r.inputs().get(3).data(), "a lone scalar is one value");
    }

    @Test
    void malformedBodiesAreRefusedWithTheReason() {
        assertTrue(refusal("{\"inputs\": [").startsWith("malformed JSON at line 1"));
        assertTrue(refusal("not json").startsWith("malformed JSON"));
        assertTrue(refusal("").contains("must be a JSON object"));
        assertTrue(refusal("[1, 2]").contains("must be a JSON object"));
        assertTrue(refusal("{}").contains("no inputs"));
        assertTrue(refusal("{\"inputs\": []}").contains("no inputs"));
        assertTrue(refusal("{\"inputs\": {}}").contains("'inputs' must be an array"));
        assertTrue(refusal("{\"inputs\": [1]}").contains("inputs[0] must be an object"));
        assertTrue(refusal("{\"id\": 5, \"inputs\": []}").contains("'id' must be a string"));
        assertTrue(refusal("{\"inputs\": [{\"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}").contains("inputs[0] has no name"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"data\": [1]}]}").contains("input 'X' has no datatype"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"data\": [1]}]}").contains("input 'X' has no shape"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\"}]}").contains("input 'X' has no data"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [-1], \"datatype\": \"FP32\", \"data\": [1]}]}")
                .contains("shape must be an array of non-negative integers"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1.5], \"datatype\": \"FP32\", \"data\": [1]}]}")
                .contains("shape must be an array of non-negative integers"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP16\", \"data\": [1]}]}")
                .contains("datatype 'FP16', which this API does not accept (supported: [BOOL, UINT8"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}]}")
                .contains("datatype 'BYTES'"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [2], \"datatype\": \"FP32\", \"data\": [1, \"2\"]}]}")
                .contains("input 'X' (FP32): value 1 is '2', not a number"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [2], \"datatype\": \"FP32\", \"data\": [1, null]}]}")
                .contains("not a number"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"INT64\", \"data\": [1.5]}]}")
                .contains("value 0 is '1.5', not an integer"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"INT64\", \"data\": [9223372036854775808]}]}")
                .contains("out of range for INT64"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"INT8\", \"data\": [128]}]}")
                .contains("out of range for INT8"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"UINT8\", \"data\": [-1]}]}")
                .contains("out of range for UINT8"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"INT32\", \"data\": [2147483648]}]}")
                .contains("out of range for INT32"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"BOOL\", \"data\": [2]}]}")
                .contains("not a boolean"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [{}]}]}")
                .contains("is an object, not a number"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [4], \"datatype\": \"FP32\", \"data\": [],"
                + " \"parameters\": {\"binary_data_size\": 16}}]}").contains("binary tensor data is not supported"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}],"
                + " \"outputs\": [{\"name\": \"Y\", \"parameters\": {\"binary_data\": true}}]}").contains("binary output data"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}],"
                + " \"outputs\": [{}]}").contains("an entry of 'outputs' has no name"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]} {}")
                .contains("unexpected content after the request object"));
        assertTrue(refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}],"
                + " \"inputs\": []}").contains("Duplicate field 'inputs'"));
    }

    @Test
    void deeplyNestedDataIsRefusedBeforeItCanExhaustTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        String msg = refusal("{\"inputs\": [{\"name\": \"X\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": " + deep + "}]}");
        assertTrue(msg.startsWith("malformed JSON") && msg.contains("nesting depth"), msg);
    }

    @Test
    void writesResponsesMetadataAndErrorsAsTheProtocolSpellsThem() {
        byte[] r = KServeJson.response(new InferResponse("digits", "3", "a\"b", List.of(
                new InferOutput("Y", new long[] {1, 2}, Datatype.FP32, new float[] {0.25f, -1f}),
                new InferOutput("U", new long[] {1}, Datatype.UINT8, new byte[] {(byte) 200}),
                new InferOutput("B", new long[] {1}, Datatype.BOOL, new boolean[] {true}))));
        assertEquals("{\"model_name\":\"digits\",\"model_version\":\"3\",\"id\":\"a\\\"b\",\"outputs\":["
                + "{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[0.25,-1.0]},"
                + "{\"name\":\"U\",\"datatype\":\"UINT8\",\"shape\":[1],\"data\":[200]},"
                + "{\"name\":\"B\",\"datatype\":\"BOOL\",\"shape\":[1],\"data\":[true]}]}",
                new String(r, StandardCharsets.UTF_8));
        byte[] m = KServeJson.metadata(new ModelMetadata("digits", List.of("3"), ModelMetadata.PLATFORM,
                List.of(new ModelMetadata.TensorMetadata("X", "FP32", new long[] {-1, 64})),
                List.of(new ModelMetadata.TensorMetadata("Y", "FP32", new long[] {-1, 10}))));
        assertEquals("{\"name\":\"digits\",\"versions\":[\"3\"],\"platform\":\"onnxruntime_onnx\","
                + "\"inputs\":[{\"name\":\"X\",\"datatype\":\"FP32\",\"shape\":[-1,64]}],"
                + "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]}", new String(m, StandardCharsets.UTF_8));
        assertEquals("{\"error\":\"no \\\"model\\\"\"}", new String(KServeJson.error("no \"model\""), StandardCharsets.UTF_8));
    }

    /** Found by InferRequestFuzzTest (seed crash-9070abc4…): bytes Jackson takes for UTF-32 were an I/O error, a 500. */
    @Test
    void bytesThatAreNotTextAreMalformedJsonNotAServerError() {
        byte[] body = java.util.Base64.getDecoder().decode("OQAAAHB1dAAAAAAAAAAAAAAAAAAAAAAAAHMiOlt7Im5hbWUiOiJYIiwic2hhcGUiOlsx"
                + "LDVdLCJkYXRhdHlwZSI6IkZQMzIiLCJkYXRhIjpbMSwyLDMsNF19XX0=");
        ServingException e = assertThrows(ServingException.class, () -> KServeJson.readRequest(body));
        assertEquals(ServingError.BAD_REQUEST, e.error());
        assertTrue(e.getMessage().startsWith("malformed JSON"), e.getMessage());
    }
}
