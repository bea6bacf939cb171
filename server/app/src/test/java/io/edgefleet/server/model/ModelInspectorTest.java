package io.edgefleet.server.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.edgefleet.server.demo.DemoModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelInspectorTest {
    @TempDir
    Path dir;

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "model", ".onnx");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void describesAValidModel() throws Exception {
        ModelInspector.Inspection i = ModelInspector.inspect(write(DemoModels.classifier()));
        assertEquals(8, i.irVersion());
        assertEquals(13, i.opset());
        assertEquals("edgefleet-demo 1", i.producer());
        assertEquals(List.of(new ModelInspector.TensorInfo("input", "float", Arrays.asList("N", 64L))), i.inputs(),
                "initializers are not reported as inputs");
        assertEquals(List.of(new ModelInspector.TensorInfo("probabilities", "float", Arrays.asList("N", 10L))), i.outputs());
    }

    @Test
    void rejectsBytesThatAreNotOnnx() throws Exception {
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        ModelInspector.InvalidModelException e = assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(noise)));
        assertTrue(e.getMessage().startsWith("not an ONNX model"), e.getMessage());

        e = assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write("hello, this is plain text and no model at all".getBytes())));
        assertTrue(e.getMessage().startsWith("not an ONNX model"), e.getMessage());
    }

    @Test
    void rejectsATruncatedModel() throws Exception {
        byte[] good = DemoModels.classifier();
        byte[] cut = Arrays.copyOf(good, good.length / 2);
        ModelInspector.InvalidModelException e = assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(cut)));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());
    }

    @Test
    void rejectsAGraphWithoutNodes() throws Exception {
        ModelProto m = ModelProto.parseFrom(DemoModels.classifier());
        byte[] empty = m.toBuilder().setGraph(m.getGraph().toBuilder().clearNode()).build().toByteArray();
        assertEquals("the model's graph has no nodes", assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(empty))).getMessage());
        byte[] noGraph = m.toBuilder().clearGraph().build().toByteArray();
        assertEquals("not an ONNX model: it has no graph", assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(noGraph))).getMessage());
    }

    @Test
    void rejectsWhatOnnxRuntimeCannotLoad() throws Exception {
        ModelProto m = ModelProto.parseFrom(DemoModels.classifier());
        NodeProto bogus = m.getGraph().getNode(1).toBuilder().setOpType("NoSuchOperator").build();
        byte[] bad = m.toBuilder().setGraph(m.getGraph().toBuilder().setNode(1, bogus)).build().toByteArray();
        ModelInspector.InvalidModelException e = assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(bad)));
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot load the model"), e.getMessage());
    }

    @Test
    void rejectsExternalTensorData() throws Exception {
        ModelProto m = ModelProto.parseFrom(DemoModels.classifier());
        TensorProto external = m.getGraph().getInitializer(0).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("../../etc/passwd"))
                .build();
        byte[] bad = m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, external)).build().toByteArray();
        ModelInspector.InvalidModelException e = assertThrows(ModelInspector.InvalidModelException.class,
                () -> ModelInspector.inspect(write(bad)));
        assertTrue(e.getMessage().contains("external file"), e.getMessage());
    }

    @Test
    void reportsUnknownDimensionsAsNull() throws Exception {
        ModelProto m = ModelProto.parseFrom(DemoModels.classifier());
        var out = m.getGraph().getOutput(0).toBuilder();
        out.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimParam();
        byte[] changed = m.toBuilder().setGraph(m.getGraph().toBuilder().setOutput(0, out)).build().toByteArray();
        ModelInspector.Inspection i = ModelInspector.inspect(write(changed));
        assertNull(i.outputs().get(0).shape().get(0));
        assertEquals(10L, i.outputs().get(0).shape().get(1));
    }
}
