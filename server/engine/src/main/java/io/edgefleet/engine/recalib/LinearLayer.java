package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A layer computing {@code y = W x + b} with constant weights: {@code Conv}, {@code Gemm}, or {@code MatMul} with a
 * rank-2 initializer (plus the {@code Add} that carries its bias, when there is exactly one). Whatever the ONNX
 * layout, {@link #weightMatrix} gives W as {@code out x in} row-major floats ({@code in = Cin/group * kh * kw} for a
 * convolution, in the order im2col produces), and {@link #withMatrix} writes such a matrix back in the layer's own
 * layout. This is the common ground of magnitude pruning, Hessian-aware pruning, least-squares refits and low-rank
 * factorization.
 *
 * @param node the Conv/Gemm/MatMul node
 * @param output the value after the bias: the node's output, or the output of the bias Add for MatMul
 * @param biasNode the Add node holding the bias of a MatMul layer, else null
 * @param bias initializer holding the bias (as stored: Gemm's C is scaled by beta), or null when there is none
 * @param alpha Gemm's alpha (1 otherwise); folded into {@link #weightMatrix}
 * @param beta Gemm's beta (1 otherwise); folded into {@link #biasVector}
 */
public record LinearLayer(NodeProto node, Kind kind, String input, String output, NodeProto biasNode, String weight,
        String bias, int outFeatures, int inFeatures, float alpha, float beta, ConvGeometry conv) {

    public enum Kind { CONV, GEMM, MATMUL }

    /** Node name, or a stable label for unnamed nodes. */
    public String name() {
        return Graph.label(node);
    }

    /**
     * Geometry of a 2-D convolution (explicit pads only; rank-3/5 convolutions and auto_pad SAME are described but
     * flagged unsupported by {@link #im2colSupported()}).
     */
    public record ConvGeometry(int group, int[] kernel, int[] strides, int[] pads, int[] dilations, String autoPad) {
        public int kernelSize() {
            int k = 1;
            for (int d : kernel) {
                k *= d;
            }
            return k;
        }
    }

    /** Whether {@link Im2Col} can produce this layer's input patches (2-D conv, explicit or VALID padding). */
    public boolean im2colSupported() {
        return kind != Kind.CONV || (conv.kernel.length == 2 && (conv.autoPad.isEmpty()
                || conv.autoPad.equals("NOTSET") || conv.autoPad.equals("VALID")));
    }

    public boolean isConv() {
        return kind == Kind.CONV;
    }

    /**
     * The layer built on {@code node}, or empty with nothing said when the node is not a constant-weight linear
     * layer. Use {@link #explain} for the reason.
     */
    public static Optional<LinearLayer> of(Graph g, NodeProto node) {
        return explain(g, node) == null ? Optional.of(build(g, node)) : Optional.empty();
    }

    /** Null when {@code node} is a supported linear layer, otherwise why it is not. */
    public static String explain(Graph g, NodeProto node) {
        if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
            return "custom-domain operator";
        }
        switch (node.getOpType()) {
            case "Conv" -> {
                if (node.getInputCount() < 2 || !g.isInitializer(node.getInput(1))) {
                    return "weights are not an initializer";
                }
                if (g.initializerProto(node.getInput(1)).map(p -> p.getDataType() != ElemType.FLOAT.code()).orElse(true)) {
                    return "weights are not float32";
                }
                if (node.getInputCount() > 2 && !node.getInput(2).isEmpty() && !g.isInitializer(node.getInput(2))) {
                    return "bias is not an initializer";
                }
                return null;
            }
            case "Gemm" -> {
                if (intAttr(node, "transA", 0) != 0) {
                    return "Gemm with transA=1";
                }
                if (!g.isInitializer(node.getInput(1))) {
                    return "weights are not an initializer";
                }
                if (g.initializerProto(node.getInput(1)).map(p -> p.getDataType() != ElemType.FLOAT.code()).orElse(true)) {
                    return "weights are not float32";
                }
                if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
                    String c = node.getInput(2);
                    if (!g.isInitializer(c)) {
                        return "bias C is not an initializer";
                    }
                    TensorData t = g.initializer(c);
                    int n = outOf(g, node);
                    if (t.elementCount() != n || (t.rank() == 2 && t.dim(0) != 1) || t.rank() > 2) {
                        return "bias C of shape " + java.util.Arrays.toString(t.shape()) + " is not a per-output vector";
                    }
                }
                return null;
            }
            case "MatMul" -> {
                if (!g.isInitializer(node.getInput(1))) {
                    return "second operand is not an initializer";
                }
                TensorData w = g.initializer(node.getInput(1));
                if (w.rank() != 2) {
                    return "weights have rank " + w.rank() + ", not 2";
                }
                if (w.type() != ElemType.FLOAT) {
                    return "weights are not float32";
                }
                if (g.isInitializer(node.getInput(0))) {
                    return "both operands are constant";
                }
                return null;
            }
            default -> {
                return "not a Conv, Gemm or MatMul";
            }
        }
    }

    private static int outOf(Graph g, NodeProto gemm) {
        TensorData b = g.initializer(gemm.getInput(1));
        return (int) (intAttr(gemm, "transB", 0) != 0 ? b.dim(0) : b.dim(1));
    }

    private static LinearLayer build(Graph g, NodeProto node) {
        String w = node.getInput(1);
        TensorData wt = g.initializer(w);
        switch (node.getOpType()) {
            case "Conv" -> {
                String bias = node.getInputCount() > 2 && !node.getInput(2).isEmpty() ? node.getInput(2) : null;
                int spatial = wt.rank() - 2;
                int[] kernel = new int[spatial];
                for (int i = 0; i < spatial; i++) {
                    kernel[i] = (int) wt.dim(i + 2);
                }
                int[] strides = ints(node, "strides", spatial, 1);
                int[] dil = ints(node, "dilations", spatial, 1);
                int[] pads = ints(node, "pads", 2 * spatial, 0);
                String autoPad = stringAttr(node, "auto_pad", "");
                int group = (int) intAttr(node, "group", 1);
                int in = (int) (wt.elementCount() / wt.dim(0));
                return new LinearLayer(node, Kind.CONV, node.getInput(0), node.getOutput(0), null, w, bias,
                        (int) wt.dim(0), in, 1f, 1f, new ConvGeometry(group, kernel, strides, pads, dil, autoPad));
            }
            case "Gemm" -> {
                boolean tb = intAttr(node, "transB", 0) != 0;
                String bias = node.getInputCount() > 2 && !node.getInput(2).isEmpty() ? node.getInput(2) : null;
                int out = (int) (tb ? wt.dim(0) : wt.dim(1));
                int in = (int) (tb ? wt.dim(1) : wt.dim(0));
                return new LinearLayer(node, Kind.GEMM, node.getInput(0), node.getOutput(0), null, w, bias, out, in,
                        floatAttr(node, "alpha", 1f), floatAttr(node, "beta", 1f), null);
            }
            default -> {
                int in = (int) wt.dim(0);
                int out = (int) wt.dim(1);
                NodeProto add = null;
                String bias = null;
                String output = node.getOutput(0);
                List<NodeProto> cons = g.consumers(output);
                if (cons.size() == 1 && cons.get(0).getOpType().equals("Add") && cons.get(0).getDomain().isEmpty()
                        && !g.isGraphOutput(output)) {
                    NodeProto a = cons.get(0);
                    String other = a.getInput(0).equals(output) ? a.getInput(1) : a.getInput(0);
                    if (!other.equals(output) && g.isInitializer(other)) {
                        TensorData b = g.initializer(other);
                        if (b.type() == ElemType.FLOAT && b.elementCount() == out && b.dim(b.rank() - 1) == out
                                && usesOf(g, other) == 1) {
                            add = a;
                            bias = other;
                            output = a.getOutput(0);
                        }
                    }
                }
                return new LinearLayer(node, Kind.MATMUL, node.getInput(0), output, add, w, bias, out, in, 1f, 1f,
                        null);
            }
        }
    }

    /** All supported linear layers of the main graph, in topological order. */
    public static List<LinearLayer> findAll(Graph g) {
        List<LinearLayer> out = new ArrayList<>();
        for (NodeProto n : g.topologicalOrder()) {
            of(g, n).ifPresent(out::add);
        }
        return out;
    }

    public static List<LinearLayer> findAll(OnnxModel m) {
        return findAll(m.edit());
    }

    /** How many nodes (this graph and subgraph outer-scope reads) use a value. */
    public static int usesOf(Graph g, String value) {
        int n = 0;
        for (NodeProto c : g.consumers(value)) {
            for (String in : c.getInputList()) {
                if (in.equals(value)) {
                    n++;
                }
            }
            if (!c.getInputList().contains(value)) {
                n++; // read from inside a subgraph
            }
        }
        return n + (g.isGraphOutput(value) ? 1 : 0);
    }

    // ---------------------------------------------------------------- weights as a matrix

    /** W as {@code out x in} row-major, alpha applied. */
    public float[] weightMatrix(Graph g) {
        TensorData t = g.initializer(weight);
        float[] src = t.floats();
        float[] m;
        if (transposedStorage(g)) {
            m = new float[src.length];
            for (int i = 0; i < inFeatures; i++) {
                for (int o = 0; o < outFeatures; o++) {
                    m[o * inFeatures + i] = src[i * outFeatures + o];
                }
            }
        } else {
            m = src.clone();
        }
        if (alpha != 1f) {
            for (int i = 0; i < m.length; i++) {
                m[i] *= alpha;
            }
        }
        return m;
    }

    /** Whether the initializer stores W transposed ({@code in x out}): MatMul, Gemm with transB=0. */
    private boolean transposedStorage(Graph g) {
        return kind == Kind.MATMUL || (kind == Kind.GEMM && intAttr(node, "transB", 0) == 0);
    }

    /** The weight initializer holding {@code matrix} ({@code out x in}, alpha applied) in the layer's layout. */
    public TensorData withMatrix(Graph g, float[] matrix) {
        TensorData t = g.initializer(weight);
        if (matrix.length != t.elementCount()) {
            throw new IllegalArgumentException("matrix for layer " + name() + " has " + matrix.length
                    + " values, the weights have " + t.elementCount());
        }
        float[] dst = new float[matrix.length];
        if (transposedStorage(g)) {
            for (int i = 0; i < inFeatures; i++) {
                for (int o = 0; o < outFeatures; o++) {
                    dst[i * outFeatures + o] = matrix[o * inFeatures + i];
                }
            }
        } else {
            System.arraycopy(matrix, 0, dst, 0, dst.length);
        }
        if (alpha != 1f) {
            for (int i = 0; i < dst.length; i++) {
                dst[i] /= alpha;
            }
        }
        return TensorData.ofFloats(weight, t.shape(), dst);
    }

    /** The effective bias (beta applied), zeros when the layer has none. */
    public float[] biasVector(Graph g) {
        float[] b = new float[outFeatures];
        if (bias != null) {
            float[] src = g.initializer(bias).toFloatArray();
            for (int i = 0; i < outFeatures; i++) {
                b[i] = src[i] * beta;
            }
        }
        return b;
    }

    /**
     * Writes W and b into {@code g}: the weight initializer is replaced in place and the bias initializer updated,
     * or created and wired in when the layer had none (a MatMul gets a new Add). Returns the layer as now in the
     * graph.
     *
     * @throws IllegalStateException when the weight or bias initializer is shared with another node
     */
    public LinearLayer write(Graph g, float[] matrix, float[] biasValues) {
        if (usesOf(g, weight) != 1) {
            throw new IllegalStateException("weights '" + weight + "' of layer " + name() + " are shared with other nodes");
        }
        g.setInitializer(withMatrix(g, matrix));
        if (biasValues == null) {
            return this;
        }
        if (bias != null) {
            if (usesOf(g, bias) != 1) {
                throw new IllegalStateException("bias '" + bias + "' of layer " + name() + " is shared with other nodes");
            }
            TensorData old = g.initializer(bias);
            float[] stored = new float[outFeatures];
            for (int i = 0; i < outFeatures; i++) {
                stored[i] = beta == 0f ? 0f : biasValues[i] / beta;
            }
            if (beta == 0f) {
                throw new IllegalStateException("layer " + name() + " has beta=0; its bias cannot be set");
            }
            g.setInitializer(TensorData.ofFloats(bias, old.shape(), stored));
            return this;
        }
        String name = g.uniqueName(name().replaceAll("[^A-Za-z0-9_.]", "_") + ".bias");
        g.setInitializer(TensorData.ofFloats(name, new long[] {outFeatures}, biasValues.clone()));
        switch (kind) {
            case CONV, GEMM -> {
                NodeProto.Builder b = node.toBuilder();
                while (b.getInputCount() < 3) {
                    b.addInput("");
                }
                b.setInput(2, name);
                if (kind == Kind.GEMM) {
                    setFloatAttr(b, "beta", 1f);
                }
                NodeProto updated = b.build();
                g.replaceNode(node, updated);
                return new LinearLayer(updated, kind, input, output, null, weight, name, outFeatures, inFeatures, alpha,
                        1f, conv);
            }
            default -> {
                String mm = g.uniqueName(node.getOutput(0) + "_nobias");
                NodeProto newMm = node.toBuilder().setOutput(0, mm).build();
                NodeProto add = NodeProto.newBuilder().setOpType("Add").setName(g.uniqueName(name() + "_bias"))
                        .addInput(mm).addInput(name).addOutput(node.getOutput(0)).build();
                g.replaceNode(node, newMm, add);
                return new LinearLayer(newMm, kind, input, node.getOutput(0), add, weight, name, outFeatures,
                        inFeatures, 1f, 1f, null);
            }
        }
    }

    // ---------------------------------------------------------------- attribute helpers

    public static long intAttr(NodeProto n, String name, long dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return dflt;
    }

    public static float floatAttr(NodeProto n, String name, float dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return dflt;
    }

    public static String stringAttr(NodeProto n, String name, String dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getS().toStringUtf8();
            }
        }
        return dflt;
    }

    /** An INTS attribute, or {@code count} copies of {@code dflt} when absent. */
    public static int[] ints(NodeProto n, String name, int count, int dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                int[] out = new int[a.getIntsCount()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.toIntExact(a.getInts(i));
                }
                return out;
            }
        }
        int[] out = new int[count];
        java.util.Arrays.fill(out, dflt);
        return out;
    }

    public static Optional<AttributeProto> attr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    static void setFloatAttr(NodeProto.Builder b, String name, float value) {
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(name)) {
                b.setAttribute(i, b.getAttribute(i).toBuilder().setF(value));
                return;
            }
        }
        b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
                .setF(value));
    }

    /** A node with an INT attribute set (added when missing). */
    public static NodeProto withIntAttr(NodeProto n, String name, long value) {
        NodeProto.Builder b = n.toBuilder();
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(name)) {
                b.setAttribute(i, b.getAttribute(i).toBuilder().setI(value));
                return b.build();
            }
        }
        b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value));
        return b.build();
    }
}
