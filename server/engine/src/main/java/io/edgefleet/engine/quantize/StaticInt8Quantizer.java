package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QNodes.input;
import static io.edgefleet.engine.quantize.QNodes.intAttr;
import static io.edgefleet.engine.quantize.QNodes.node;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.quantize.calib.Calibrator;
import io.edgefleet.engine.quantize.calib.Range;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static int8 quantization in QDQ form. Activation ranges come from a calibration set (MinMax, Percentile or
 * Entropy); every activation entering or leaving a quantized op is wrapped in QuantizeLinear/DequantizeLinear with
 * uint8 asymmetric parameters, weights are int8 symmetric per output channel behind a DequantizeLinear, and
 * Conv/Gemm biases are int32 with scale {@code input_scale * weight_scale}, which is what ONNX Runtime's QDQ
 * selectors need to replace {@code DQ -> op -> Q} with QLinearConv, QGemm, QLinearMatMul, QLinearAdd, ...
 *
 * <p>A Relu (or Clip) that is the only consumer of a quantized op's output is not wrapped on its input: the Q goes
 * after it, with a range starting at 0, so ONNX Runtime folds the activation into the quantized kernel.
 */
public final class StaticInt8Quantizer {

    /** Ops wrapped in QDQ; ONNX Runtime has integer kernels for each of them on CPU. */
    static final Set<String> QUANTIZABLE = Set.of("Conv", "MatMul", "Gemm", "Add", "Mul", "GlobalAveragePool",
            "AveragePool", "MaxPool", "Concat");
    private static final Set<String> FOLDED_ACTIVATIONS = Set.of("Relu", "Clip");

    /**
     * @param method calibration method
     * @param perChannel per-output-channel weight scales (needs opset >= 13, per tensor below)
     * @param maxCalibrationSamples cap on calibration samples read
     * @param excluded node labels to leave in float (mixed precision)
     */
    public record Options(Calibrator.Method method, boolean perChannel, int maxCalibrationSamples, Set<String> excluded) {
        public Options {
            if (maxCalibrationSamples < 1) {
                throw new IllegalArgumentException("maxCalibrationSamples must be >= 1");
            }
            excluded = Set.copyOf(excluded);
        }

        public static Options of(Calibrator.Method method) {
            return new Options(method, true, 512, Set.of());
        }

        public Options excluding(Set<String> nodes) {
            return new Options(method, perChannel, maxCalibrationSamples, nodes);
        }

        public Options withMaxCalibrationSamples(int n) {
            return new Options(method, perChannel, n, excluded);
        }
    }

    private final Options options;

    public StaticInt8Quantizer(Options options) {
        this.options = options;
    }

    /** Calibrates on {@code calibration} and quantizes. */
    public QuantizationResult quantize(OnnxModel model, Dataset calibration) {
        model = prepare(model);
        Plan plan = plan(model, options.excluded);
        if (plan.nodes.isEmpty()) {
            return new QuantizationResult(model, plan.decisions);
        }
        Map<String, Range> ranges = Calibration.ranges(model, calibration, plan.tensors, options.method,
                options.maxCalibrationSamples);
        return apply(model, plan, ranges);
    }

    /**
     * Quantizes with ranges calibrated beforehand on {@link #prepare prepared} {@code model}; they must cover every
     * tensor {@link #tensorsToCalibrate} names.
     */
    public QuantizationResult quantize(OnnxModel preparedModel, Map<String, Range> ranges) {
        return apply(preparedModel, plan(preparedModel, options.excluded), ranges);
    }

    /** The float model the pass quantizes: BatchNormalization folded into the Conv before it. */
    public static OnnxModel prepare(OnnxModel model) {
        Graph g = model.edit();
        return BatchNormFolding.fold(g) > 0 ? g.toModel() : model;
    }

    /** Activations whose ranges quantizing a prepared model needs (all candidate nodes, nothing excluded). */
    public static List<String> tensorsToCalibrate(OnnxModel preparedModel) {
        return new ArrayList<>(plan(preparedModel, Set.of()).tensors);
    }

    /** Labels of the nodes this pass would quantize, in graph order. */
    public static List<String> candidateNodes(OnnxModel model) {
        return plan(model, Set.of()).nodes.stream().map(Graph::label).toList();
    }

    // ---------------------------------------------------------------- planning

    private static final class Plan {
        final List<NodeProto> nodes = new ArrayList<>();
        final Map<NodeProto, List<String>> activationInputs = new HashMap<>();
        final Set<String> tensors = new LinkedHashSet<>();
        final List<NodeDecision> decisions = new ArrayList<>();
        final Map<String, String> outputToQuantize = new HashMap<>(); // op output -> tensor that gets the Q
    }

    private static Plan plan(OnnxModel model, Set<String> excluded) {
        Graph g = model.edit();
        Plan p = new Plan();
        if (g.opsetVersion() < 10) {
            for (NodeProto n : g.nodes()) {
                if (QUANTIZABLE.contains(n.getOpType())) {
                    p.decisions.add(keep(n, "model opset " + g.opsetVersion() + " < 10 has no QuantizeLinear"));
                }
            }
            return p;
        }
        for (NodeProto n : g.nodes()) {
            if (!QNodes.defaultDomain(n) || !QUANTIZABLE.contains(n.getOpType())) {
                continue;
            }
            String label = Graph.label(n);
            if (excluded.contains(label)) {
                p.decisions.add(keep(n, "kept at higher precision by request (mixed precision)"));
                continue;
            }
            List<String> acts = new ArrayList<>();
            String why = activationInputs(g, n, acts);
            if (why != null) {
                p.decisions.add(keep(n, why));
                continue;
            }
            p.nodes.add(n);
            p.activationInputs.put(n, acts);
            p.tensors.addAll(acts);
            String out = n.getOutput(0);
            List<NodeProto> cons = g.consumers(out);
            String quantOut = out;
            if (cons.size() == 1 && FOLDED_ACTIVATIONS.contains(cons.get(0).getOpType()) && !g.isGraphOutput(out)
                    && QNodes.defaultDomain(cons.get(0))) {
                quantOut = cons.get(0).getOutput(0);
            }
            if (!g.isGraphOutput(quantOut)) {
                p.tensors.add(quantOut);
                p.outputToQuantize.put(out, quantOut);
            }
            p.decisions.add(new NodeDecision(label, n.getOpType(), "int8", "QDQ int8 (calibrated activations"
                    + (weightIndex(g, n) >= 0 ? ", int8 per-channel weights" : "") + ")"));
        }
        return p;
    }

    /** Fills the float activation inputs to wrap; returns a reason when the node cannot be quantized. */
    private static String activationInputs(Graph g, NodeProto n, List<String> acts) {
        int w = weightIndex(g, n);
        switch (n.getOpType()) {
            case "Conv", "Gemm" -> {
                if (!isConstFloat(g, input(n, 1))) {
                    return "weight is not a constant float32 initializer";
                }
            }
            default -> { }
        }
        if (n.getOpType().equals("Gemm") && QNodes.intAttr(n, "transA", 0) != 0) {
            return "Gemm with transA=1";
        }
        int limit = switch (n.getOpType()) {
            case "Conv", "Gemm" -> 1;
            case "Concat" -> n.getInputCount();
            case "MatMul", "Add", "Mul" -> 2;
            default -> 1;
        };
        for (int i = 0; i < limit; i++) {
            String in = input(n, i);
            if (i == w) {
                continue;
            }
            if (in.isEmpty()) {
                return "missing input " + i;
            }
            if (g.isInitializer(in) || g.constantValue(in).isPresent()) {
                return "input '" + in + "' is a constant (no integer kernel form for it here)";
            }
            ElemType t = g.elemType(in);
            if (t != ElemType.FLOAT && t != ElemType.UNDEFINED) {
                return "input '" + in + "' is " + t.displayName() + ", not float32";
            }
            acts.add(in);
        }
        return null;
    }

    /** Index of the constant weight input, or -1 (MatMul only when B is a constant 2-D float). */
    private static int weightIndex(Graph g, NodeProto n) {
        return switch (n.getOpType()) {
            case "Conv", "Gemm" -> 1;
            case "MatMul" -> isConstFloat(g, input(n, 1))
                    && g.initializerProto(input(n, 1)).orElseThrow().getDimsCount() == 2 ? 1 : -1;
            default -> -1;
        };
    }

    private static boolean isConstFloat(Graph g, String name) {
        return !name.isEmpty() && g.isInitializer(name) && !g.isGraphInput(name)
                && g.initializerProto(name).orElseThrow().getDataType() == ElemType.FLOAT.code();
    }

    private static NodeDecision keep(NodeProto n, String reason) {
        return new NodeDecision(Graph.label(n), n.getOpType(), "fp32", reason);
    }

    // ---------------------------------------------------------------- rewriting

    private QuantizationResult apply(OnnxModel model, Plan plan, Map<String, Range> ranges) {
        if (plan.nodes.isEmpty()) {
            return new QuantizationResult(model, plan.decisions);
        }
        Graph g = model.edit();
        boolean perChannel = options.perChannel && g.opsetVersion() >= 13;
        Map<String, QuantParams> actParams = new LinkedHashMap<>();
        for (String t : plan.tensors) {
            Range r = ranges.get(t);
            if (r == null) {
                throw new IllegalArgumentException("no calibrated range for tensor '" + t + "'");
            }
            actParams.put(t, QuantMath.asymmetric(r.min(), r.max(), QuantType.UINT8));
        }
        Map<String, String> dqOf = new HashMap<>();
        for (Map.Entry<String, QuantParams> e : actParams.entrySet()) {
            dqOf.put(e.getKey(), insertQdq(g, e.getKey(), e.getValue()));
        }
        Map<String, String[]> weightCache = new HashMap<>();
        for (NodeProto original : plan.nodes) {
            // nodes are immutable and were re-created when their inputs moved to DQ outputs: find them by output
            NodeProto n = g.producer(original.getOutput(0)).orElseThrow();
            String op = n.getOpType();
            if (weightIndex(g, n) < 0) {
                continue;
            }
            String w = input(n, 1);
            TensorData wt = g.initializer(w);
            int axis = switch (op) {
                case "Conv" -> 0;
                case "Gemm" -> QNodes.intAttr(n, "transB", 0) != 0 ? 0 : 1;
                default -> 1;
            };
            String key = w + "#" + axis;
            String[] wq = weightCache.get(key);
            if (wq == null) {
                QuantParams p = perChannel ? QuantMath.symmetricPerChannel(wt.floats(), wt.shape(), axis, QuantType.INT8)
                        : QuantMath.symmetricPerTensor(wt.floats(), QuantType.INT8);
                wq = insertWeightDq(g, w, wt, p, axis);
                weightCache.put(key, wq);
            }
            n = g.setInput(n, 1, wq[0]);
            String b = input(n, 2);
            boolean biasOk = !b.isEmpty() && isConstFloat(g, b) && (op.equals("Conv")
                    || (op.equals("Gemm") && QNodes.floatAttr(n, "beta", 1f) == 1f
                    && g.initializerProto(b).orElseThrow().getDimsCount() == 1));
            if (biasOk) {
                String x = input(original, 0);
                QuantParams xp = actParams.get(x);
                TensorData bt = g.initializer(b);
                float[] wScales = weightScales(g, wq);
                if (wScales.length == 1 || wScales.length == bt.elementCount()) {
                    n = g.setInput(n, 2, insertBiasDq(g, b, bt, xp.scale(), wScales));
                }
            }
        }
        g.removeDeadNodes();
        OnnxModel out = g.toModel().withMetadata("edgefleet.quantization",
                "static-int8-" + options.method.name().toLowerCase(java.util.Locale.ROOT));
        return new QuantizationResult(out, plan.decisions);
    }

    /** Wraps activation {@code t} in Q/DQ and points its main-graph consumers at the DQ output. */
    private static String insertQdq(Graph g, String t, QuantParams p) {
        String s = g.uniqueName(t + "_scale");
        String zp = g.uniqueName(t + "_zero_point");
        String q = g.uniqueName(t + "_quantized");
        String dq = g.uniqueName(t + "_dequantized");
        g.setInitializer(TensorData.scalar(s, p.scale()));
        g.setInitializer(TensorData.ofInts(zp, ElemType.UINT8, new long[0], new int[] {p.zeroPoint()}));
        List<NodeProto> consumers = g.consumers(t);
        NodeProto qn = node("QuantizeLinear", g.uniqueName(t + "_QuantizeLinear"), List.of(t, s, zp), List.of(q));
        NodeProto dqn = node("DequantizeLinear", g.uniqueName(t + "_DequantizeLinear"), List.of(q, s, zp), List.of(dq));
        g.addNode(qn);
        g.addNode(dqn);
        for (NodeProto c : consumers) {
            NodeProto cur = c;
            for (int i = 0; i < cur.getInputCount(); i++) {
                if (cur.getInput(i).equals(t)) {
                    cur = g.setInput(cur, i, dq);
                }
            }
        }
        return dq;
    }

    /** int8 weight + DequantizeLinear; returns {dqOutput, scaleInitializer}. */
    private static String[] insertWeightDq(Graph g, String w, TensorData wt, QuantParams p, int axis) {
        String q = g.uniqueName(w + "_int8");
        String s = g.uniqueName(w + "_scale");
        String zp = g.uniqueName(w + "_zero_point");
        String dq = g.uniqueName(w + "_dequantized");
        g.setInitializer(TensorData.ofInts(q, ElemType.INT8, wt.shape(), QuantMath.quantize(wt.floats(), wt.shape(), p)));
        int n = p.scales().length;
        if (p.perTensor()) {
            g.setInitializer(TensorData.scalar(s, p.scale()));
            g.setInitializer(TensorData.ofInts(zp, ElemType.INT8, new long[0], new int[] {0}));
            g.addNode(node("DequantizeLinear", g.uniqueName(w + "_DequantizeLinear"), List.of(q, s, zp), List.of(dq)));
        } else {
            g.setInitializer(TensorData.ofFloats(s, new long[] {n}, p.scales().clone()));
            g.setInitializer(TensorData.ofInts(zp, ElemType.INT8, new long[] {n}, new int[n]));
            g.addNode(node("DequantizeLinear", g.uniqueName(w + "_DequantizeLinear"), List.of(q, s, zp), List.of(dq),
                    intAttr("axis", axis)));
        }
        return new String[] {dq, s};
    }

    private static float[] weightScales(Graph g, String[] wq) {
        return g.initializer(wq[1]).floats();
    }

    private static String insertBiasDq(Graph g, String b, TensorData bt, float inputScale, float[] wScales) {
        int[] q = QuantMath.quantizeBias(bt.floats(), inputScale, wScales);
        float[] scales = QuantMath.biasScales(inputScale, wScales);
        String qn = g.uniqueName(b + "_int32");
        String s = g.uniqueName(b + "_scale");
        String zp = g.uniqueName(b + "_zero_point");
        String dq = g.uniqueName(b + "_dequantized");
        g.setInitializer(TensorData.ofInts(qn, ElemType.INT32, bt.shape(), q));
        if (scales.length == 1) {
            g.setInitializer(TensorData.scalar(s, scales[0]));
            g.setInitializer(TensorData.ofInts(zp, ElemType.INT32, new long[0], new int[] {0}));
            g.addNode(node("DequantizeLinear", g.uniqueName(b + "_DequantizeLinear"), List.of(qn, s, zp), List.of(dq)));
        } else {
            g.setInitializer(TensorData.ofFloats(s, new long[] {scales.length}, scales));
            g.setInitializer(TensorData.ofInts(zp, ElemType.INT32, new long[] {scales.length}, new int[scales.length]));
            g.addNode(node("DequantizeLinear", g.uniqueName(b + "_DequantizeLinear"), List.of(qn, s, zp), List.of(dq),
                    intAttr("axis", 0)));
        }
        return dq;
    }
}
