package io.edgefleet.engine.eval;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.Tensors;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Static size and compute figures of a model.
 *
 * <p>{@code parameters}: elements of every initializer and Constant tensor, subgraphs included. {@code parameterBytes}:
 * their stored size (int4 counts half a byte). {@code macs}: multiply-accumulates for one sample (batch 1), counted
 * for Conv, ConvTranspose, Gemm, MatMul and their integer/quantized forms (ConvInteger, QLinearConv, MatMulInteger,
 * QLinearMatMul, com.microsoft MatMulNBits/DynamicQuantizeMatMul/FusedMatMul) from the actual shapes of one run.
 * Element-wise ops, pooling, normalization and anything inside If/Loop bodies are not counted.
 */
public record ModelStats(long bytes, long parameters, long parameterBytes, long macs, SortedMap<String, Long> macsByOp,
        SortedMap<String, Integer> opHistogram, String sha256) {

    public ModelStats {
        macsByOp = Collections.unmodifiableSortedMap(new TreeMap<>(macsByOp));
        opHistogram = Collections.unmodifiableSortedMap(new TreeMap<>(opHistogram));
    }

    /** Figures from a model and the shapes of its values for one batch-1 run (see {@link OrtRunner#probeShapes}). */
    public static ModelStats of(OnnxModel model, Map<String, long[]> shapes) {
        long[] params = new long[2];
        countParams(model.proto().getGraph(), params);
        SortedMap<String, Long> byOp = new TreeMap<>();
        long total = 0;
        for (NodeProto n : model.proto().getGraph().getNodeList()) {
            long macs = macs(n, shapes);
            if (macs > 0) {
                String key = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? n.getOpType()
                        : n.getDomain() + ":" + n.getOpType();
                byOp.merge(key, macs, Long::sum);
                total += macs;
            }
        }
        return new ModelStats(model.sizeBytes(), params[0], params[1], total, byOp,
                new TreeMap<>(model.opHistogram()), model.sha256());
    }

    private static void countParams(GraphProto g, long[] acc) {
        for (TensorProto t : g.getInitializerList()) {
            add(t, acc);
        }
        for (NodeProto n : g.getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasT() && n.getOpType().equals("Constant")) {
                    add(a.getT(), acc);
                }
                if (a.hasG()) {
                    countParams(a.getG(), acc);
                }
                for (GraphProto sub : a.getGraphsList()) {
                    countParams(sub, acc);
                }
            }
        }
    }

    private static void add(TensorProto t, long[] acc) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= Math.max(d, 0);
        }
        acc[0] += n;
        ElemType type = Tensors.elemType(t);
        acc[1] += type.bits() > 0 ? type.storageBytes(n) : t.getSerializedSize();
    }

    private static long numel(long[] shape) {
        if (shape == null) {
            return -1;
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    private static long[] shapeOf(NodeProto n, int inputIndex, Map<String, long[]> shapes) {
        if (inputIndex >= n.getInputCount()) {
            return null;
        }
        return shapes.get(n.getInput(inputIndex));
    }

    private static long attrInt(NodeProto n, String name, long dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return dflt;
    }

    /** MACs of one node for the probed run, 0 for ops that are not counted or shapes that are unknown. */
    public static long macs(NodeProto n, Map<String, long[]> shapes) {
        if (n.getOutputCount() == 0) {
            return 0;
        }
        long[] out = shapes.get(n.getOutput(0));
        long outElems = numel(out);
        if (outElems < 0) {
            return 0;
        }
        String op = n.getOpType();
        switch (op) {
            case "Conv", "ConvInteger", "QLinearConv" -> {
                long[] w = shapeOf(n, op.equals("QLinearConv") ? 3 : 1, shapes);
                if (w == null || w.length < 2 || w[0] == 0) {
                    return 0;
                }
                // Each output element needs (C_in / group) * prod(kernel) products = numel(W) / C_out.
                return outElems * (numel(w) / w[0]);
            }
            case "ConvTranspose" -> {
                long[] x = shapeOf(n, 0, shapes);
                long[] w = shapeOf(n, 1, shapes);
                if (x == null || w == null || w.length < 2 || w[0] == 0) {
                    return 0;
                }
                // Each input element is scattered into (C_out / group) * prod(kernel) outputs.
                return numel(x) * (numel(w) / w[0]);
            }
            case "Gemm" -> {
                long[] a = shapeOf(n, 0, shapes);
                if (a == null || a.length != 2) {
                    return 0;
                }
                long k = attrInt(n, "transA", 0) == 0 ? a[1] : a[0];
                return outElems * k;
            }
            case "MatMul", "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "FusedMatMul" -> {
                long[] a = shapeOf(n, 0, shapes);
                if (a == null || a.length == 0) {
                    return 0;
                }
                long k = a[a.length - 1];
                if (op.equals("FusedMatMul") && attrInt(n, "transA", 0) != 0 && a.length >= 2) {
                    k = a[a.length - 2];
                }
                return outElems * k;
            }
            case "MatMulNBits" -> {
                long k = attrInt(n, "K", -1);
                return k > 0 ? outElems * k : 0;
            }
            default -> {
                return 0;
            }
        }
    }
}
