package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QNodes.input;
import static io.edgefleet.engine.quantize.QNodes.intAttr;
import static io.edgefleet.engine.quantize.QNodes.node;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic int8 quantization: weights become int8 ahead of time, activations are quantized at run time, so no
 * calibration data is needed. Only standard ONNX ops are emitted, in the exact shapes ONNX Runtime's CPU graph
 * optimizer fuses into its integer kernels:
 *
 * <pre>
 *   MatMul(A, W)  ->  DynamicQuantizeLinear(A) -> MatMulInteger(Aq, Wq, Azp) -> Cast(float)
 *                     -> Mul(., Mul(As, Wscale))           (-> MatMulIntegerToFloat / DynamicQuantizeMatMul)
 * </pre>
 *
 * Weights are symmetric int8 with one scale per output column (per-channel), which keeps the zero point at 0 so
 * the u8 x s8 kernels apply. Embedding tables ({@code Gather} over a large constant) become int8 rows with one scale
 * per row, dequantized after the gather so only the looked-up rows are touched. {@code Conv} stays float by
 * default: ONNX Runtime's {@code ConvInteger} has no fused requantization and measured slower than its float Conv
 * on the digits ResNet; {@link Options#convInteger} turns it on for size-bound targets.
 */
public final class DynamicInt8Quantizer {

    /**
     * @param perChannel one weight scale per output column/channel instead of one per tensor
     * @param quantizeEmbeddings quantize Gather tables (row-wise int8)
     * @param convInteger quantize Conv with ConvInteger
     * @param shareActivationQuant one DynamicQuantizeLinear per activation shared by all its consumers; when false,
     *     each MatMul gets its own, which lets ONNX Runtime fuse it into a single DynamicQuantizeMatMul kernel
     * @param minWeightElements weights smaller than this stay float (the runtime quantization costs more than it saves)
     * @param mergeSiblings MatMuls that read the same activation (attention Q/K/V) become one wide integer MatMul
     *     and a Split: one run-time quantization and one kernel instead of three. ONNX Runtime merges identical
     *     DynamicQuantizeLinear nodes anyway, and a shared one blocks its DynamicQuantizeMatMul fusion, so this is
     *     what lets every MatMul of a BERT layer run as one fused kernel. Per-channel scales make it lossless.
     */
    public record Options(boolean perChannel, boolean quantizeEmbeddings, boolean convInteger,
            boolean shareActivationQuant, long minWeightElements, boolean mergeSiblings) {
        public static final Options DEFAULTS = new Options(true, true, false, false, 1024, true);

        public Options {
            if (minWeightElements < 0) {
                throw new IllegalArgumentException("minWeightElements must be >= 0");
            }
        }

        public Options withConvInteger(boolean on) {
            return new Options(perChannel, quantizeEmbeddings, on, shareActivationQuant, minWeightElements, mergeSiblings);
        }

        public Options withShareActivationQuant(boolean on) {
            return new Options(perChannel, quantizeEmbeddings, convInteger, on, minWeightElements, mergeSiblings);
        }

        public Options withPerChannel(boolean on) {
            return new Options(on, quantizeEmbeddings, convInteger, shareActivationQuant, minWeightElements, mergeSiblings);
        }

        public Options withMinWeightElements(long n) {
            return new Options(perChannel, quantizeEmbeddings, convInteger, shareActivationQuant, n, mergeSiblings);
        }

        public Options withMergeSiblings(boolean on) {
            return new Options(perChannel, quantizeEmbeddings, convInteger, shareActivationQuant, minWeightElements, on);
        }
    }

    /** Lowest opset with DynamicQuantizeLinear. */
    static final int MIN_OPSET = 11;

    private final Options options;

    public DynamicInt8Quantizer() {
        this(Options.DEFAULTS);
    }

    public DynamicInt8Quantizer(Options options) {
        this.options = options;
    }

    public QuantizationResult quantize(OnnxModel model) {
        Graph g = model.edit();
        List<NodeDecision> decisions = new ArrayList<>();
        if (g.opsetVersion() < MIN_OPSET) {
            for (NodeProto n : g.nodes()) {
                if (isCandidate(n)) {
                    decisions.add(keep(n, "model opset " + g.opsetVersion() + " < " + MIN_OPSET
                            + " has no DynamicQuantizeLinear"));
                }
            }
            return new QuantizationResult(model, decisions);
        }
        Run run = new Run(g);
        java.util.Set<NodeProto> merged = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (options.mergeSiblings && options.perChannel) {
            for (List<NodeProto> group : run.siblingGroups()) {
                run.mergeSiblings(group);
                merged.addAll(group);
                for (NodeProto n : group) {
                    decisions.add(new NodeDecision(Graph.label(n), n.getOpType(), "int8",
                            "int8 weights, activations quantized at run time; merged with " + (group.size() - 1)
                                    + " sibling MatMul(s) on the same input into one integer MatMul + Split"));
                }
            }
        }
        for (NodeProto n : g.nodes()) {
            if (!QNodes.defaultDomain(n) || !isCandidate(n) || merged.contains(n)) {
                continue;
            }
            if (n.getOpType().equals("Gather") && !g.isInitializer(input(n, 0))) {
                continue; // index arithmetic on shapes, not an embedding table
            }
            String why = switch (n.getOpType()) {
                case "MatMul" -> run.matMul(n);
                case "Gemm" -> run.gemm(n);
                case "Gather" -> run.gather(n);
                case "Conv" -> options.convInteger ? run.conv(n)
                        : "Conv stays float: ConvInteger is slower than float Conv on ONNX Runtime CPU (enable convInteger for size)";
                default -> "not quantized";
            };
            decisions.add(why == null ? new NodeDecision(Graph.label(n), n.getOpType(), "int8",
                    n.getOpType().equals("Gather") ? "row-wise int8 table, dequantized after the lookup"
                            : "int8 weights, activations quantized at run time") : keep(n, why));
        }
        g.removeDeadNodes();
        OnnxModel out = g.toModel().withMetadata("edgefleet.quantization", "dynamic-int8");
        return new QuantizationResult(out, decisions);
    }

    /**
     * Dynamic int8 of a model smoothed by {@link ActivationSmoothing} (recipe {@code dynamic-int8-smooth}): the
     * smoothing decision of each MatMul is appended to its quantization reason.
     */
    public QuantizationResult quantize(ActivationSmoothing.Result smoothed) {
        QuantizationResult r = quantize(smoothed.model());
        Map<String, String> why = new HashMap<>();
        for (NodeDecision d : smoothed.decisions()) {
            why.put(d.node(), d.reason());
        }
        List<NodeDecision> decisions = new ArrayList<>();
        for (NodeDecision d : r.decisions()) {
            String s = why.get(d.node());
            decisions.add(s == null ? d : new NodeDecision(d.node(), d.opType(), d.precision(), d.reason() + "; " + s));
        }
        return new QuantizationResult(r.model().withMetadata("edgefleet.quantization", "dynamic-int8-smooth"), decisions);
    }

    /**
     * Only the embedding tables: every {@code Gather} over a large constant float table becomes int8 rows with one
     * scale per row, dequantized after the lookup (so the table stays int8 in memory). For recipes that quantize the
     * MatMuls another way (int4 weight-only) but should not leave the vocabulary table, often half the model, float.
     */
    static List<NodeDecision> quantizeEmbeddingTables(Graph g, long minWeightElements) {
        DynamicInt8Quantizer q = new DynamicInt8Quantizer(Options.DEFAULTS.withMinWeightElements(minWeightElements));
        Run run = q.new Run(g);
        List<NodeDecision> decisions = new ArrayList<>();
        for (NodeProto n : g.nodes()) {
            if (!QNodes.defaultDomain(n) || !n.getOpType().equals("Gather") || !g.isInitializer(input(n, 0))) {
                continue;
            }
            String why = run.gather(n);
            decisions.add(why == null ? new NodeDecision(Graph.label(n), "Gather", "int8",
                    "row-wise int8 table, dequantized after the lookup") : keep(n, why));
        }
        return decisions;
    }

    private static boolean isCandidate(NodeProto n) {
        return switch (n.getOpType()) {
            case "MatMul", "Gemm", "Gather", "Conv" -> true;
            default -> false;
        };
    }

    private static NodeDecision keep(NodeProto n, String reason) {
        return new NodeDecision(Graph.label(n), n.getOpType(), "fp32", reason);
    }

    /** State of one quantization run over a graph. */
    private final class Run {
        private final Graph g;
        private final Map<String, String[]> activationQuant = new HashMap<>();
        private final Map<String, String[]> quantizedWeights = new HashMap<>();

        Run(Graph g) {
            this.g = g;
        }

        /** Groups of >= 2 quantizable MatMuls reading the same activation with weights of the same K. */
        List<List<NodeProto>> siblingGroups() {
            Map<String, List<NodeProto>> byInput = new java.util.LinkedHashMap<>();
            for (NodeProto n : g.nodes()) {
                if (QNodes.defaultDomain(n) && n.getOpType().equals("MatMul") && checkWeight(input(n, 1), 2) == null
                        && isFloatActivation(input(n, 0))) {
                    long k = g.initializerProto(input(n, 1)).orElseThrow().getDims(0);
                    byInput.computeIfAbsent(input(n, 0) + "#" + k, x -> new ArrayList<>()).add(n);
                }
            }
            List<List<NodeProto>> groups = new ArrayList<>();
            for (List<NodeProto> grp : byInput.values()) {
                if (grp.size() >= 2) {
                    groups.add(grp);
                }
            }
            return groups;
        }

        /**
         * One integer MatMul over the column-concatenated weights, then Split back into the original outputs. When
         * every member feeds exactly one Add of a constant 1-D bias, the biases are concatenated too and added
         * before the Split, so ONNX Runtime folds the bias into the fused kernel.
         */
        void mergeSiblings(List<NodeProto> group) {
            String a = input(group.get(0), 0);
            List<TensorData> weights = new ArrayList<>();
            int k = 0;
            int total = 0;
            for (NodeProto n : group) {
                TensorData w = g.initializer(input(n, 1));
                weights.add(w);
                k = (int) w.dim(0);
                total += (int) w.dim(1);
            }
            float[] concat = new float[k * total];
            long[] widths = new long[group.size()];
            int col = 0;
            for (int i = 0; i < weights.size(); i++) {
                float[] v = weights.get(i).floats();
                int n = (int) weights.get(i).dim(1);
                widths[i] = n;
                for (int r = 0; r < k; r++) {
                    System.arraycopy(v, r * n, concat, r * total + col, n);
                }
                col += n;
            }
            List<NodeProto> biasAdds = new ArrayList<>();
            float[] biasConcat = new float[total];
            col = 0;
            for (int i = 0; i < group.size(); i++) {
                NodeProto add = biasAddOf(group.get(i), widths[i]);
                if (add == null) {
                    biasAdds = null;
                    break;
                }
                biasAdds.add(add);
                String b = input(add, 0).equals(group.get(i).getOutput(0)) ? input(add, 1) : input(add, 0);
                System.arraycopy(g.initializer(b).floats(), 0, biasConcat, col, (int) widths[i]);
                col += (int) widths[i];
            }
            NodeProto first = group.get(0);
            String label = Graph.label(first) + "_merged";
            String[] q = quantizedWeight(g.uniqueName(label + "_W"), concat, new long[] {k, total}, 1f, "");
            String mmOut = g.uniqueName(label + "_out");
            List<NodeProto> nodes = integerNodes(first, a, q, mmOut, "MatMulInteger");
            String splitIn = mmOut;
            if (biasAdds != null) {
                String bias = g.uniqueName(label + "_bias");
                g.setInitializer(TensorData.ofFloats(bias, new long[] {total}, biasConcat));
                splitIn = g.uniqueName(label + "_biased");
                nodes.add(node("Add", g.uniqueName(label + "_bias_add"), List.of(mmOut, bias), List.of(splitIn)));
            }
            List<String> outs = new ArrayList<>();
            for (int i = 0; i < group.size(); i++) {
                outs.add(biasAdds != null ? biasAdds.get(i).getOutput(0) : group.get(i).getOutput(0));
            }
            String splitName = g.uniqueName(label + "_split");
            if (g.opsetVersion() >= 13) {
                String sizes = g.uniqueName(label + "_split_sizes");
                g.setInitializer(TensorData.ofInt64(sizes, new long[] {widths.length}, widths));
                nodes.add(node("Split", splitName, List.of(splitIn, sizes), outs, intAttr("axis", -1)));
            } else {
                nodes.add(node("Split", splitName, List.of(splitIn), outs, intAttr("axis", -1),
                        QNodes.intsAttr("split", widths)));
            }
            g.replaceNode(first, nodes.toArray(NodeProto[]::new));
            for (int i = 1; i < group.size(); i++) {
                g.removeNode(group.get(i));
            }
            if (biasAdds != null) {
                for (NodeProto add : biasAdds) {
                    g.removeNode(add);
                }
            }
        }

        /** The single Add consuming a MatMul's output with a constant float bias of shape [n], if that is its use. */
        private NodeProto biasAddOf(NodeProto mm, long n) {
            String y = mm.getOutput(0);
            List<NodeProto> cons = g.consumers(y);
            if (cons.size() != 1 || g.isGraphOutput(y)) {
                return null;
            }
            NodeProto add = cons.get(0);
            if (!add.getOpType().equals("Add") || !QNodes.defaultDomain(add) || add.getInputCount() != 2) {
                return null;
            }
            String b = input(add, 0).equals(y) ? input(add, 1) : input(add, 0);
            if (b.equals(y) || !g.isInitializer(b) || g.isGraphInput(b)) {
                return null;
            }
            var p = g.initializerProto(b).orElseThrow();
            if (p.getDataType() != ElemType.FLOAT.code() || p.getDimsCount() != 1 || p.getDims(0) != n) {
                return null;
            }
            return add;
        }

        /** Returns null when quantized, else the reason it was not. */
        String matMul(NodeProto n) {
            String a = input(n, 0);
            String w = input(n, 1);
            String problem = checkWeight(w, 2);
            if (problem != null) {
                return problem;
            }
            if (!isFloatActivation(a)) {
                return "input A is not float32";
            }
            TensorData wt = g.initializer(w);
            String[] q = quantizedWeight(w, wt.floats(), wt.shape(), 1f, "");
            replaceWithInteger(n, a, q, n.getOutput(0), "MatMulInteger");
            return null;
        }

        String gemm(NodeProto n) {
            String a = input(n, 0);
            String w = input(n, 1);
            String c = input(n, 2);
            if (QNodes.intAttr(n, "transA", 0) != 0) {
                return "Gemm with transA=1 (no integer kernel form)";
            }
            String problem = checkWeight(w, 2);
            if (problem != null) {
                return problem;
            }
            if (!isFloatActivation(a)) {
                return "input A is not float32";
            }
            float alpha = QNodes.floatAttr(n, "alpha", 1f);
            float beta = QNodes.floatAttr(n, "beta", 1f);
            String bias = null;
            if (!c.isEmpty() && beta != 0f) {
                if (g.isInitializer(c) && g.initializer(c).type() == ElemType.FLOAT && !g.isGraphInput(c)) {
                    TensorData ct = g.initializer(c);
                    if (beta == 1f) {
                        bias = c;
                    } else {
                        float[] scaled = ct.floats().clone();
                        for (int i = 0; i < scaled.length; i++) {
                            scaled[i] *= beta;
                        }
                        bias = g.uniqueName(c + "_beta");
                        g.setInitializer(TensorData.ofFloats(bias, ct.shape(), scaled));
                    }
                } else if (beta == 1f) {
                    bias = c;
                } else {
                    return "Gemm bias C is not constant and beta != 1";
                }
            }
            TensorData wt = g.initializer(w);
            float[] values = wt.floats();
            long[] shape = wt.shape();
            String variant = "";
            if (QNodes.intAttr(n, "transB", 0) != 0) {
                values = transpose(values, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
                variant = "_T";
            }
            String[] q = quantizedWeight(w, values, shape, alpha, variant + (alpha != 1f ? "_a" + alpha : ""));
            String y = n.getOutput(0);
            String mmOut = bias == null ? y : g.uniqueName(y + "_nobias");
            List<NodeProto> nodes = integerNodes(n, a, q, mmOut, "MatMulInteger");
            if (bias != null) {
                nodes.add(node("Add", g.uniqueName(Graph.label(n) + "_bias"), List.of(mmOut, bias), List.of(y)));
            }
            g.replaceNode(n, nodes.toArray(NodeProto[]::new));
            return null;
        }

        String conv(NodeProto n) {
            String x = input(n, 0);
            String w = input(n, 1);
            String b = input(n, 2);
            String problem = checkWeight(w, -1);
            if (problem != null) {
                return problem;
            }
            if (!isFloatActivation(x)) {
                return "input X is not float32";
            }
            TensorData wt = g.initializer(w);
            if (wt.rank() < 3) {
                return "Conv weight has rank " + wt.rank();
            }
            long[] shape = wt.shape();
            QuantParams p = options.perChannel
                    ? QuantMath.symmetricPerChannel(wt.floats(), shape, 0, QuantType.INT8)
                    : QuantMath.symmetricPerTensor(wt.floats(), QuantType.INT8);
            String wq = g.uniqueName(w + "_int8");
            g.setInitializer(TensorData.ofInts(wq, ElemType.INT8, shape, QuantMath.quantize(wt.floats(), shape, p)));
            // per-channel scales broadcast over [N, C_out, H, W...]
            long[] scaleShape = new long[shape.length];
            java.util.Arrays.fill(scaleShape, 1);
            scaleShape[1] = p.scales().length;
            String ws = g.uniqueName(w + "_scale");
            g.setInitializer(p.scales().length == 1 ? TensorData.scalar(ws, p.scales()[0])
                    : TensorData.ofFloats(ws, scaleShape, p.scales().clone()));
            String label = Graph.label(n);
            String[] aq = activationQuant(x, label);
            String yInt = g.uniqueName(label + "_int32");
            String yF = g.uniqueName(label + "_float");
            String scale = g.uniqueName(label + "_scale");
            String y = n.getOutput(0);
            String scaled = b.isEmpty() ? y : g.uniqueName(y + "_nobias");
            NodeProto.Builder ci = NodeProto.newBuilder().setOpType("ConvInteger").setName(g.uniqueName(label + "_int"))
                    .addInput(aq[0]).addInput(wq).addInput(aq[2]).addOutput(yInt);
            for (var at : n.getAttributeList()) {
                ci.addAttribute(at);
            }
            List<NodeProto> nodes = new ArrayList<>();
            nodes.addAll(activationQuantNodes(x, aq));
            nodes.add(ci.build());
            nodes.add(node("Cast", g.uniqueName(label + "_cast"), List.of(yInt), List.of(yF), intAttr("to", 1)));
            nodes.add(node("Mul", g.uniqueName(label + "_scale_mul"), List.of(aq[1], ws), List.of(scale)));
            nodes.add(node("Mul", g.uniqueName(label + "_rescale"), List.of(yF, scale), List.of(scaled)));
            if (!b.isEmpty()) {
                TensorData bt = g.initializer(b);
                String b4 = g.uniqueName(b + "_nchw");
                g.setInitializer(TensorData.ofFloats(b4, scaleShape, bt.floats().clone()));
                nodes.add(node("Add", g.uniqueName(label + "_bias"), List.of(scaled, b4), List.of(y)));
            }
            g.replaceNode(n, nodes.toArray(NodeProto[]::new));
            return null;
        }

        String gather(NodeProto n) {
            if (!options.quantizeEmbeddings) {
                return "embedding quantization disabled";
            }
            String data = input(n, 0);
            String idx = input(n, 1);
            if (QNodes.intAttr(n, "axis", 0) != 0) {
                return "Gather along axis != 0";
            }
            String problem = checkWeight(data, 2);
            if (problem != null) {
                return problem;
            }
            TensorData t = g.initializer(data);
            long[] shape = t.shape();
            String[] q = quantizedWeights.get(data + "#rows");
            if (q == null) {
                QuantParams p = QuantMath.symmetricPerChannel(t.floats(), shape, 0, QuantType.INT8);
                String tq = g.uniqueName(data + "_int8");
                g.setInitializer(TensorData.ofInts(tq, ElemType.INT8, shape, QuantMath.quantize(t.floats(), shape, p)));
                // scales shaped [V, 1] so the gathered scales broadcast over each row without an Unsqueeze
                String ts = g.uniqueName(data + "_row_scale");
                g.setInitializer(TensorData.ofFloats(ts, new long[] {shape[0], 1}, p.scales().clone()));
                q = new String[] {tq, ts};
                quantizedWeights.put(data + "#rows", q);
            }
            String label = Graph.label(n);
            String rows = g.uniqueName(label + "_int8_rows");
            String rowsF = g.uniqueName(label + "_rows_float");
            String scales = g.uniqueName(label + "_row_scales");
            g.replaceNode(n,
                    node("Gather", g.uniqueName(label + "_q"), List.of(q[0], idx), List.of(rows)),
                    node("Cast", g.uniqueName(label + "_cast"), List.of(rows), List.of(rowsF), intAttr("to", 1)),
                    node("Gather", g.uniqueName(label + "_scales"), List.of(q[1], idx), List.of(scales)),
                    node("Mul", g.uniqueName(label + "_dequant"), List.of(rowsF, scales), List.of(n.getOutput(0))));
            return null;
        }

        private String checkWeight(String w, int rank) {
            if (w.isEmpty() || !g.isInitializer(w)) {
                return "weight is not a constant initializer";
            }
            if (g.isGraphInput(w)) {
                return "weight is a graph input (overridable at run time)";
            }
            var proto = g.initializerProto(w).orElseThrow();
            if (proto.getDataType() != ElemType.FLOAT.code()) {
                return "weight is " + ElemType.fromCode(proto.getDataType()).displayName() + ", not float32";
            }
            if (rank > 0 && proto.getDimsCount() != rank) {
                return "weight has rank " + proto.getDimsCount() + ", expected " + rank;
            }
            long count = 1;
            for (long d : proto.getDimsList()) {
                count *= d;
            }
            if (count < options.minWeightElements) {
                return "weight has " + count + " elements (< " + options.minWeightElements + "): not worth it";
            }
            return null;
        }

        private boolean isFloatActivation(String a) {
            ElemType t = g.elemType(a);
            return t == ElemType.FLOAT || t == ElemType.UNDEFINED;
        }

        /** Quantized weight [K, N] and its scales (scalar or [N]); cached per source weight and variant. */
        private String[] quantizedWeight(String w, float[] values, long[] shape, float alpha, String variant) {
            String key = w + "#" + variant;
            String[] q = quantizedWeights.get(key);
            if (q != null) {
                return q;
            }
            QuantParams p = options.perChannel
                    ? QuantMath.symmetricPerChannel(values, shape, 1, QuantType.INT8)
                    : QuantMath.symmetricPerTensor(values, QuantType.INT8);
            String wq = g.uniqueName(w + variant + "_int8");
            g.setInitializer(TensorData.ofInts(wq, ElemType.INT8, shape, QuantMath.quantize(values, shape, p)));
            float[] scales = p.scales().clone();
            for (int i = 0; i < scales.length; i++) {
                scales[i] *= alpha;
            }
            String ws = g.uniqueName(w + variant + "_scale");
            g.setInitializer(scales.length == 1 ? TensorData.scalar(ws, scales[0])
                    : TensorData.ofFloats(ws, new long[] {scales.length}, scales));
            q = new String[] {wq, ws};
            quantizedWeights.put(key, q);
            return q;
        }

        private void replaceWithInteger(NodeProto n, String a, String[] q, String y, String op) {
            g.replaceNode(n, integerNodes(n, a, q, y, op).toArray(NodeProto[]::new));
        }

        private List<NodeProto> integerNodes(NodeProto n, String a, String[] q, String y, String op) {
            String label = Graph.label(n);
            String[] aq = activationQuant(a, label);
            String yInt = g.uniqueName(label + "_int32");
            String yF = g.uniqueName(label + "_float");
            String scale = g.uniqueName(label + "_scale");
            List<NodeProto> nodes = new ArrayList<>(activationQuantNodes(a, aq));
            nodes.add(node(op, g.uniqueName(label + "_int"), List.of(aq[0], q[0], aq[2]), List.of(yInt)));
            nodes.add(node("Cast", g.uniqueName(label + "_cast"), List.of(yInt), List.of(yF), intAttr("to", 1)));
            // the order (activation scale, weight scale) and (int result, combined scale) is what the fusion matches
            nodes.add(node("Mul", g.uniqueName(label + "_scale_mul"), List.of(aq[1], q[1]), List.of(scale)));
            nodes.add(node("Mul", g.uniqueName(label + "_rescale"), List.of(yF, scale), List.of(y)));
            return nodes;
        }

        /** Names {q, scale, zeroPoint} for the run-time quantization of activation {@code a}. */
        private String[] activationQuant(String a, String label) {
            if (options.shareActivationQuant) {
                String[] shared = activationQuant.get(a);
                if (shared != null) {
                    return new String[] {shared[0], shared[1], shared[2], "existing"};
                }
            }
            String base = options.shareActivationQuant ? a : label + "_in";
            String[] names = {g.uniqueName(base + "_quant"), g.uniqueName(base + "_quant_scale"),
                g.uniqueName(base + "_quant_zp"), "new"};
            activationQuant.put(a, names);
            return names;
        }

        private List<NodeProto> activationQuantNodes(String a, String[] aq) {
            if (aq[3].equals("existing")) {
                return List.of();
            }
            return List.of(node("DynamicQuantizeLinear", g.uniqueName(aq[0] + "_node"), List.of(a),
                    List.of(aq[0], aq[1], aq[2])));
        }
    }

    static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }
}
