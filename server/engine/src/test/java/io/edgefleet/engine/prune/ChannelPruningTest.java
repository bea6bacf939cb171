package io.edgefleet.engine.prune;

import static io.edgefleet.engine.prune.PruneFixtures.assertClose;
import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Channel analysis and removal. The central check: a model pruned to some channels computes exactly what the
 * original computes once the consumer columns of the removed channels are zeroed (then those channels cannot
 * influence anything), so every slice of every producer, per-channel parameter, Concat segment, depthwise filter and
 * flattened feature block must line up.
 */
class ChannelPruningTest {

    private static ChannelGroup groupProducedBy(ChannelAnalysis a, String layer) {
        return a.groups().stream().filter(g -> g.producers().contains(layer)).findFirst()
                .orElseThrow(() -> new AssertionError("no group produced by " + layer + " in " + a.groups()));
    }

    /** The original model with the consumer columns of every removed channel set to zero. */
    static OnnxModel zeroRemovedInputs(ChannelAnalysis a, Map<Integer, int[]> keep) {
        Graph g = a.model().edit();
        Map<String, TensorData> changed = new HashMap<>();
        for (Map.Entry<Integer, int[]> e : keep.entrySet()) {
            int channels = a.group(e.getKey()).channels();
            Set<Integer> kept = new TreeSet<>();
            Arrays.stream(e.getValue()).forEach(kept::add);
            for (ChannelAnalysis.Consumer c : a.consumersOf(e.getKey())) {
                TensorData w = changed.computeIfAbsent(c.weight(), g::initializer);
                long[] shape = w.shape();
                ChannelAnalysis.Space in = a.spaces().get(c.input());
                int width = in.width();
                int dim = (int) shape[c.axis()];
                int groups = width / dim; // 1 unless the consumer is a grouped convolution
                int inner = 1;
                for (int i = c.axis() + 1; i < shape.length; i++) {
                    inner *= (int) shape[i];
                }
                int outer = w.elementCount() / (dim * inner);
                int rowsPerGroup = outer / groups;
                float[] v = w.floats().clone();
                for (int ch = 0; ch < channels; ch++) {
                    if (kept.contains(ch)) {
                        continue;
                    }
                    for (int j = 0; j < c.inner(); j++) {
                        int entry = c.offset() + ch * c.inner() + j;
                        int col = entry % dim;
                        int grp = entry / dim;
                        for (int o = 0; o < outer; o++) {
                            if (groups > 1 && o / rowsPerGroup != grp) {
                                continue;
                            }
                            for (int k = 0; k < inner; k++) {
                                v[(o * dim + col) * inner + k] = 0f;
                            }
                        }
                    }
                }
                changed.put(c.weight(), TensorData.ofFloats(w.name(), shape, v));
            }
        }
        changed.values().forEach(g::setInitializer);
        return g.toModel();
    }

    private static long[] dims(OnnxModel m, String init) {
        return m.edit().initializer(init).shape();
    }

    @Test
    void residualBatchNormDepthwiseConcatAndFlattenFormThreePrunableGroups() {
        ChannelAnalysis a = ChannelAnalysis.analyze(PruneFixtures.residualCnn(1));
        ChannelGroup res = groupProducedBy(a, "conv1");
        assertEquals(List.of("conv1", "conv2"), res.producers(), "the residual Add couples conv1 and conv2");
        assertEquals(Set.of("conv2", "conv3"), Set.copyOf(res.consumers()));
        assertTrue(res.values().containsAll(List.of("bn1.out", "res.out", "relu2.out")));
        ChannelGroup c3 = groupProducedBy(a, "conv3");
        assertTrue(c3.values().containsAll(List.of("dw.out", "cat.out")), "depthwise conv passes conv3's channels");
        assertEquals(List.of("conv4"), c3.consumers());
        ChannelGroup c4 = groupProducedBy(a, "conv4");
        assertEquals(List.of("fc"), c4.consumers(), "Flatten maps conv4's channels onto fc's columns");
        ChannelGroup fc = groupProducedBy(a, "fc");
        assertFalse(fc.prunable());
        assertTrue(fc.reasons().get(0).contains("graph output"), fc.reasons().toString());
        assertEquals(3, a.prunableGroups().size());
    }

    @Test
    void prunedModelMatchesOriginalWithRemovedChannelsZeroedAndHasSmallerShapes() {
        OnnxModel model = PruneFixtures.residualCnn(2);
        ChannelAnalysis a = ChannelAnalysis.analyze(model);
        int res = groupProducedBy(a, "conv1").id();
        int c3 = groupProducedBy(a, "conv3").id();
        int c4 = groupProducedBy(a, "conv4").id();
        Map<Integer, int[]> keep = new LinkedHashMap<>();
        keep.put(res, new int[] {0, 2, 3, 5, 8, 9, 11, 15});
        keep.put(c3, new int[] {1, 4, 5, 6, 10, 12, 13, 17, 20, 21, 22, 25, 28, 30, 31});
        keep.put(c4, new int[] {0, 1, 2, 7, 8, 9, 10, 11, 12, 19, 23});
        ChannelPruner.Result r = ChannelPruner.apply(a, keep);
        OnnxModel pruned = r.model();

        assertArrayEquals(new long[] {8, 3, 3, 3}, dims(pruned, "conv1.w"));
        assertArrayEquals(new long[] {8}, dims(pruned, "bn1.scale"));
        assertArrayEquals(new long[] {8, 8, 3, 3}, dims(pruned, "conv2.w"));
        assertArrayEquals(new long[] {15, 8, 3, 3}, dims(pruned, "conv3.w"));
        assertArrayEquals(new long[] {15, 1, 3, 3}, dims(pruned, "dw.w"));
        assertArrayEquals(new long[] {11, 30, 1, 1}, dims(pruned, "conv4.w"), "both Concat segments lose the same channels");
        assertArrayEquals(new long[] {10, 176}, dims(pruned, "fc.w"), "11 channels x 16 flattened positions");
        Graph g = pruned.edit();
        NodeProto dw = g.nodeByName("dw").orElseThrow();
        assertEquals(15, io.edgefleet.engine.recalib.LinearLayer.intAttr(dw, "group", 0));
        assertEquals(List.of(ValueInfo.Dim.symbolic("N"), ValueInfo.Dim.of(8), ValueInfo.Dim.of(8), ValueInfo.Dim.of(8)),
                g.valueInfo("relu1.out").orElseThrow().dims());
        assertEquals(30, g.valueInfo("cat.out").orElseThrow().dims().get(1).value());
        assertEquals(176, g.valueInfo("flat").orElseThrow().dims().get(1).value());
        assertTrue(pruned.sizeBytes() < model.sizeBytes());

        Dataset data = PruneFixtures.randomData(model, 6, 40);
        assertClose(outputs(zeroRemovedInputs(a, keep), data), outputs(pruned, data), 1e-4);
        assertTrue(ModelCost.of(pruned).macs() < ModelCost.of(model).macs());
        // The channel map says which original channels each changed value keeps.
        assertArrayEquals(keep.get(res), r.channelMap().get("res.out").orElseThrow().kept());
    }

    @Test
    void groupedConvolutionNeedsBalancedRemovalPerGroup() {
        OnnxModel model = PruneFixtures.groupedCnn(3);
        ChannelAnalysis a = ChannelAnalysis.analyze(model);
        ChannelGroup in = groupProducedBy(a, "c1");
        ChannelGroup out = groupProducedBy(a, "g");
        assertEquals(2, in.blocks());
        assertEquals(2, out.blocks());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelPruner.apply(a, Map.of(in.id(), new int[] {0, 1, 2, 4})));
        assertTrue(e.getMessage().contains("same number of channels"), e.getMessage());
        Map<Integer, int[]> keep = Map.of(in.id(), new int[] {1, 2, 4, 7}, out.id(), new int[] {0, 3, 5, 6});
        OnnxModel pruned = ChannelPruner.apply(a, keep).model();
        assertArrayEquals(new long[] {4, 2, 3, 3}, dims(pruned, "g.w"));
        Dataset data = PruneFixtures.randomData(model, 4, 5);
        assertClose(outputs(zeroRemovedInputs(a, keep), data), outputs(pruned, data), 1e-4);
    }

    @Test
    void valuesReadByAnIfBodyStayWholeWhileTheRestIsPrunedAndTheBranchesAreUntouched() {
        OnnxModel model = PruneFixtures.mlpWithIf(4);
        ChannelAnalysis a = ChannelAnalysis.analyze(model);
        ChannelGroup h = groupProducedBy(a, "fc2");
        assertFalse(h.prunable());
        assertTrue(h.reasons().stream().anyMatch(r -> r.contains("control-flow node branch")), h.reasons().toString());
        ChannelGroup first = groupProducedBy(a, "fc1");
        assertTrue(first.prunable());
        assertThrows(IllegalArgumentException.class, () -> ChannelPruner.apply(a, Map.of(h.id(), new int[] {0, 1})));

        Map<Integer, int[]> keep = Map.of(first.id(), new int[] {0, 3, 4, 7, 9, 12});
        OnnxModel pruned = ChannelPruner.apply(a, keep).model();
        assertArrayEquals(new long[] {6, 4}, dims(pruned, "w1"));
        assertArrayEquals(new long[] {8, 6}, dims(pruned, "w2"));
        NodeProto before = model.edit().nodeByName("branch").orElseThrow();
        NodeProto after = pruned.edit().nodeByName("branch").orElseThrow();
        assertEquals(before, after, "the If node and its bodies are unchanged");
        Dataset data = PruneFixtures.randomData(model, 5, 9);
        // Shift half the samples negative so both branches run.
        float[] x = data.input("x").floats().clone();
        for (int i = 0; i < 8; i++) {
            x[i] = -x[i] - 1;
        }
        Dataset both = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {5, 4}, x)), null, null);
        assertClose(outputs(zeroRemovedInputs(a, keep), both), outputs(pruned, both), 1e-5);
    }

    @Test
    void constantReshapeTargetIsRewrittenAndSplittingReshapeBlocks() {
        OnnxBuilder b = OnnxBuilder.model("reshape").opset(17)
                .input("x", ElemType.FLOAT, "N", 2, 4, 4)
                .output("y", ElemType.FLOAT, "N", 5)
                .heInitializer("c.w", new long[] {6, 2, 1, 1}, 2, 1)
                .heInitializer("fc.w", new long[] {96, 5}, 96, 2)
                .initializerInt64("shape", new long[] {2}, -1, 96)
                .node("Conv").name("c").in("x", "c.w").out("c.out").add()
                .node("Relu").name("r").in("c.out").out("r.out").add()
                .node("Reshape").name("flatten").in("r.out", "shape").out("flat").add()
                .node("MatMul").name("fc").in("flat", "fc.w").out("y").add();
        OnnxModel model = b.build();
        ChannelAnalysis a = ChannelAnalysis.analyze(model);
        ChannelGroup c = groupProducedBy(a, "c");
        assertTrue(c.prunable(), c.toString());
        Map<Integer, int[]> keep = Map.of(c.id(), new int[] {1, 2, 5});
        OnnxModel pruned = ChannelPruner.apply(a, keep).model();
        assertArrayEquals(new long[] {-1, 48}, pruned.edit().initializer("shape").longs());
        assertArrayEquals(new long[] {48, 5}, dims(pruned, "fc.w"));
        Dataset data = PruneFixtures.randomData(model, 3, 2);
        assertClose(outputs(zeroRemovedInputs(a, keep), data), outputs(pruned, data), 1e-5);

        OnnxModel split = OnnxBuilder.model("split").opset(17)
                .input("x", ElemType.FLOAT, "N", 2, 4, 4)
                .output("y", ElemType.FLOAT, "N", 2, 3, 16)
                .heInitializer("c.w", new long[] {6, 2, 1, 1}, 2, 1)
                .initializerInt64("shape", new long[] {4}, 0, 2, 3, 16)
                .node("Conv").name("c").in("x", "c.w").out("c.out").add()
                .node("Reshape").name("split").in("c.out", "shape").out("y").add()
                .build();
        ChannelGroup blocked = groupProducedBy(ChannelAnalysis.analyze(split), "c");
        assertFalse(blocked.prunable());
        assertTrue(blocked.reasons().stream().anyMatch(r -> r.contains("splits the channel axis")),
                blocked.reasons().toString());
    }

    @Test
    void unsafeCouplingsAreKeptWholeWithTheReason() {
        // Residual Add with the graph input: the input's features cannot be removed.
        OnnxModel anchored = OnnxBuilder.model("anchored").opset(17)
                .input("x", ElemType.FLOAT, "N", 8).output("y", ElemType.FLOAT, "N", 4)
                .heInitializer("w1", new long[] {8, 8}, 8, 1).heInitializer("w2", new long[] {4, 8}, 8, 2)
                .node("Gemm").name("fc1").in("x", "w1").out("h").attr("transB", 1).add()
                .node("Add").name("skip").in("h", "x").out("s").add()
                .node("Gemm").name("fc2").in("s", "w2").out("y").attr("transB", 1).add()
                .build();
        assertBlocked(anchored, "fc1", "a graph input");

        // An operator from another domain between two layers.
        var custom = OnnxBuilder.model("custom").opset(17).opset("com.example", 1)
                .input("x", ElemType.FLOAT, "N", 8).output("y", ElemType.FLOAT, "N", 4)
                .heInitializer("w1", new long[] {8, 8}, 8, 1).heInitializer("w2", new long[] {4, 8}, 8, 2)
                .node("Gemm").name("fc1").in("x", "w1").out("h").attr("transB", 1).add()
                .node("Foo").domain("com.example").name("foo").in("h").out("f").add()
                .node("Gemm").name("fc2").in("f", "w2").out("y").attr("transB", 1).add()
                .buildProto();
        ChannelGroup g = groupProducedBy(ChannelAnalysis.analyze(OnnxModel.of(custom),
                Map.of("x", new long[] {1, 8}, "h", new long[] {1, 8}, "f", new long[] {1, 8}, "y", new long[] {1, 4})),
                "fc1");
        assertFalse(g.prunable());
        assertTrue(g.reasons().get(0).contains("com.example:Foo"), g.reasons().toString());

        // Softmax over the channels: removing one changes every other.
        OnnxModel softmax = OnnxBuilder.model("softmax").opset(17)
                .input("x", ElemType.FLOAT, "N", 8).output("y", ElemType.FLOAT, "N", 4)
                .heInitializer("w1", new long[] {8, 8}, 8, 1).heInitializer("w2", new long[] {4, 8}, 8, 2)
                .node("Gemm").name("fc1").in("x", "w1").out("h").attr("transB", 1).add()
                .node("Softmax").name("sm").in("h").out("p").attr("axis", -1).add()
                .node("Gemm").name("fc2").in("p", "w2").out("y").attr("transB", 1).add()
                .build();
        assertBlocked(softmax, "fc1", "normalizes over the channel axis");

        // Two layers sharing one weight tensor.
        OnnxModel shared = OnnxBuilder.model("shared").opset(17)
                .input("x", ElemType.FLOAT, "N", 8).output("y", ElemType.FLOAT, "N", 8)
                .heInitializer("w", new long[] {8, 8}, 8, 1)
                .node("Gemm").name("fc1").in("x", "w").out("h").attr("transB", 1).add()
                .node("Relu").name("r").in("h").out("r.out").add()
                .node("Gemm").name("fc2").in("r.out", "w").out("y").attr("transB", 1).add()
                .build();
        assertBlocked(shared, "fc1", "shared by several nodes");

        // A Shape of the channels: the model computes with the channel count itself.
        OnnxModel shape = OnnxBuilder.model("shape").opset(17)
                .input("x", ElemType.FLOAT, "N", 8).output("y", ElemType.FLOAT, "N", 4)
                .output("s", ElemType.INT64, 2)
                .heInitializer("w1", new long[] {8, 8}, 8, 1).heInitializer("w2", new long[] {4, 8}, 8, 2)
                .node("Gemm").name("fc1").in("x", "w1").out("h").attr("transB", 1).add()
                .node("Shape").name("shape").in("h").out("s").add()
                .node("Gemm").name("fc2").in("h", "w2").out("y").attr("transB", 1).add()
                .build();
        assertBlocked(shape, "fc1", "Shape");
    }

    private static void assertBlocked(OnnxModel m, String layer, String reasonPart) {
        ChannelAnalysis a = ChannelAnalysis.analyze(m);
        ChannelGroup g = groupProducedBy(a, layer);
        assertFalse(g.prunable(), g.toString());
        assertTrue(g.reasons().stream().anyMatch(r -> r.contains(reasonPart)), g.reasons().toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelPruner.apply(a, Map.of(g.id(), new int[] {0, 1})));
        assertTrue(e.getMessage().contains(reasonPart), e.getMessage());
        // Pruning nothing writes the same model.
        assertEquals(m.edit().toModel().sha256(), ChannelPruner.apply(a, Map.of()).model().sha256());
    }

    @Test
    void badKeepSetsAreRefusedWithAReason() {
        ChannelAnalysis a = ChannelAnalysis.analyze(PruneFixtures.residualCnn(5));
        int id = groupProducedBy(a, "conv3").id();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChannelPruner.apply(a, Map.of(id, new int[0])))
                .getMessage().contains("at least one"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChannelPruner.apply(a, Map.of(id, new int[] {3, 1}))).getMessage().contains("sorted"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChannelPruner.apply(a, Map.of(id, new int[] {1, 32}))).getMessage().contains("out of range"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChannelPruner.apply(a, Map.of(999, new int[] {1}))).getMessage().contains("no channel group"));
    }

    @Test
    void matMulChainWithBiasAddIsPrunedThroughTheAdd() {
        OnnxModel model = io.edgefleet.engine.onnx.SampleModels.matMulAdd(6);
        ChannelAnalysis a = ChannelAnalysis.analyze(model);
        ChannelGroup g = groupProducedBy(a, "matmul1");
        assertTrue(g.prunable());
        Map<Integer, int[]> keep = Map.of(g.id(), ChannelImportance.top(
                ChannelImportance.score(a, ChannelImportance.Criterion.L2, null, 0).get(g.id()), 20, 1));
        OnnxModel pruned = ChannelPruner.apply(a, keep).model();
        assertArrayEquals(new long[] {16, 20}, dims(pruned, "w1"));
        assertArrayEquals(new long[] {20}, dims(pruned, "b1"));
        assertArrayEquals(new long[] {20, 4}, dims(pruned, "w2"));
        Dataset data = PruneFixtures.randomData(model, 7, 3);
        assertClose(outputs(zeroRemovedInputs(a, keep), data), outputs(pruned, data), 1e-5);
        assertNotNull(ModelCost.of(pruned));
    }
}
