package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.eval.OrtRunner;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GraphTest {

    private static Map<String, TensorData> ifInput(float sign) {
        float[] x = {0.5f * sign, 1f * sign, -0.25f * sign, 2f * sign, 1f, -1f, 0.5f, 0.5f};
        return Map.of("x", TensorData.ofFloats("x", new long[] {2, 4}, x));
    }

    private static float[] run(OnnxModel m, Map<String, TensorData> feeds) {
        try (OrtRunner r = OrtRunner.open(m)) {
            return r.run(feeds).values().iterator().next().floats();
        }
    }

    private static List<String> names(List<NodeProto> nodes) {
        return nodes.stream().map(Graph::label).toList();
    }

    @Test
    void producersAndConsumers() {
        Graph g = SampleModels.cnn(1).edit();
        assertEquals("conv1", g.producer("conv1.out").map(Graph::label).orElseThrow());
        assertTrue(g.producer("x").isEmpty());
        assertTrue(g.producer("conv1.weight").isEmpty());
        // relu1.out feeds conv2 and the residual Add.
        assertEquals(List.of("conv2", "residual"), names(g.consumers("relu1.out")));
        assertEquals(List.of("conv1"), names(g.consumers("conv1.weight")));
        assertEquals(List.of(), g.consumers("logits"));
    }

    @Test
    void ifNodesConsumeWhatTheirBranchesReadFromOuterScope() {
        Graph g = SampleModels.ifModel(1).edit();
        // h is read only inside the branches, yet the If node counts as its consumer.
        assertEquals(List.of("branch"), names(g.consumers("h")));
        NodeProto ifNode = g.nodeByName("branch").orElseThrow();
        assertEquals(List.of("cond", "h"), List.copyOf(Graph.dependencies(ifNode)));
        assertEquals(List.of("then_branch", "else_branch"), Graph.subgraphAttributes(ifNode));
    }

    @Test
    void topologicalOrderRestoresShuffledNodes() {
        OnnxModel m = SampleModels.cnn(2);
        Graph g = m.edit();
        List<NodeProto> shuffled = new ArrayList<>(g.nodes());
        Collections.shuffle(shuffled, new Random(5));
        for (NodeProto n : g.nodes()) {
            g.removeNode(n);
        }
        shuffled.forEach(g::addNode);
        List<NodeProto> order = g.topologicalOrder();
        List<String> seen = new ArrayList<>(List.of("x"));
        seen.addAll(g.initializerNames());
        for (NodeProto n : order) {
            for (String in : n.getInputList()) {
                assertTrue(seen.contains(in), Graph.label(n) + " runs before " + in + " exists");
            }
            seen.addAll(n.getOutputList());
        }
        // And the model written from the shuffled view is sorted and equivalent to the original.
        OnnxModel rebuilt = g.toModel();
        assertEquals(names(m.edit().nodes()), names(rebuilt.edit().nodes()));
        Map<String, TensorData> feeds = Map.of("x", TensorData.ofFloats("x", new long[] {1, 1, 8, 8},
                OnnxBuilder.randomUniform(3, 64, -1, 1)));
        assertArrayEquals(run(m, feeds), run(rebuilt, feeds));
    }

    @Test
    void stableOrderForAnAlreadySortedGraph() {
        Graph g = SampleModels.ifModel(1).edit();
        assertEquals(names(g.nodes()), names(g.topologicalOrder()));
    }

    @Test
    void cyclesAreReported() {
        Graph g = SampleModels.matMulAdd(1).edit();
        NodeProto add1 = g.nodeByName("add1").orElseThrow();
        g.setInput(add1, 1, "y"); // y depends on add1 through relu/matmul2/add2
        IllegalStateException e = assertThrows(IllegalStateException.class, g::topologicalOrder);
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    }

    @Test
    void deadNodesAndUnusedInitializersGoButBranchInputsStay() {
        OnnxModel m = SampleModels.ifModel(4);
        Graph g = m.edit();
        g.setInitializer(TensorData.ofFloats("orphan.weight", new long[] {2}, new float[] {1, 2}));
        g.addNode(NodeProto.newBuilder().setName("dangling").setOpType("Neg").addInput("h").addOutput("unused")
                .build());
        g.addNode(NodeProto.newBuilder().setName("dangling2").setOpType("Abs").addInput("unused")
                .addOutput("unused2").build());
        assertEquals(List.of("branch", "dangling"), names(g.consumers("h")));
        assertEquals(3, g.removeDeadNodes()); // two nodes, one initializer
        assertFalse(g.isInitializer("orphan.weight"));
        assertTrue(g.producer("h").isPresent(), "MatMul feeding only the If branches must survive");
        assertTrue(g.isInitializer("w"));
        OnnxModel cleaned = g.toModel();
        assertArrayEquals(m.toBytes(), cleaned.toBytes());
        for (float sign : new float[] {1, -1}) {
            assertArrayEquals(run(m, ifInput(sign)), run(cleaned, ifInput(sign)));
        }
    }

    @Test
    void initializersReadWriteAndRemove() {
        Graph g = SampleModels.mlp(1).edit();
        TensorData w = g.initializer("fc2.bias");
        assertArrayEquals(new long[] {10}, w.shape());
        float[] zeros = new float[10];
        g.setInitializer(TensorData.ofFloats("fc2.bias", new long[] {10}, zeros));
        assertArrayEquals(zeros, g.initializer("fc2.bias").floats());
        assertEquals(4, g.initializerNames().size(), "replaced in place, not appended");
        assertThrows(java.util.NoSuchElementException.class, () -> g.initializer("nope"));
        assertEquals(ElemType.FLOAT, g.elemType("fc1.weight"));
        assertArrayEquals(new long[] {32, 64}, g.valueInfo("fc1.weight").orElseThrow().staticDims());
        assertEquals("float32[N,64]", g.valueInfo("x").orElseThrow().describe());
        assertTrue(g.valueInfo("fc1.out").isEmpty(), "no shape inference results in the builder model");
    }

    @Test
    void constantValueReadsInitializersAndConstantNodes() {
        OnnxModel m = OnnxBuilder.model("c").input("x", ElemType.FLOAT, 2).output("y", ElemType.FLOAT, 2)
                .node("Constant").in().out("k").attr("value",
                        TensorData.ofFloats("", new long[] {2}, new float[] {3, 4})).add()
                .node("Mul").in("x", "k").out("y").add().build();
        Graph g = m.edit();
        assertArrayEquals(new float[] {3, 4}, g.constantValue("k").orElseThrow().floats());
        assertTrue(g.constantValue("x").isEmpty());
    }

    @Test
    void uniqueNamesAvoidEveryScope() {
        Graph g = SampleModels.ifModel(1).edit();
        assertEquals("fresh", g.uniqueName("fresh"));
        assertEquals("fresh_1", g.uniqueName("fresh"));
        assertEquals("h_1", g.uniqueName("h"));
        assertEquals("then.two_1", g.uniqueName("then.two")); // a name that exists only inside a branch
        assertEquals("then.relu_1", g.uniqueName("then.relu"));
    }

    @Test
    void replaceAllUsesRedirectsNodesAndBranchesWithoutCycles() {
        OnnxModel m = SampleModels.ifModel(2);
        Graph g = m.edit();
        // Insert h -> Mul(3) -> h_scaled and make every reader of h (the If branches) use it.
        String scaled = g.uniqueName("h_scaled");
        g.setInitializer(TensorData.scalar("three", 3f));
        NodeProto mul = NodeProto.newBuilder().setName("scale").setOpType("Mul").addInput("h").addInput("three")
                .addOutput(scaled).build();
        g.insertAfter(g.producer("h").orElseThrow(), mul);
        assertEquals(1, g.replaceAllUses("h", scaled));
        assertEquals(List.of("scale"), names(g.consumers("h")));
        assertEquals(List.of("branch"), names(g.consumers(scaled)));
        OnnxModel edited = g.toModel();
        // then-branch: 2 * relu(3h) = 3 * (2 * relu(h)) -> y - bias scales by 3.
        float[] before = run(m, ifInput(1));
        float[] after = run(edited, ifInput(1));
        float[] bias = m.edit().initializer("bias").floats();
        for (int i = 0; i < before.length; i++) {
            assertEquals(3 * (before[i] - bias[i % 8]), after[i] - bias[i % 8], 1e-4, "element " + i);
        }
    }

    @Test
    void editingABranchBody() {
        OnnxModel m = SampleModels.ifModel(2);
        Graph g = m.edit();
        NodeProto ifNode = g.nodeByName("branch").orElseThrow();
        Graph then = g.subgraph(ifNode, "then_branch");
        assertTrue(then.isSubgraph());
        assertEquals(17, then.opsetVersion());
        assertEquals(List.of("then.mul"), names(then.consumers("then.relu.out")));
        assertTrue(then.producer("h").isEmpty(), "h comes from the outer scope");
        then.setInitializer(TensorData.scalar("then.two", 4f)); // now 4 * relu(h)
        g.setSubgraph(ifNode, "then_branch", then);
        assertThrows(IllegalStateException.class, then::toModel);
        OnnxModel edited = g.toModel();
        float[] before = run(m, ifInput(1));
        float[] after = run(edited, ifInput(1));
        float[] bias = m.edit().initializer("bias").floats();
        for (int i = 0; i < before.length; i++) {
            assertEquals(2 * (before[i] - bias[i % 8]), after[i] - bias[i % 8], 1e-4);
        }
        // The else branch was not touched.
        assertArrayEquals(run(m, ifInput(-1)), run(edited, ifInput(-1)));
        assertNotEquals(m.sha256(), edited.sha256());
    }

    @Test
    void replaceNodeSplicesInPlace() {
        Graph g = SampleModels.matMulAdd(1).edit();
        NodeProto relu = g.nodeByName("relu1").orElseThrow();
        NodeProto clip = NodeProto.newBuilder().setName("clip").setOpType("LeakyRelu").addInput("a1").addOutput("r1")
                .build();
        g.replaceNode(relu, clip);
        assertEquals(List.of("matmul1", "add1", "clip", "matmul2", "add2"), names(g.nodes()));
        assertThrows(java.util.NoSuchElementException.class, () -> g.removeNode(relu));
        try (OrtRunner r = OrtRunner.open(g.toModel())) {
            assertEquals(List.of("y"), r.outputNames());
        }
    }

    @Test
    void requireOpsetAddsButNeverChangesImports() {
        Graph g = SampleModels.mlp(1).edit();
        g.requireOpset("com.microsoft", 1);
        assertEquals(1, g.opsetVersion("com.microsoft").orElseThrow());
        g.requireOpset("", 13);
        assertThrows(IllegalStateException.class, () -> g.requireOpset("", 21));
        assertEquals(Map.of("", 17, "com.microsoft", 1), g.toModel().opsetImports());
    }
}
