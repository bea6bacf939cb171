package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.eval.OrtRunner;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OnnxBuilderTest {

    @Test
    void attributesOfEveryKindAreEncoded() {
        OnnxModel m = OnnxBuilder.model("attrs").opset(17)
                .input("x", ElemType.FLOAT, "batch", 3)
                .output("y", ElemType.FLOAT, "batch", 3)
                .node("LeakyRelu").name("lrelu").in("x").out("y").attr("alpha", 0.25).add()
                .build();
        NodeProto n = m.proto().getGraph().getNode(0);
        assertEquals("lrelu", n.getName());
        assertEquals(AttributeProto.AttributeType.FLOAT, n.getAttribute(0).getType());
        assertEquals(0.25f, n.getAttribute(0).getF());
        assertEquals("float32[batch,3]", m.inputs().get(0).describe());
        try (OrtRunner r = OrtRunner.open(m)) {
            assertArrayEquals(new float[] {-0.5f, 0f, 3f}, r.runFloats(new float[] {-2, 0, 3}, 1, 3));
        }
        NodeProto all = OnnxBuilder.model("x").node("Custom").in("a", "").out("b").attr("i", 3).attr("s", "text")
                .ints("is", 1, 2).floats("fs", 0.5f).strings("ss", "u", "v")
                .attr("t", TensorData.ofInt64("", new long[] {1}, new long[] {9}))
                .attr("g", OnnxBuilder.subgraph("body").buildGraph()).toProto();
        assertEquals("Custom_1", all.getName());
        assertEquals(List.of("a", ""), all.getInputList());
        assertEquals(List.of("INT", "STRING", "INTS", "FLOATS", "STRINGS", "TENSOR", "GRAPH"),
                all.getAttributeList().stream().map(a -> a.getType().name()).toList());
        assertEquals("text", all.getAttribute(1).getS().toStringUtf8());
    }

    @Test
    void irVersionFollowsTheOpsetUnlessSet() {
        assertEquals(3, OnnxBuilder.irVersionFor(7));
        assertEquals(8, OnnxBuilder.irVersionFor(17));
        assertEquals(10, OnnxBuilder.irVersionFor(21));
        OnnxModel m = OnnxBuilder.model("v").opset(21).opset("com.microsoft", 1).producer("tests", "1")
                .input("x", ElemType.FLOAT, 1).output("y", ElemType.FLOAT, 1).node("Relu").in("x").out("y").add()
                .build();
        assertEquals(10, m.irVersion());
        assertEquals(Map.of("", 21, "com.microsoft", 1), m.opsetImports());
        assertEquals("tests", m.proto().getProducerName());
        assertEquals(9, OnnxBuilder.model("w").irVersion(9).input("x", ElemType.FLOAT, 1)
                .output("y", ElemType.FLOAT, 1).node("Relu").in("x").out("y").add().build().irVersion());
    }

    @Test
    void seededWeightsAreReproducible() {
        assertArrayEquals(OnnxBuilder.randomNormal(5, 10, 1f), OnnxBuilder.randomNormal(5, 10, 1f));
        assertNotEquals(OnnxBuilder.randomNormal(5, 10, 1f)[0], OnnxBuilder.randomNormal(6, 10, 1f)[0]);
        assertEquals(SampleModels.cnn(7).sha256(), SampleModels.cnn(7).sha256());
        for (float v : OnnxBuilder.randomUniform(1, 100, -1, 1)) {
            assertTrue(v >= -1 && v < 1);
        }
    }

    @Test
    void misuseIsCaught() {
        assertThrows(IllegalStateException.class, () -> OnnxBuilder.subgraph("b").buildProto());
        assertThrows(IllegalArgumentException.class, () -> OnnxBuilder.model("m").input("x", ElemType.FLOAT, 1.5f,
                new Object()));
        // A builder model without outputs fails the same checks as a file would.
        assertThrows(OnnxFormatException.class, () -> OnnxBuilder.model("m").input("x", ElemType.FLOAT, 1).build());
    }
}
