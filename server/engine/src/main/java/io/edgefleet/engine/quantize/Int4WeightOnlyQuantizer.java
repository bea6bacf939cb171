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
import java.util.Optional;

/**
 * Weight-only int4: each constant MatMul weight {@code [K, N]} becomes signed int4 with one float scale per block
 * of {@code blockSize} consecutive rows of a column, dequantized by a standard {@code DequantizeLinear} (opset 21,
 * {@code axis=0}, {@code block_size}) that feeds the MatMul. Activations stay float. ONNX Runtime turns
 * {@code DQ(int4, blocked) -> MatMul} into its MatMulNBits kernel, which reads the packed weights directly, so the
 * weights stay 4-bit in memory too: the point for memory-bound devices. Gemm (no transA) is rewritten to MatMul+Add
 * first. Models below opset 21 are raised to it ({@link OpsetUpgrade}); when that is not safe the model is returned
 * unchanged with the reason.
 */
public final class Int4WeightOnlyQuantizer {
    static final int OPSET = 21;
    /** Scale candidates per block (100% down to 60% of the abs-max range): see {@link QuantMath#mseBlockwise}. */
    static final int CLIP_STEPS = 17;

    private final int blockSize;
    private final long minWeightElements;
    private final boolean int8Embeddings;

    public Int4WeightOnlyQuantizer(int blockSize) {
        this(blockSize, 1024);
    }

    public Int4WeightOnlyQuantizer(int blockSize, long minWeightElements) {
        this(blockSize, minWeightElements, true);
    }

    /**
     * @param int8Embeddings embedding tables ({@code Gather} over a constant) become row-wise int8, dequantized after
     *     the lookup: the standard Gather cannot read packed int4, and a float vocabulary table would be most of a
     *     small encoder's bytes
     */
    public Int4WeightOnlyQuantizer(int blockSize, long minWeightElements, boolean int8Embeddings) {
        if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two >= 16 (32, 64, 128), was " + blockSize);
        }
        this.blockSize = blockSize;
        this.minWeightElements = minWeightElements;
        this.int8Embeddings = int8Embeddings;
    }

    /** Round-to-nearest int4 (with a squared-error scale per block); needs no data. */
    public QuantizationResult quantize(OnnxModel model) {
        return quantize(model, null);
    }

    /**
     * With calibration feeds: GPTQ rounding ({@link GptqRounding}), each weight's rounding error compensated by the
     * rows not yet rounded along the inverse Hessian of its input on the feeds. Null or empty feeds: round to nearest.
     */
    public QuantizationResult quantize(OnnxModel model, List<Map<String, TensorData>> calibration) {
        List<NodeDecision> decisions = new ArrayList<>();
        Optional<String> blocker = OpsetUpgrade.blocker(model, OPSET);
        if (blocker.isPresent()) {
            for (NodeProto n : model.edit().nodes()) {
                if (n.getOpType().equals("MatMul") || n.getOpType().equals("Gemm")) {
                    decisions.add(keep(n, "int4 DequantizeLinear needs opset 21: " + blocker.get()));
                }
            }
            return new QuantizationResult(model, decisions);
        }
        OnnxModel upgraded = OpsetUpgrade.upgrade(model, OPSET);
        Graph g = upgraded.edit();
        Map<String, double[]> hessians = calibration == null || calibration.isEmpty() ? Map.of()
                : GptqRounding.hessians(upgraded, candidateInputs(g), calibration);
        Map<String, String> cache = new HashMap<>();
        for (NodeProto n : g.nodes()) {
            if (!QNodes.defaultDomain(n)) {
                continue;
            }
            String why = switch (n.getOpType()) {
                case "MatMul" -> matMul(g, n, cache, hessians);
                case "Gemm" -> gemm(g, n, cache, hessians);
                default -> "";
            };
            if (why == null) {
                decisions.add(new NodeDecision(Graph.label(n), n.getOpType(), "int4", "int4 weights, blocks of "
                        + blockSize + " along K, float activations"
                        + (hessians.containsKey(input(n, 0)) ? "; GPTQ rounding on " + calibration.size()
                                + " calibration feeds" : "; rounded to nearest")));
            } else if (!why.isEmpty()) {
                decisions.add(keep(n, why));
            }
        }
        if (int8Embeddings) {
            decisions.addAll(DynamicInt8Quantizer.quantizeEmbeddingTables(g, minWeightElements));
        }
        g.removeDeadNodes();
        return new QuantizationResult(g.toModel().withMetadata("edgefleet.quantization", "int4-weight-only-b" + blockSize
                + (hessians.isEmpty() ? "" : "-gptq")), decisions);
    }

    /** The activation of every MatMul/Gemm whose weight will be quantized, with its width K. */
    private Map<String, Integer> candidateInputs(Graph g) {
        Map<String, Integer> widths = new java.util.LinkedHashMap<>();
        for (NodeProto n : g.nodes()) {
            if (!QNodes.defaultDomain(n) || !(n.getOpType().equals("MatMul") || n.getOpType().equals("Gemm"))
                    || checkWeight(g, input(n, 1)) != null) {
                continue;
            }
            if (n.getOpType().equals("Gemm") && (QNodes.intAttr(n, "transA", 0) != 0
                    || QNodes.floatAttr(n, "alpha", 1f) != 1f || QNodes.floatAttr(n, "beta", 1f) != 1f)) {
                continue;
            }
            var p = g.initializerProto(input(n, 1)).orElseThrow();
            boolean transB = n.getOpType().equals("Gemm") && QNodes.intAttr(n, "transB", 0) != 0;
            widths.put(input(n, 0), (int) (transB ? p.getDims(1) : p.getDims(0)));
        }
        return widths;
    }

    private String matMul(Graph g, NodeProto n, Map<String, String> cache, Map<String, double[]> hessians) {
        String w = input(n, 1);
        String problem = checkWeight(g, w);
        if (problem != null) {
            return problem;
        }
        TensorData t = g.initializer(w);
        double[] h = hessians.get(input(n, 0));
        g.setInput(n, 1, cache.computeIfAbsent(w + "#", k -> dequantized(g, w, t.floats(), t.shape(), h)));
        return null;
    }

    private String gemm(Graph g, NodeProto n, Map<String, String> cache, Map<String, double[]> hessians) {
        if (QNodes.intAttr(n, "transA", 0) != 0 || QNodes.floatAttr(n, "alpha", 1f) != 1f
                || QNodes.floatAttr(n, "beta", 1f) != 1f) {
            return "Gemm with transA or alpha/beta != 1 stays float";
        }
        String w = input(n, 1);
        String problem = checkWeight(g, w);
        if (problem != null) {
            return problem;
        }
        TensorData t = g.initializer(w);
        boolean transB = QNodes.intAttr(n, "transB", 0) != 0;
        float[] v = transB ? DynamicInt8Quantizer.transpose(t.floats(), (int) t.dim(0), (int) t.dim(1)) : t.floats();
        long[] shape = transB ? new long[] {t.dim(1), t.dim(0)} : t.shape();
        double[] h = hessians.get(input(n, 0));
        String dq = cache.computeIfAbsent(w + "#" + transB, k -> dequantized(g, w, v, shape, h));
        String label = Graph.label(n);
        String c = input(n, 2);
        String y = n.getOutput(0);
        if (c.isEmpty()) {
            g.replaceNode(n, node("MatMul", g.uniqueName(label + "_matmul"), List.of(input(n, 0), dq), List.of(y)));
        } else {
            String mm = g.uniqueName(y + "_matmul");
            g.replaceNode(n, node("MatMul", g.uniqueName(label + "_matmul"), List.of(input(n, 0), dq), List.of(mm)),
                    node("Add", g.uniqueName(label + "_bias"), List.of(mm, c), List.of(y)));
        }
        return null;
    }

    private String checkWeight(Graph g, String w) {
        if (w.isEmpty() || !g.isInitializer(w) || g.isGraphInput(w)) {
            return "weight is not a constant initializer";
        }
        var p = g.initializerProto(w).orElseThrow();
        if (p.getDataType() != ElemType.FLOAT.code() || p.getDimsCount() != 2) {
            return "weight is not a 2-D float32 tensor";
        }
        if (p.getDims(0) * p.getDims(1) < minWeightElements) {
            return "weight has " + p.getDims(0) * p.getDims(1) + " elements (< " + minWeightElements + ")";
        }
        return null;
    }

    /** int4 [K, N] + scales [ceil(K / block), N] + DequantizeLinear; returns the DQ output. */
    private String dequantized(Graph g, String w, float[] values, long[] shape, double[] hessian) {
        int[] ints;
        float[] scales;
        if (hessian != null) {
            GptqRounding.Rounded r = GptqRounding.round(values, (int) shape[0], (int) shape[1], hessian, blockSize,
                    CLIP_STEPS, 0.01);
            ints = r.q();
            scales = r.scales();
        } else {
            QuantParams p = QuantMath.mseBlockwise(values, shape, 0, blockSize, QuantType.INT4, CLIP_STEPS);
            ints = QuantMath.quantize(values, shape, p);
            scales = p.scales().clone();
        }
        String q = g.uniqueName(w + "_int4");
        String s = g.uniqueName(w + "_block_scale");
        String dq = g.uniqueName(w + "_dequantized");
        g.setInitializer(TensorData.ofInts(q, ElemType.INT4, shape, ints));
        g.setInitializer(TensorData.ofFloats(s, QuantMath.blockedScaleShape(shape, 0, blockSize), scales));
        g.addNode(node("DequantizeLinear", g.uniqueName(w + "_DequantizeLinear"), List.of(q, s), List.of(dq),
                intAttr("axis", 0), intAttr("block_size", blockSize)));
        return dq;
    }

    private static NodeDecision keep(NodeProto n, String reason) {
        return new NodeDecision(Graph.label(n), n.getOpType(), "fp32", reason);
    }
}
