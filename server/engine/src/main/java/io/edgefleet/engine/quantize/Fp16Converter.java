package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QNodes.input;
import static io.edgefleet.engine.quantize.QNodes.intAttr;
import static io.edgefleet.engine.quantize.QNodes.node;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Float16 variant: weights stored as float16 everywhere, compute in float16 for the ops ONNX Runtime's CPU provider
 * has float16 kernels for, float32 elsewhere; graph inputs and outputs stay float32 (Casts at the boundaries).
 *
 * <p>Which ops have float16 CPU kernels depends on the ONNX Runtime build and the CPU (x86 builds have few), so it
 * is found out, not assumed: the converted model is loaded, and an op type ONNX Runtime reports as not implemented
 * for float16 goes back to float32 until the model loads. Answers are cached per op type and opset. Float32 ops keep
 * reading float16-stored weights through a Cast that ONNX Runtime folds at load time, so the file is half the size
 * either way.
 */
public final class Fp16Converter {

    /** Ops never computed in float16: control flow (bodies are not converted) and ops that must see float32. */
    private static final Set<String> NEVER = Set.of("If", "Loop", "Scan", "Range", "RandomNormal", "RandomUniform",
            "RandomNormalLike", "RandomUniformLike", "Multinomial", "EyeLike");
    /** Inputs that are float32 whatever the data type (Resize's roi and scales). */
    private static final Map<String, Set<Integer>> FIXED_FLOAT_INPUTS = Map.of("Resize", Set.of(1, 2),
            "Upsample", Set.of(1));
    private static final Pattern NOT_IMPLEMENTED =
            Pattern.compile("Could not find an implementation for (\\w+)\\((\\d+)\\) node with name '([^']*)'");
    /** (opType#opset) -> whether ORT CPU runs it in float16, learned from one-node probes. */
    private static final Map<String, Boolean> KERNEL_CACHE = new ConcurrentHashMap<>();

    /** Smallest initializer stored as float16 when its reader stays float32 (tiny ones are not worth a Cast). */
    private final long minStoredElements;
    /** False: every op computes in float32 and only the stored weights are float16 ({@link #storageOnly()}). */
    private final boolean halfCompute;

    public Fp16Converter() {
        this(16);
    }

    public Fp16Converter(long minStoredElements) {
        this(minStoredElements, true);
    }

    private Fp16Converter(long minStoredElements, boolean halfCompute) {
        this.minStoredElements = minStoredElements;
        this.halfCompute = halfCompute;
    }

    /**
     * Weights stored as float16, every op computed in float32: ONNX Runtime folds the weight Casts when it loads the
     * model, so the file (and the download) is half the size while run time and results are those of the float model
     * with float16-rounded weights. For CPUs without float16 arithmetic, where {@link #convert} mostly adds Casts.
     */
    public static Fp16Converter storageOnly() {
        return new Fp16Converter(16, false);
    }

    public QuantizationResult convert(OnnxModel model) {
        Map<String, ElemType> types = inferTypes(model);
        Graph probe = model.edit();
        int opset = probe.opsetVersion();
        Set<String> fallback = new HashSet<>();
        for (NodeProto n : probe.nodes()) {
            if (!QNodes.defaultDomain(n) || NEVER.contains(n.getOpType())) {
                continue;
            }
            if (!halfCompute) {
                fallback.add(n.getOpType());
                continue;
            }
            String key = n.getOpType() + "#" + opset;
            Boolean ok = KERNEL_CACHE.get(key);
            if (ok == null) {
                ok = hasHalfKernel(probe, n, types);
                if (ok != null) {
                    KERNEL_CACHE.put(key, ok);
                }
            }
            if (!Boolean.TRUE.equals(ok)) {
                fallback.add(n.getOpType());
            }
        }
        Build b = build(model, types, fallback);
        String missing = unsupportedOp(b.model);
        if (missing != null) {
            throw new IllegalStateException("ONNX Runtime has no float16 kernel for " + missing
                    + " although the probe found one");
        }
        List<NodeDecision> decisions = new ArrayList<>();
        for (NodeProto n : probe.nodes()) {
            if (!b.floatNodes.contains(Graph.label(n))) {
                continue;
            }
            boolean half = b.fp16Ops.contains(n.getOpType());
            decisions.add(new NodeDecision(Graph.label(n), n.getOpType(), half ? "fp16" : "fp32",
                    half ? "float16 compute and weights"
                            : !halfCompute ? "float32 compute (storage-only mode); weights stored float16"
                            : NEVER.contains(n.getOpType()) || !QNodes.defaultDomain(n)
                                    ? "kept float32 (control flow or float32-only op); weights stored float16"
                                    : "ONNX Runtime CPU has no float16 kernel for " + n.getOpType()
                                            + " here; float32 compute, weights stored float16"));
        }
        return new QuantizationResult(b.model, decisions);
    }

    /**
     * Whether ONNX Runtime's CPU provider runs {@code n}'s op type in float16: a one-node model with float16 inputs
     * is loaded, and ORT marks its own fallback with Casts named {@code InsertedPrecisionFreeCast_*}. Null when the
     * probe cannot be built (then the op stays float32).
     */
    private static Boolean hasHalfKernel(Graph g, NodeProto n, Map<String, ElemType> types) {
        var mb = ai.onnx.proto.OnnxMl.ModelProto.newBuilder().setIrVersion(g.toModel().irVersion());
        for (var e : g.toModel().opsetImports().entrySet()) {
            mb.addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain(e.getKey())
                    .setVersion(e.getValue()));
        }
        var gb = mb.getGraphBuilder().setName("probe");
        NodeProto.Builder nb = n.toBuilder();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            String v = n.getInput(i);
            if (v.isEmpty() || !seen.add(v)) {
                continue;
            }
            ElemType t = types.getOrDefault(v, ElemType.UNDEFINED);
            boolean fixed = FIXED_FLOAT_INPUTS.getOrDefault(n.getOpType(), Set.of()).contains(i);
            ElemType fed = t == ElemType.FLOAT && !fixed ? ElemType.FLOAT16 : t;
            if (fed == ElemType.UNDEFINED) {
                return null;
            }
            if (g.isInitializer(v)) {
                TensorData init = g.initializer(v);
                gb.addInitializer(Tensors.toProto(fed == ElemType.FLOAT16
                        ? TensorData.ofFloat16(v, init.shape(), init.floats()) : init));
            } else {
                gb.addInput(io.edgefleet.engine.onnx.ValueInfo.tensor(v, fed, null).toProto());
            }
        }
        retypeAttributes(nb);
        gb.addNode(nb);
        for (String o : n.getOutputList()) {
            if (!o.isEmpty()) {
                gb.addOutput(ValueInfoProto.newBuilder().setName(o));
            }
        }
        java.nio.file.Path tmp = null;
        try {
            tmp = java.nio.file.Files.createTempFile("fp16-probe", ".onnx");
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
                o.setOptimizedModelFilePath(tmp.toString());
                try (OrtSession s = OrtEnvironment.getEnvironment().createSession(mb.build().toByteArray(), o)) {
                    s.getNumInputs();
                }
            }
            var opt = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(java.nio.file.Files.readAllBytes(tmp));
            for (NodeProto x : opt.getGraph().getNodeList()) {
                if (x.getName().startsWith("InsertedPrecisionFreeCast")) {
                    return false;
                }
            }
            return true;
        } catch (OrtException e) {
            return NOT_IMPLEMENTED.matcher(String.valueOf(e.getMessage())).find() ? false : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        } finally {
            if (tmp != null) {
                try {
                    java.nio.file.Files.deleteIfExists(tmp);
                } catch (java.io.IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    private static final class Build {
        OnnxModel model;
        final Set<String> fp16Ops = new LinkedHashSet<>();
        final Set<String> floatNodes = new HashSet<>();
    }

    private Build build(OnnxModel model, Map<String, ElemType> types, Set<String> fallback) {
        Graph g = model.edit();
        Build b = new Build();
        Set<String> graphOutputs = new HashSet<>();
        for (var o : g.outputs()) {
            graphOutputs.add(o.name());
        }
        // decide per node
        Set<NodeProto> half = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (NodeProto n : g.nodes()) {
            boolean touchesFloat = false;
            for (String v : n.getInputList()) {
                touchesFloat |= types.get(v) == ElemType.FLOAT;
            }
            for (String v : n.getOutputList()) {
                touchesFloat |= types.get(v) == ElemType.FLOAT;
            }
            if (!touchesFloat) {
                continue;
            }
            b.floatNodes.add(Graph.label(n));
            if (QNodes.defaultDomain(n) && !NEVER.contains(n.getOpType()) && !fallback.contains(n.getOpType())) {
                half.add(n);
                b.fp16Ops.add(n.getOpType());
            }
        }
        Map<String, String> halfName = new HashMap<>(); // float value -> its float16 twin
        Map<String, String> halfInit = new HashMap<>();
        List<NodeProto> extra = new ArrayList<>();
        // 1. half nodes write float16 twins of their float outputs
        for (NodeProto n : half) {
            for (String out : n.getOutputList()) {
                if (types.get(out) == ElemType.FLOAT) {
                    halfName.put(out, g.uniqueName(out + "_fp16"));
                }
            }
        }
        Map<String, String> castToHalf = new HashMap<>();
        for (NodeProto n : g.nodes()) {
            boolean isHalf = half.contains(n);
            NodeProto.Builder nb = n.toBuilder();
            Set<Integer> fixed = FIXED_FLOAT_INPUTS.getOrDefault(n.getOpType(), Set.of());
            for (int i = 0; i < n.getInputCount(); i++) {
                String v = n.getInput(i);
                if (v.isEmpty() || types.get(v) != ElemType.FLOAT) {
                    continue;
                }
                boolean wantHalf = isHalf && !fixed.contains(i);
                if (g.isInitializer(v) && !g.isGraphInput(v)) {
                    TensorData t = g.initializer(v);
                    if (wantHalf) {
                        nb.setInput(i, halfInit.computeIfAbsent(v, k -> storeHalf(g, t)));
                    } else if (t.elementCount() >= minStoredElements) {
                        // float32 reader: keep the bytes in float16 and let ORT fold the Cast back at load
                        String h = halfInit.computeIfAbsent(v, k -> storeHalf(g, t));
                        String back = castToHalf.computeIfAbsent(h + "#f32", k -> {
                            String name = g.uniqueName(v + "_from_fp16");
                            extra.add(node("Cast", g.uniqueName(name + "_Cast"), List.of(h), List.of(name), intAttr("to", 1)));
                            return name;
                        });
                        nb.setInput(i, back);
                    }
                } else if (wantHalf) {
                    String twin = halfName.get(v);
                    if (twin == null) {
                        twin = castToHalf.computeIfAbsent(v, k -> {
                            String name = g.uniqueName(v + "_to_fp16");
                            extra.add(node("Cast", g.uniqueName(name + "_Cast"), List.of(v), List.of(name), intAttr("to", 10)));
                            return name;
                        });
                    }
                    nb.setInput(i, twin);
                }
            }
            if (isHalf) {
                for (int i = 0; i < n.getOutputCount(); i++) {
                    String twin = halfName.get(n.getOutput(i));
                    if (twin != null) {
                        nb.setOutput(i, twin);
                    }
                }
                retypeAttributes(nb);
            }
            g.replaceNode(n, nb.build());
        }
        // 2. float32 readers of a half node's output (fp32 nodes, subgraphs, graph outputs) get a Cast back
        for (Map.Entry<String, String> e : halfName.entrySet()) {
            String v = e.getKey();
            boolean needed = graphOutputs.contains(v) || !g.consumers(v).isEmpty();
            if (needed) {
                extra.add(node("Cast", g.uniqueName(v + "_to_fp32"), List.of(e.getValue()), List.of(v), intAttr("to", 1)));
            }
        }
        for (NodeProto n : extra) {
            g.addNode(n);
        }
        // value_info entries of converted values would now lie about their type
        for (String v : halfName.keySet()) {
            g.removeValueInfo(v);
        }
        g.removeDeadNodes();
        b.model = g.toModel().withMetadata("edgefleet.quantization", halfCompute ? "fp16" : "fp16-storage");
        return b;
    }

    private static String storeHalf(Graph g, TensorData t) {
        String name = g.uniqueName(t.name() + "_fp16");
        g.setInitializer(TensorData.ofFloat16(name, t.shape(), saturate(t.floats())));
        return name;
    }

    /**
     * Finite values beyond the float16 range saturate to +-65504 instead of becoming infinities: exported masks use
     * float32's lowest value as "minus infinity" and multiply it by 0, which gives NaN once it is a real infinity.
     */
    static float[] saturate(float[] v) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            if (Float.isFinite(out[i]) && Math.abs(out[i]) > 65504f) {
                out[i] = Math.copySign(65504f, out[i]);
            }
        }
        return out;
    }

    /** Cast-to-float becomes cast-to-half and float constants become half inside a float16 node. */
    private static void retypeAttributes(NodeProto.Builder nb) {
        for (int i = 0; i < nb.getAttributeCount(); i++) {
            AttributeProto a = nb.getAttribute(i);
            if (nb.getOpType().equals("Cast") && a.getName().equals("to") && a.getI() == ElemType.FLOAT.code()) {
                nb.setAttribute(i, a.toBuilder().setI(ElemType.FLOAT16.code()));
            } else if (a.hasT() && a.getT().getDataType() == ElemType.FLOAT.code()
                    && (nb.getOpType().equals("Constant") || nb.getOpType().equals("ConstantOfShape"))) {
                TensorData t = Tensors.fromProto(a.getT());
                nb.setAttribute(i, a.toBuilder().setT(Tensors.toProto(
                        TensorData.ofFloat16(a.getT().getName(), t.shape(), saturate(t.floats())))));
            }
        }
    }

    /** The op type ONNX Runtime cannot run as built, or null when the model loads. */
    private static String unsupportedOp(OnnxModel m) {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(m.toBytes(), o)) {
                return null;
            }
        } catch (OrtException e) {
            Matcher mt = NOT_IMPLEMENTED.matcher(String.valueOf(e.getMessage()));
            if (mt.find()) {
                return mt.group(1);
            }
            throw new IllegalStateException("ONNX Runtime refused the float16 model: " + e.getMessage(), e);
        }
    }

    /** Ranks of the named main-graph values as ONNX Runtime infers them; values of unknown rank are left out. */
    static Map<String, Integer> inferRanks(OnnxModel model, Set<String> values) {
        var b = model.proto().toBuilder();
        Set<String> declared = new HashSet<>();
        for (ValueInfoProto v : b.getGraph().getOutputList()) {
            declared.add(v.getName());
        }
        for (String v : values) {
            if (declared.add(v)) {
                b.getGraphBuilder().addOutput(ValueInfoProto.newBuilder().setName(v));
            }
        }
        Map<String, Integer> ranks = new HashMap<>();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(b.build().toByteArray(), o)) {
                for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
                    // ORT reports an empty shape when it did not infer one: that is "unknown", not a scalar
                    if (values.contains(e.getKey()) && e.getValue().getInfo() instanceof TensorInfo ti
                            && ti.getShape().length > 0) {
                        ranks.put(e.getKey(), ti.getShape().length);
                    }
                }
            }
        } catch (OrtException e) {
            return Map.of();
        }
        return ranks;
    }

    /**
     * Element types of every value of the main graph, as ONNX Runtime infers them: the model is loaded once with all
     * values exposed as outputs, and their types read back.
     */
    static Map<String, ElemType> inferTypes(OnnxModel model) {
        Graph g = model.edit();
        Set<String> values = new LinkedHashSet<>();
        Map<String, ElemType> types = new LinkedHashMap<>();
        for (String init : g.initializerNames()) {
            types.put(init, ElemType.fromCode(g.initializerProto(init).orElseThrow().getDataType()));
        }
        for (var in : g.inputs()) {
            types.put(in.name(), in.type());
        }
        for (NodeProto n : g.nodes()) {
            for (String o : n.getOutputList()) {
                if (!o.isEmpty()) {
                    values.add(o);
                }
            }
        }
        var b = model.proto().toBuilder();
        Set<String> declared = new HashSet<>();
        for (ValueInfoProto v : b.getGraph().getOutputList()) {
            declared.add(v.getName());
        }
        for (String v : values) {
            if (declared.add(v)) {
                b.getGraphBuilder().addOutput(ValueInfoProto.newBuilder().setName(v));
            }
        }
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(b.build().toByteArray(), o)) {
                for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
                    if (e.getValue().getInfo() instanceof TensorInfo ti) {
                        types.put(e.getKey(), switch (ti.type) {
                            case FLOAT -> ElemType.FLOAT;
                            case FLOAT16 -> ElemType.FLOAT16;
                            case DOUBLE -> ElemType.DOUBLE;
                            case INT64 -> ElemType.INT64;
                            case INT32 -> ElemType.INT32;
                            case BOOL -> ElemType.BOOL;
                            case INT8 -> ElemType.INT8;
                            case UINT8 -> ElemType.UINT8;
                            default -> ElemType.UNDEFINED;
                        });
                    }
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load the model to infer types: " + e.getMessage(), e);
        }
        return types;
    }
}
