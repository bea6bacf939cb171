package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxFormatException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    static final Path FIXTURES = io.edgefleet.engine.TestFixtures.digits();

    private static UnknownFieldSet unknown(int field, String payload) {
        return UnknownFieldSet.newBuilder()
                .addField(field, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8(payload)).build())
                .build();
    }

    /** The If sample plus everything a careless reader drops: metadata, functions, unknown fields at three levels. */
    static ModelProto richModel() {
        ModelProto.Builder b = SampleModels.ifModel(3).proto().toBuilder();
        b.setDocString("model with control flow").setModelVersion(7).setDomain("io.edgefleet.test");
        b.addMetadataProps(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey("author").setValue("tests"));
        b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("io.edgefleet.fn").setVersion(1));
        b.addFunctions(FunctionProto.newBuilder().setName("DoubleRelu").setDomain("io.edgefleet.fn")
                .addInput("a").addOutput("b")
                .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("a").addOutput("r"))
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("r").addInput("r").addOutput("b"))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)));
        b.setUnknownFields(unknown(1000, "a field from a future ONNX"));
        GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals("If")) {
                NodeProto.Builder ifNode = g.getNode(i).toBuilder();
                GraphProto.Builder then = ifNode.getAttributeBuilder(0).getGBuilder();
                then.setNode(0, then.getNode(0).toBuilder().setUnknownFields(unknown(77, "inside a subgraph")));
                g.setNode(i, ifNode);
            }
        }
        g.setUnknownFields(unknown(500, "graph-level extension"));
        return b.build();
    }

    @Test
    void writeAfterReadIsByteForByteIdentical() {
        byte[] original = richModel().toByteArray();
        OnnxModel m = OnnxModel.read(original);
        assertArrayEquals(original, m.toBytes());
        assertEquals(OnnxModel.sha256Hex(original), m.sha256());
        assertEquals("tests", m.metadata().get("author"));
        assertEquals(1, m.proto().getFunctionsCount());
        assertTrue(m.proto().getUnknownFields().hasField(1000));
        // An edit session that changes nothing keeps everything too.
        assertArrayEquals(original, m.edit().toModel().toBytes());
    }

    @Test
    void theRichModelStillLoadsAndRuns() {
        OnnxModel m = OnnxModel.read(richModel().toByteArray());
        try (OrtRunner r = OrtRunner.open(m)) {
            Map<String, TensorData> out = r.run(Map.of("x",
                    TensorData.ofFloats("x", new long[] {1, 4}, new float[] {1, 2, 3, 4})));
            assertArrayEquals(new long[] {1, 8}, out.get("y").shape());
        }
    }

    @Test
    void sampleModelsRoundTripAndLoadInOnnxRuntime(@TempDir Path dir) {
        for (OnnxModel m : List.of(SampleModels.mlp(1), SampleModels.cnn(1), SampleModels.matMulAdd(1),
                SampleModels.ifModel(1))) {
            Path file = dir.resolve(m.graphName() + ".onnx");
            m.write(file);
            OnnxModel back = OnnxModel.read(file);
            assertArrayEquals(m.toBytes(), back.toBytes(), m.graphName());
            try (OrtRunner r = OrtRunner.open(back)) {
                assertEquals(m.outputs().get(0).name(), r.outputNames().get(0));
            }
        }
    }

    @Test
    void fixtureModelsRoundTripByteForByte() throws Exception {
        for (String name : List.of("digits-mlp.onnx", "digits-resnet.onnx")) {
            Path file = FIXTURES.resolve(name);
            assumeTrue(Files.exists(file), "fixture " + file + " not present");
            byte[] original = Files.readAllBytes(file);
            assertArrayEquals(original, OnnxModel.read(original).toBytes(), name);
        }
    }

    @Test
    void accessors() {
        OnnxModel m = SampleModels.cnn(1);
        assertEquals(17, m.opsetVersion());
        assertEquals(8, m.irVersion());
        assertEquals(List.of("x"), m.inputs().stream().map(ValueInfo::name).toList());
        assertEquals("float32[N,1,8,8]", m.inputs().get(0).describe());
        assertEquals(Map.of("", 17), m.opsetImports());
        assertEquals(2, m.opHistogram().get("Conv"));
        assertEquals(1, SampleModels.ifModel(1).opHistogram().get("Sigmoid")); // counted inside the else branch
        OnnxModel tagged = m.withMetadata("edgefleet.recipe", "identity");
        assertEquals("identity", tagged.metadata().get("edgefleet.recipe"));
        assertEquals("identity", tagged.withMetadata("edgefleet.recipe", "x").withMetadata("edgefleet.recipe",
                "identity").metadata().get("edgefleet.recipe"));
    }

    @Test
    void initializersListedAsInputsAreNotCallerInputs() {
        ModelProto.Builder b = SampleModels.mlp(1).proto().toBuilder();
        b.getGraphBuilder().addInput(ValueInfo.of("fc1.weight", ElemType.FLOAT, 32, 64).toProto());
        OnnxModel m = OnnxModel.of(b.build());
        assertEquals(List.of("x"), m.inputs().stream().map(ValueInfo::name).toList());
    }

    // ------------------------------------------------------------ bad input

    private static OnnxFormatException refuse(byte[] bytes) {
        return assertThrows(OnnxFormatException.class, () -> OnnxModel.read(bytes));
    }

    @Test
    void textIsNotAModel() {
        OnnxFormatException e = refuse("name,value\nalpha,1\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(Reason.NOT_PROTOBUF, e.reason());
        assertTrue(e.getMessage().contains("not an ONNX model"), e.getMessage());
    }

    @Test
    void aZipIsNotAModel() {
        byte[] zip = {0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, (byte) 0xFF, (byte) 0xFF};
        assertEquals(Reason.NOT_PROTOBUF, refuse(zip).reason());
    }

    @Test
    void truncatedFilesSayTruncated() {
        byte[] full = SampleModels.mlp(1).toBytes();
        for (int cut : new int[] {full.length / 2, full.length - 3, 40}) {
            OnnxFormatException e = refuse(Arrays.copyOf(full, cut));
            assertEquals(Reason.TRUNCATED, e.reason(), "cut at " + cut + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        assertEquals(Reason.TRUNCATED, refuse(new byte[0]).reason());
    }

    @Test
    void aModelWithoutGraphIsRefused() {
        ModelProto noGraph = SampleModels.mlp(1).proto().toBuilder().clearGraph().build();
        OnnxFormatException e = refuse(noGraph.toByteArray());
        assertEquals(Reason.NO_GRAPH, e.reason());
        ModelProto noOutputs = SampleModels.mlp(1).proto().toBuilder()
                .setGraph(SampleModels.mlp(1).proto().getGraph().toBuilder().clearOutput()).build();
        assertEquals(Reason.NO_GRAPH, refuse(noOutputs.toByteArray()).reason());
    }

    @Test
    void opsetsOutsideTheRuntimeRangeAreRefused() {
        for (int opset : new int[] {5, OnnxModel.MAX_OPSET + 1}) {
            byte[] bytes = OnnxBuilder.model("r").opset(opset).irVersion(8)
                    .input("x", ElemType.FLOAT, 2).output("y", ElemType.FLOAT, 2)
                    .node("Relu").in("x").out("y").add().buildProto().toByteArray();
            OnnxFormatException e = refuse(bytes);
            assertEquals(Reason.UNSUPPORTED_OPSET, e.reason());
            assertTrue(e.getMessage().contains("opset " + opset) && e.getMessage().contains("7.."), e.getMessage());
        }
        ModelProto noImports = SampleModels.mlp(1).proto().toBuilder().clearOpsetImport().build();
        assertEquals(Reason.UNSUPPORTED_OPSET, refuse(noImports.toByteArray()).reason());
        ModelProto futureIr = SampleModels.mlp(1).proto().toBuilder().setIrVersion(99).build();
        assertEquals(Reason.UNSUPPORTED_OPSET, refuse(futureIr.toByteArray()).reason());
    }

    @Test
    void theSupportedRangeEndsLoadInOnnxRuntime() {
        for (int opset : new int[] {OnnxModel.MIN_OPSET, OnnxModel.MAX_OPSET}) {
            OnnxModel m = OnnxBuilder.model("r").opset(opset).irVersion(Math.min(OnnxModel.MAX_IR_VERSION, 10))
                    .input("x", ElemType.FLOAT, 2).output("y", ElemType.FLOAT, 2)
                    .node("Relu").in("x").out("y").add().build();
            try (OrtRunner r = OrtRunner.open(OnnxModel.read(m.toBytes()))) {
                assertEquals(List.of("y"), r.outputNames());
            }
        }
    }

    @Test
    void externalDataIsRefusedAnywhere() {
        TensorProto external = TensorProto.newBuilder().setName("fc1.weight").setDataType(1).addDims(32).addDims(64)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey("location")
                        .setValue("weights.bin"))
                .build();
        ModelProto.Builder b = SampleModels.mlp(1).proto().toBuilder();
        b.getGraphBuilder().setInitializer(0, external);
        OnnxFormatException e = refuse(b.build().toByteArray());
        assertEquals(Reason.EXTERNAL_DATA, e.reason());
        assertTrue(e.getMessage().contains("fc1.weight") && e.getMessage().contains("inline"), e.getMessage());

        // Inside an If branch, as a subgraph initializer.
        ModelProto.Builder withIf = SampleModels.ifModel(1).proto().toBuilder();
        GraphProto.Builder g = withIf.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals("If")) {
                NodeProto.Builder n = g.getNode(i).toBuilder();
                n.getAttributeBuilder(0).getGBuilder().setInitializer(0,
                        external.toBuilder().setName("then.two").clearDims());
                g.setNode(i, n);
            }
        }
        OnnxFormatException e2 = refuse(withIf.build().toByteArray());
        assertEquals(Reason.EXTERNAL_DATA, e2.reason());
        assertTrue(e2.getMessage().contains("then.two"), e2.getMessage());
    }

    @Test
    void missingFilesAreBadInputNotCrashes(@TempDir Path dir) {
        BadInputException e = assertThrows(BadInputException.class, () -> OnnxModel.read(dir.resolve("nope.onnx")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void writeReplacesAtomically(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.onnx");
        SampleModels.mlp(1).write(file);
        SampleModels.cnn(1).write(file);
        assertEquals("cnn", OnnxModel.read(file).graphName());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList()); // no temp file left behind
        }
        assertFalse(Files.exists(dir.resolve("m.onnx.tmp")));
    }
}
