package io.edgefleet.engine.prune;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.recalib.LinearLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Channel dependency analysis of a model's main graph: which channels are coupled, what must change in the graph
 * when a channel goes, and where pruning is unsafe.
 *
 * <p>Every layer with constant weights (Conv, Gemm, MatMul with a rank-2 initializer) starts a fresh set of output
 * channels (an <em>atom</em>). The analysis follows each atom forward through the ops it understands: element-wise
 * ops (atoms of the operands are merged: a residual {@code Add} couples both branches), BatchNorm and other
 * per-channel parameters (sliced with the channels), pooling, reductions and transposes (the channel axis moves),
 * {@code Concat} (the channel space becomes a list of segments), {@code Flatten}/{@code Reshape} into features
 * (each channel becomes a block of features), depthwise convolutions (pass-through) and grouped convolutions
 * (balanced removal per group). It stops at consumer layers, whose input columns are sliced.
 *
 * <p>Anything it cannot follow blocks the atoms involved, with the reason: an op it does not know, a reshape that
 * splits the channel axis, a non-constant operand with the same channels (e.g. the graph input feeding a residual
 * Add), a value read by an If/Loop body, a graph output, a shared initializer. Blocked groups are left whole, so the
 * written model is never inconsistent.
 *
 * <p>Shapes of intermediate values come from a run of ONNX Runtime ({@link OrtRunner#probeShapes}); the batch
 * dimension is whatever the probe used.
 */
public final class ChannelAnalysis {

    /** {@code count} channels of atom {@code atom}, each expanded into {@code inner} consecutive entries. */
    record Segment(int atom, int count, int inner) {
        int width() {
            return count * inner;
        }
    }

    /** The channel layout of a value: along {@code axis}, the concatenation of the segments. */
    record Space(int axis, List<Segment> segments) {
        Space {
            segments = List.copyOf(segments);
        }

        int width() {
            int w = 0;
            for (Segment s : segments) {
                w += s.width();
            }
            return w;
        }

        Space withAxis(int a) {
            return new Space(a, segments);
        }

        Space expanded(int factor) {
            List<Segment> out = new ArrayList<>();
            for (Segment s : segments) {
                out.add(new Segment(s.atom, s.count, s.inner * factor));
            }
            return new Space(axis, out);
        }

        boolean sameStructure(Space o) {
            if (segments.size() != o.segments.size()) {
                return false;
            }
            for (int i = 0; i < segments.size(); i++) {
                Segment a = segments.get(i);
                Segment b = o.segments.get(i);
                if (a.count != b.count || a.inner != b.inner) {
                    return false;
                }
            }
            return true;
        }
    }

    /** One change the pruner makes when channels go. */
    sealed interface Edit permits SliceEdit, GroupedSliceEdit, GroupAttrEdit, ReshapeEdit, ValueEdit {
    }

    /** Keep the space's surviving indices of initializer {@code init} along {@code axis}. */
    record SliceEdit(String init, int axis, Space space) implements Edit {
    }

    /** Grouped convolution weights {@code [O, I/groups, ...]}: per output block keep that group's surviving inputs. */
    record GroupedSliceEdit(String init, int groups, Space space) implements Edit {
    }

    /** Depthwise convolution (producing {@code output}): {@code group} becomes the new channel count. */
    record GroupAttrEdit(String output, Space space) implements Edit {
    }

    /** Reshape target {@code shapeInit}: entry {@code position} becomes the new width of {@code space}. */
    record ReshapeEdit(String shapeInit, int position, Space space) implements Edit {
    }

    /** value_info of {@code value}: dimension {@code space.axis} becomes the new width. */
    record ValueEdit(String value, Space space) implements Edit {
    }

    /** A producer layer of an atom: output rows {@code weight} along {@code axis}. */
    record Producer(String label, String weight, int axis) {
    }

    /** A consumer layer: input features of {@code weight} along {@code axis}, this atom at {@code offset}. */
    record Consumer(String label, String input, String weight, int axis, int offset, int inner) {
    }

    /** A BatchNormalization reading the atom at {@code offset} of its input channels. */
    record Norm(String label, String scale, String var, float epsilon, int offset) {
    }

    /** A value carrying the atom at {@code offset} (entries) along {@code axis}, channels expanded by {@code inner}. */
    record Member(String value, int axis, int offset, int inner) {
    }

    private static final Set<String> UNARY = Set.of("Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid",
            "HardSwish", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Gelu", "Mish", "Erf", "Exp", "Log", "Sqrt",
            "Reciprocal", "Neg", "Abs", "Identity", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Cast",
            "ThresholdedRelu", "Shrink", "Not", "IsNaN", "IsInf");
    private static final Set<String> BINARY = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
            "PRelu", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Where", "Mod",
            "BitShift");
    private static final Set<String> SPATIAL_POOL = Set.of("MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
            "GlobalMaxPool", "GlobalLpPool");
    private static final Set<String> REDUCE = Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
            "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare");

    private final OnnxModel model;
    private final Graph g;
    private final Map<String, long[]> shapes;
    private final Map<String, Space> spaces = new LinkedHashMap<>();
    private final List<Edit> edits = new ArrayList<>();

    // Atoms, with union-find over them.
    private final List<Integer> parent = new ArrayList<>();
    private final List<Integer> counts = new ArrayList<>();
    private final List<Integer> blockCounts = new ArrayList<>();
    private final List<List<String>> reasons = new ArrayList<>();
    private final List<List<Producer>> producers = new ArrayList<>();
    private final List<List<Consumer>> consumers = new ArrayList<>();
    private final List<List<Norm>> norms = new ArrayList<>();
    private final List<List<Member>> members = new ArrayList<>();

    private ChannelAnalysis(OnnxModel model, Map<String, long[]> shapes) {
        this.model = model;
        this.g = model.edit();
        this.shapes = shapes;
    }

    /** Analyses with shapes probed by one ONNX Runtime run on synthetic inputs (batch 1). */
    public static ChannelAnalysis analyze(OnnxModel model) {
        return analyze(model, OrtRunner.probeShapes(model, OrtRunner.syntheticFeeds(model),
                OrtRunner.Options.defaults()));
    }

    /** @param shapes actual shapes of the main graph's values, as {@link OrtRunner#probeShapes} returns them */
    public static ChannelAnalysis analyze(OnnxModel model, Map<String, long[]> shapes) {
        ChannelAnalysis a = new ChannelAnalysis(model, shapes);
        a.run();
        return a;
    }

    public OnnxModel model() {
        return model;
    }

    public Map<String, long[]> shapes() {
        return shapes;
    }

    // ---------------------------------------------------------------- results

    /** One group per set of coupled channels, in order of first appearance. */
    public List<ChannelGroup> groups() {
        Map<Integer, List<Integer>> byRoot = new TreeMap<>();
        for (int a = 0; a < parent.size(); a++) {
            byRoot.computeIfAbsent(find(a), k -> new ArrayList<>()).add(a);
        }
        List<ChannelGroup> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : byRoot.entrySet()) {
            int root = e.getKey();
            Set<String> prod = new LinkedHashSet<>();
            Set<String> cons = new LinkedHashSet<>();
            Set<String> vals = new LinkedHashSet<>();
            for (int a : e.getValue()) {
                producers.get(a).forEach(p -> prod.add(p.label()));
                consumers.get(a).forEach(c -> cons.add(c.label()));
                members.get(a).forEach(m -> vals.add(m.value()));
            }
            out.add(new ChannelGroup(root, counts.get(root), blockCounts.get(root), new ArrayList<>(prod),
                    new ArrayList<>(cons), new ArrayList<>(vals), new ArrayList<>(new LinkedHashSet<>(reasons.get(root)))));
        }
        return out;
    }

    public ChannelGroup group(int id) {
        return groups().stream().filter(x -> x.id() == id).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no channel group " + id));
    }

    public List<ChannelGroup> prunableGroups() {
        return groups().stream().filter(ChannelGroup::prunable).toList();
    }

    List<Edit> edits() {
        return edits;
    }

    Map<String, Space> spaces() {
        return spaces;
    }

    int find(int a) {
        while (parent.get(a) != a) {
            parent.set(a, parent.get(parent.get(a)));
            a = parent.get(a);
        }
        return a;
    }

    private List<Integer> atomsOf(int root) {
        List<Integer> out = new ArrayList<>();
        for (int a = 0; a < parent.size(); a++) {
            if (find(a) == root) {
                out.add(a);
            }
        }
        return out;
    }

    List<Producer> producersOf(int root) {
        List<Producer> out = new ArrayList<>();
        atomsOf(root).forEach(a -> out.addAll(producers.get(a)));
        return out;
    }

    List<Consumer> consumersOf(int root) {
        List<Consumer> out = new ArrayList<>();
        atomsOf(root).forEach(a -> out.addAll(consumers.get(a)));
        return out;
    }

    List<Norm> normsOf(int root) {
        List<Norm> out = new ArrayList<>();
        atomsOf(root).forEach(a -> out.addAll(norms.get(a)));
        return out;
    }

    List<Member> membersOf(int root) {
        List<Member> out = new ArrayList<>();
        atomsOf(root).forEach(a -> out.addAll(members.get(a)));
        return out;
    }

    // ---------------------------------------------------------------- atoms

    private int newAtom(int count, int blocks) {
        int id = parent.size();
        parent.add(id);
        counts.add(count);
        blockCounts.add(Math.max(1, blocks));
        reasons.add(new ArrayList<>());
        producers.add(new ArrayList<>());
        consumers.add(new ArrayList<>());
        norms.add(new ArrayList<>());
        members.add(new ArrayList<>());
        return id;
    }

    private void union(int a, int b) {
        int ra = find(a);
        int rb = find(b);
        if (ra == rb) {
            return;
        }
        int root = Math.min(ra, rb);
        int other = Math.max(ra, rb);
        parent.set(other, root);
        blockCounts.set(root, lcm(blockCounts.get(root), blockCounts.get(other)));
        reasons.get(root).addAll(reasons.get(other));
        if (!counts.get(root).equals(counts.get(other))) {
            reasons.get(root).add("internal: merged channel sets of different sizes");
        }
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    private void block(Space s, String reason) {
        if (s == null) {
            return;
        }
        for (Segment seg : s.segments) {
            reasons.get(find(seg.atom)).add(reason);
        }
    }

    private void blockInputs(NodeProto n, String reason) {
        for (String d : Graph.dependencies(n)) {
            block(spaces.get(d), reason);
        }
    }

    private void setSpace(String value, Space s) {
        spaces.put(value, s);
        int off = 0;
        for (Segment seg : s.segments) {
            members.get(seg.atom).add(new Member(value, s.axis, off, seg.inner));
            off += seg.width();
        }
        edits.add(new ValueEdit(value, s));
    }

    // ---------------------------------------------------------------- the walk

    private void run() {
        for (NodeProto n : g.topologicalOrder()) {
            visit(n);
        }
        for (var out : g.outputs()) {
            block(spaces.get(out.name()), "value '" + out.name() + "' is a graph output (the model's interface stays)");
        }
    }

    private void visit(NodeProto n) {
        String label = Graph.label(n);
        boolean anyIn = false;
        for (String d : Graph.dependencies(n)) {
            anyIn |= spaces.containsKey(d);
        }
        if (!Graph.subgraphAttributes(n).isEmpty()) {
            blockInputs(n, "read by control-flow node " + label + " (" + n.getOpType()
                    + " bodies are not rewritten)");
            return;
        }
        boolean defaultDomain = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
        if (!defaultDomain) {
            blockInputs(n, "operator " + n.getDomain() + ":" + n.getOpType() + " (" + label
                    + ") is not understood by the channel analysis");
            return;
        }
        String op = n.getOpType();
        try {
            switch (op) {
                case "Conv" -> conv(n, label);
                case "Gemm" -> gemm(n, label);
                case "MatMul" -> matMul(n, label);
                default -> {
                    if (!anyIn) {
                        return;
                    }
                    if (UNARY.contains(op) || op.equals("Dropout") || op.equals("Clip")) {
                        unary(n, label);
                    } else if (BINARY.contains(op)) {
                        elementwise(n, label);
                    } else if (op.equals("BatchNormalization") || op.equals("InstanceNormalization")) {
                        norm(n, label);
                    } else if (SPATIAL_POOL.contains(op)) {
                        pool(n, label);
                    } else if (REDUCE.contains(op)) {
                        reduce(n, label);
                    } else {
                        switch (op) {
                            case "Flatten" -> flatten(n, label);
                            case "Reshape" -> reshape(n, label);
                            case "Transpose" -> transpose(n, label);
                            case "Squeeze", "Unsqueeze" -> squeeze(n, label);
                            case "Concat" -> concat(n, label);
                            case "Softmax", "LogSoftmax", "Hardmax" -> softmax(n, label);
                            case "Pad" -> pad(n, label);
                            case "Resize", "Upsample" -> resize(n, label);
                            case "Split" -> split(n, label);
                            case "Slice" -> slice(n, label);
                            case "LayerNormalization" -> layerNorm(n, label);
                            default -> blockInputs(n, "operator " + op + " (" + label
                                    + ") is not understood by the channel analysis");
                        }
                    }
                }
            }
        } catch (UnknownShape e) {
            blockInputs(n, "shape of '" + e.getMessage() + "' is unknown at " + label);
        }
    }

    private static final class UnknownShape extends RuntimeException {
        UnknownShape(String value) {
            super(value, null, false, false);
        }
    }

    private long[] shape(String value) {
        long[] s = shapes.get(value);
        if (s == null) {
            throw new UnknownShape(value);
        }
        return s;
    }

    private int rank(String value) {
        return shape(value).length;
    }

    private Space in(NodeProto n, int i) {
        return i < n.getInputCount() ? spaces.get(n.getInput(i)) : null;
    }

    /** Blocks every spaced input except input {@code allowed} (e.g. weights fed from activations). */
    private boolean onlyInputZeroSpaced(NodeProto n, String label) {
        boolean ok = true;
        for (int i = 1; i < n.getInputCount(); i++) {
            if (spaces.containsKey(n.getInput(i))) {
                block(spaces.get(n.getInput(i)), "value '" + n.getInput(i) + "' feeds parameter input " + i + " of "
                        + label);
                ok = false;
            }
        }
        return ok;
    }

    /** Why initializer {@code init} cannot be sliced, or null when it can. */
    private String sliceProblem(String init) {
        if (!g.isInitializer(init)) {
            return "'" + init + "' is not an initializer";
        }
        if (g.isGraphInput(init)) {
            return "initializer '" + init + "' is also a graph input (callers may override it)";
        }
        if (LinearLayer.usesOf(g, init) != 1) {
            return "initializer '" + init + "' is shared by several nodes";
        }
        return null;
    }

    private void slice(String init, int axis, Space s, String label) {
        String problem = sliceProblem(init);
        if (problem != null) {
            block(s, problem + " (at " + label + ")");
            return;
        }
        edits.add(new SliceEdit(init, axis, s));
    }

    // ---------------------------------------------------------------- layers

    private void conv(NodeProto n, String label) {
        Space s = in(n, 0);
        if (!onlyInputZeroSpaced(n, label) || !g.isInitializer(n.getInput(1))) {
            block(s, "convolution " + label + " has non-constant weights");
            return;
        }
        TensorData w = g.initializer(n.getInput(1));
        int outCh = (int) w.dim(0);
        int inPerGroup = (int) w.dim(1);
        int group = (int) LinearLayer.intAttr(n, "group", 1);
        int inCh = inPerGroup * group;
        String bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? n.getInput(2) : null;
        if (s != null && (s.axis != 1 || s.segments.stream().anyMatch(x -> x.inner != 1))) {
            block(s, "channels reach convolution " + label + " on axis " + s.axis + " or expanded");
            s = null;
        }
        boolean depthwise = group > 1 && inPerGroup == 1;
        if (depthwise && outCh == inCh) {
            // Output channel c depends only on input channel c: they are the same channels.
            if (s == null) {
                int atom = newProducerAtom(n, label, outCh, 1, bias);
                reasons.get(atom).add("depthwise convolution " + label + " reads channels that cannot be pruned");
                return;
            }
            slice(n.getInput(1), 0, s, label);
            if (bias != null) {
                slice(bias, 0, s, label);
            }
            edits.add(new GroupAttrEdit(n.getOutput(0), s));
            setSpace(n.getOutput(0), s);
            return;
        }
        if (s != null) {
            if (depthwise) {
                block(s, "depthwise convolution " + label + " with channel multiplier " + outCh / inCh
                        + " is not handled on its input side");
            } else if (group == 1) {
                slice(n.getInput(1), 1, s, label);
                addConsumer(s, label, n.getInput(0), n.getInput(1), 1);
            } else if (s.segments.size() == 1 && s.width() % group == 0) {
                // Grouped: each group must lose the same number of input channels, so the blocks stay equal.
                int root = find(s.segments.get(0).atom);
                blockCounts.set(root, lcm(blockCounts.get(root), group));
                String problem = sliceProblem(n.getInput(1));
                if (problem != null) {
                    block(s, problem + " (at " + label + ")");
                } else {
                    edits.add(new GroupedSliceEdit(n.getInput(1), group, s));
                    addConsumer(s, label, n.getInput(0), n.getInput(1), 1);
                }
            } else {
                block(s, "grouped convolution " + label + " reads channels from several sources");
            }
        }
        newProducerAtom(n, label, outCh, group, bias);
    }

    private void addConsumer(Space s, String label, String input, String weight, int axis) {
        int off = 0;
        for (Segment seg : s.segments) {
            consumers.get(seg.atom).add(new Consumer(label, input, weight, axis, off, seg.inner));
            off += seg.width();
        }
    }

    private int newProducerAtom(NodeProto n, String label, int outCh, int blocks, String bias) {
        String w = n.getInput(1);
        int atom = newAtom(outCh, blocks);
        Space out = new Space(1, List.of(new Segment(atom, outCh, 1)));
        slice(w, 0, out, label);
        if (bias != null) {
            slice(bias, 0, out, label);
        }
        producers.get(atom).add(new Producer(label, w, 0));
        setSpace(n.getOutput(0), out);
        return atom;
    }

    private void gemm(NodeProto n, String label) {
        Space a = in(n, 0);
        boolean weightsOk = onlyInputZeroSpaced(n, label) && g.isInitializer(n.getInput(1));
        boolean transA = LinearLayer.intAttr(n, "transA", 0) != 0;
        boolean transB = LinearLayer.intAttr(n, "transB", 0) != 0;
        if (a != null) {
            if (!weightsOk) {
                block(a, "Gemm " + label + " has non-constant weights");
            } else if (transA || a.axis != 1) {
                block(a, "Gemm " + label + " reads the channels along its reduction-free axis (transA)");
            } else {
                slice(n.getInput(1), transB ? 1 : 0, a, label);
                addConsumer(a, label, n.getInput(0), n.getInput(1), transB ? 1 : 0);
            }
        }
        if (!weightsOk) {
            return;
        }
        TensorData b = g.initializer(n.getInput(1));
        int outF = (int) (transB ? b.dim(0) : b.dim(1));
        String c = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? n.getInput(2) : null;
        int atom = newAtom(outF, 1);
        Space out = new Space(1, List.of(new Segment(atom, outF, 1)));
        producers.get(atom).add(new Producer(label, n.getInput(1), transB ? 0 : 1));
        slice(n.getInput(1), transB ? 0 : 1, out, label);
        if (c != null) {
            if (!g.isInitializer(c)) {
                block(out, "bias C of Gemm " + label + " is not constant");
            } else {
                long[] cs = g.initializer(c).shape();
                if (cs.length >= 1 && cs[cs.length - 1] == outF && outF > 1) {
                    slice(c, cs.length - 1, out, label);
                } else if (!(cs.length == 0 || cs[cs.length - 1] == 1)) {
                    block(out, "bias C of Gemm " + label + " has shape " + Arrays.toString(cs));
                }
            }
        }
        setSpace(n.getOutput(0), out);
    }

    private void matMul(NodeProto n, String label) {
        Space a = in(n, 0);
        Space bs = in(n, 1);
        if (bs != null) {
            block(bs, "MatMul " + label + " multiplies two activations");
            block(a, "MatMul " + label + " multiplies two activations");
            return;
        }
        boolean constB = g.isInitializer(n.getInput(1)) && g.initializer(n.getInput(1)).rank() == 2;
        if (a != null) {
            int r = rank(n.getInput(0));
            if (!constB) {
                block(a, "MatMul " + label + " has no rank-2 constant weights");
            } else if (a.axis != r - 1) {
                block(a, "channels reach MatMul " + label + " on axis " + a.axis + ", not the last");
            } else {
                slice(n.getInput(1), 0, a, label);
                addConsumer(a, label, n.getInput(0), n.getInput(1), 0);
            }
        }
        if (!constB || g.isInitializer(n.getInput(0))) {
            return;
        }
        int outF = (int) g.initializer(n.getInput(1)).dim(1);
        int atom = newAtom(outF, 1);
        int outRank = rank(n.getOutput(0));
        Space out = new Space(outRank - 1, List.of(new Segment(atom, outF, 1)));
        producers.get(atom).add(new Producer(label, n.getInput(1), 1));
        slice(n.getInput(1), 1, out, label);
        setSpace(n.getOutput(0), out);
    }

    // ---------------------------------------------------------------- pass-through ops

    private void unary(NodeProto n, String label) {
        Space s = in(n, 0);
        for (int i = 1; i < n.getInputCount(); i++) {
            String v = n.getInput(i);
            if (v.isEmpty()) {
                continue;
            }
            if (spaces.containsKey(v)) {
                block(spaces.get(v), "value '" + v + "' feeds parameter input " + i + " of " + label);
                block(s, "parameter input of " + label + " carries channels");
                return;
            }
            long[] ps = shapes.get(v);
            if (ps != null && TensorData.countOf(ps) > 1) {
                block(s, "parameter input " + i + " of " + label + " is not a scalar");
                return;
            }
        }
        if (s == null) {
            return;
        }
        setSpace(n.getOutput(0), s);
        if (n.getOpType().equals("Dropout") && n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
            setSpace(n.getOutput(1), s);
        }
    }

    private void elementwise(NodeProto n, String label) {
        String out = n.getOutput(0);
        int outRank = rank(out);
        Space ref = null;
        int axis = -1;
        List<Space> spaced = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            Space s = in(n, i);
            if (s == null) {
                continue;
            }
            int aligned = s.axis + outRank - rank(n.getInput(i));
            if (ref == null) {
                ref = s;
                axis = aligned;
            } else if (aligned != axis || !s.sameStructure(ref)) {
                for (int k = 0; k < n.getInputCount(); k++) {
                    block(in(n, k), "operands of " + label + " carry channels on different axes or layouts");
                }
                return;
            }
            spaced.add(s);
        }
        for (Space s : spaced) {
            for (int k = 0; k < s.segments.size(); k++) {
                union(ref.segments.get(k).atom, s.segments.get(k).atom);
            }
        }
        Space outSpace = ref.withAxis(axis);
        int width = outSpace.width();
        for (int i = 0; i < n.getInputCount(); i++) {
            String v = n.getInput(i);
            if (v.isEmpty() || spaces.containsKey(v)) {
                continue;
            }
            long[] vs = shape(v);
            int vAxis = axis - (outRank - vs.length);
            if (vAxis < 0 || vs[vAxis] == 1) {
                continue; // broadcast along the channels: nothing to slice
            }
            if (vs[vAxis] != width) {
                block(outSpace, "operand '" + v + "' of " + label + " has " + vs[vAxis] + " entries on the channel axis");
                return;
            }
            if (g.isInitializer(v)) {
                slice(v, vAxis, outSpace, label);
            } else {
                String from = g.producer(v).map(p -> " from " + p.getOpType() + " " + Graph.label(p))
                        .orElse(g.isGraphInput(v) ? " (a graph input)" : "");
                block(outSpace, "channels of " + label + " also come from '" + v + "'" + from
                        + ", which cannot be pruned");
                return;
            }
        }
        setSpace(out, outSpace);
    }

    private void norm(NodeProto n, String label) {
        Space s = in(n, 0);
        if (!onlyInputZeroSpaced(n, label) || s == null) {
            return;
        }
        if (s.axis != 1 || s.segments.stream().anyMatch(x -> x.inner != 1)) {
            block(s, label + " normalizes axis 1 but the channels are on axis " + s.axis);
            return;
        }
        int params = n.getOpType().equals("BatchNormalization") ? 5 : 3;
        for (int i = 1; i < Math.min(params, n.getInputCount()); i++) {
            slice(n.getInput(i), 0, s, label);
        }
        if (n.getOpType().equals("BatchNormalization") && n.getInputCount() >= 5) {
            float eps = LinearLayer.floatAttr(n, "epsilon", 1e-5f);
            int off = 0;
            for (Segment seg : s.segments) {
                norms.get(seg.atom).add(new Norm(label, n.getInput(1), n.getInput(4), eps, off));
                off += seg.width();
            }
        }
        setSpace(n.getOutput(0), s);
        for (int i = 1; i < n.getOutputCount(); i++) {
            if (!n.getOutput(i).isEmpty()) {
                block(s, label + " also outputs running statistics (training mode)");
            }
        }
    }

    private void pool(NodeProto n, String label) {
        Space s = in(n, 0);
        if (s.axis != 1) {
            block(s, label + " pools with channels on axis " + s.axis);
            return;
        }
        if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
            block(s, "MaxPool " + label + " also outputs indices, which count channels");
            return;
        }
        setSpace(n.getOutput(0), s);
    }

    private Optional<long[]> constInts(String value) {
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        return g.constantValue(value).map(t -> {
            long[] out = new long[t.elementCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (long) t.getDouble(i);
            }
            return out;
        });
    }

    private Optional<long[]> intsAttr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return Optional.of(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
            }
        }
        return Optional.empty();
    }

    /** Axes from the attribute or, in newer opsets, the input at {@code inputIndex}; null when they are not constant. */
    private long[] axesOf(NodeProto n, int inputIndex) {
        Optional<long[]> attr = intsAttr(n, "axes");
        if (attr.isPresent()) {
            return attr.get();
        }
        if (n.getInputCount() > inputIndex && !n.getInput(inputIndex).isEmpty()) {
            return constInts(n.getInput(inputIndex)).orElse(null);
        }
        return new long[0];
    }

    private void reduce(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long[] axes = axesOf(n, 1);
        if (axes == null) {
            block(s, "reduction axes of " + label + " are not constant");
            return;
        }
        boolean keep = LinearLayer.intAttr(n, "keepdims", 1) != 0;
        if (axes.length == 0) {
            if (LinearLayer.intAttr(n, "noop_with_empty_axes", 0) != 0) {
                setSpace(n.getOutput(0), s);
            } else {
                block(s, label + " reduces over every axis, channels included");
            }
            return;
        }
        int below = 0;
        for (long ax : axes) {
            int a = (int) (ax < 0 ? ax + r : ax);
            if (a == s.axis) {
                block(s, label + " reduces over the channel axis");
                return;
            }
            if (a < s.axis) {
                below++;
            }
        }
        setSpace(n.getOutput(0), s.withAxis(keep ? s.axis : s.axis - below));
    }

    private void softmax(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        boolean legacy = g.opsetVersion() < 13;
        long ax = LinearLayer.intAttr(n, "axis", legacy ? 1 : -1);
        int a = (int) (ax < 0 ? ax + r : ax);
        // Before opset 13 the op flattens every axis from `axis` on into the normalized one.
        if (a == s.axis || (legacy && s.axis >= a)) {
            block(s, label + " normalizes over the channel axis");
            return;
        }
        setSpace(n.getOutput(0), s);
    }

    private void layerNorm(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long ax = LinearLayer.intAttr(n, "axis", -1);
        int a = (int) (ax < 0 ? ax + r : ax);
        if (s.axis >= a) {
            block(s, label + " normalizes over the channel axis");
            return;
        }
        if (!onlyInputZeroSpaced(n, label)) {
            return;
        }
        setSpace(n.getOutput(0), s);
    }

    private void transpose(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long[] perm = intsAttr(n, "perm").orElse(null);
        int newAxis = -1;
        if (perm == null) {
            newAxis = r - 1 - s.axis;
        } else {
            for (int i = 0; i < perm.length; i++) {
                if (perm[i] == s.axis) {
                    newAxis = i;
                }
            }
        }
        if (newAxis < 0) {
            block(s, "Transpose " + label + " has a permutation without the channel axis");
            return;
        }
        setSpace(n.getOutput(0), s.withAxis(newAxis));
    }

    private void squeeze(NodeProto n, String label) {
        Space s = in(n, 0);
        long[] inShape = shape(n.getInput(0));
        long[] outShape = shape(n.getOutput(0));
        long[] axes = axesOf(n, 1);
        if (axes == null) {
            block(s, "axes of " + label + " are not constant");
            return;
        }
        if (n.getOpType().equals("Squeeze")) {
            Set<Integer> removed = new java.util.HashSet<>();
            if (axes.length == 0) {
                for (int i = 0; i < inShape.length; i++) {
                    if (inShape[i] == 1) {
                        removed.add(i);
                    }
                }
            } else {
                for (long ax : axes) {
                    removed.add((int) (ax < 0 ? ax + inShape.length : ax));
                }
            }
            if (removed.contains(s.axis)) {
                block(s, label + " removes the channel axis");
                return;
            }
            int below = (int) removed.stream().filter(x -> x < s.axis).count();
            setSpace(n.getOutput(0), s.withAxis(s.axis - below));
        } else {
            Set<Integer> inserted = new java.util.HashSet<>();
            for (long ax : axes) {
                inserted.add((int) (ax < 0 ? ax + outShape.length : ax));
            }
            int k = -1;
            int seen = -1;
            for (int i = 0; i < outShape.length; i++) {
                if (!inserted.contains(i)) {
                    seen++;
                    if (seen == s.axis) {
                        k = i;
                        break;
                    }
                }
            }
            if (k < 0) {
                block(s, "cannot place the channel axis after " + label);
                return;
            }
            setSpace(n.getOutput(0), s.withAxis(k));
        }
    }

    private void flatten(NodeProto n, String label) {
        Space s = in(n, 0);
        long[] in = shape(n.getInput(0));
        long ax = LinearLayer.intAttr(n, "axis", 1);
        int k = (int) (ax < 0 ? ax + in.length : ax);
        if (s.axis < k || k == 0) {
            block(s, "Flatten " + label + " merges the channel axis into the leading dimension");
            return;
        }
        long between = 1;
        for (int i = k; i < s.axis; i++) {
            between *= in[i];
        }
        if (between != 1) {
            block(s, "Flatten " + label + " interleaves channels with the dimensions before them");
            return;
        }
        long after = 1;
        for (int i = s.axis + 1; i < in.length; i++) {
            after *= in[i];
        }
        setSpace(n.getOutput(0), s.expanded((int) after).withAxis(1));
    }

    private void reshape(NodeProto n, String label) {
        Space s = in(n, 0);
        if (spaces.containsKey(n.getInput(1))) {
            block(s, "Reshape " + label + " takes its shape from the channels");
            return;
        }
        long[] in = shape(n.getInput(0));
        long[] out = shape(n.getOutput(0));
        String shapeName = n.getInput(1);
        Optional<long[]> target = g.isInitializer(shapeName) ? constInts(shapeName) : Optional.empty();
        if (target.isEmpty()) {
            block(s, "Reshape " + label + " has a shape computed at run time");
            return;
        }
        long pre = 1;
        for (int i = 0; i < s.axis; i++) {
            pre *= in[i];
        }
        long post = 1;
        for (int i = s.axis + 1; i < in.length; i++) {
            post *= in[i];
        }
        int width = s.width();
        long acc = 1;
        int k = 0;
        while (k < out.length && acc < pre) {
            acc *= out[k];
            k++;
        }
        // Leading size-1 output dims are ambiguous: the channel axis is the first dim that is not 1 there.
        while (k < out.length && acc == pre && out[k] == 1 && width != 1) {
            k++;
        }
        if (acc != pre || k >= out.length) {
            block(s, "Reshape " + label + " from " + Arrays.toString(in) + " to " + Arrays.toString(out)
                    + " mixes the channel axis with the dimensions before it");
            return;
        }
        long rest = 1;
        for (int i = k + 1; i < out.length; i++) {
            rest *= out[i];
        }
        Space outSpace;
        if (out[k] == width && rest == post) {
            outSpace = s.withAxis(k);
        } else if (out[k] == (long) width * post && rest == 1) {
            outSpace = s.expanded((int) post).withAxis(k);
        } else {
            block(s, "Reshape " + label + " from " + Arrays.toString(in) + " to " + Arrays.toString(out)
                    + " splits the channel axis");
            return;
        }
        long[] t = target.get();
        if (k >= t.length) {
            block(s, "Reshape " + label + " target shape is shorter than its output");
            return;
        }
        if (t[k] == 0 && k != s.axis) {
            block(s, "Reshape " + label + " copies an input dimension into the channel position");
            return;
        }
        if (t[k] > 0) {
            String problem = sliceProblem(shapeName);
            if (problem != null) {
                block(s, problem + " (shape of " + label + ")");
                return;
            }
            edits.add(new ReshapeEdit(shapeName, k, outSpace));
        }
        setSpace(n.getOutput(0), outSpace);
    }

    private void concat(NodeProto n, String label) {
        long ax = LinearLayer.intAttr(n, "axis", 0);
        String out = n.getOutput(0);
        int r = rank(out);
        int a = (int) (ax < 0 ? ax + r : ax);
        Space first = null;
        for (int i = 0; i < n.getInputCount(); i++) {
            if (in(n, i) != null) {
                first = in(n, i);
                break;
            }
        }
        if (first.axis != a) {
            // Concatenation along another axis: the operands share the channels like an element-wise op.
            for (int i = 0; i < n.getInputCount(); i++) {
                Space s = in(n, i);
                if (s == null || s.axis != first.axis || !s.sameStructure(first)) {
                    for (int k = 0; k < n.getInputCount(); k++) {
                        block(in(n, k), "operands of " + label + " do not all carry the same channels");
                    }
                    return;
                }
            }
            for (int i = 0; i < n.getInputCount(); i++) {
                Space s = in(n, i);
                for (int k = 0; k < s.segments.size(); k++) {
                    union(first.segments.get(k).atom, s.segments.get(k).atom);
                }
            }
            setSpace(out, first);
            return;
        }
        List<Segment> segs = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            Space s = in(n, i);
            if (s != null) {
                if (s.axis != a) {
                    block(s, "operands of " + label + " carry channels on different axes");
                    blockInputs(n, "operands of " + label + " carry channels on different axes");
                    return;
                }
                segs.addAll(s.segments);
            } else {
                // A fixed part (constant or unprunable value): a segment of its own that stays whole.
                int width = (int) shape(n.getInput(i))[a];
                int atom = newAtom(width, 1);
                reasons.get(atom).add("concatenated by " + label + " from '" + n.getInput(i)
                        + "', which has no prunable producer");
                segs.add(new Segment(atom, width, 1));
            }
        }
        setSpace(out, new Space(a, segs));
    }

    private void pad(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long[] pads = intsAttr(n, "pads").orElseGet(() -> n.getInputCount() > 1 ? constInts(n.getInput(1)).orElse(null)
                : null);
        if (pads == null) {
            block(s, "pads of " + label + " are not constant");
            return;
        }
        if (n.getInputCount() > 3 && !n.getInput(3).isEmpty()) {
            block(s, "Pad " + label + " with explicit axes is not handled");
            return;
        }
        if (pads.length != 2L * r || pads[s.axis] != 0 || pads[s.axis + r] != 0) {
            block(s, label + " pads the channel axis");
            return;
        }
        setSpace(n.getOutput(0), s);
    }

    private void resize(NodeProto n, String label) {
        Space s = in(n, 0);
        long[] in = shape(n.getInput(0));
        long[] out = shape(n.getOutput(0));
        if (in.length != out.length || in[s.axis] != out[s.axis]) {
            block(s, label + " resizes the channel axis");
            return;
        }
        boolean sizes = n.getOpType().equals("Resize") && n.getInputCount() > 3 && !n.getInput(3).isEmpty();
        if (sizes) {
            block(s, label + " takes explicit output sizes, which include the channel count");
            return;
        }
        setSpace(n.getOutput(0), s);
    }

    private void split(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long ax = LinearLayer.intAttr(n, "axis", 0);
        int a = (int) (ax < 0 ? ax + r : ax);
        if (a == s.axis) {
            block(s, "Split " + label + " splits the channel axis");
            return;
        }
        for (String o : n.getOutputList()) {
            if (!o.isEmpty()) {
                setSpace(o, s);
            }
        }
    }

    private void slice(NodeProto n, String label) {
        Space s = in(n, 0);
        int r = rank(n.getInput(0));
        long[] axes;
        if (n.getInputCount() > 1) {
            // Opset >= 10: starts, ends, axes, steps are inputs; without axes the first len(starts) axes are cut.
            if (n.getInputCount() > 3 && !n.getInput(3).isEmpty()) {
                axes = constInts(n.getInput(3)).orElse(null);
            } else {
                axes = constInts(n.getInput(1)).map(st -> AxisSliceSupport.range(st.length)).orElse(null);
            }
        } else {
            axes = intsAttr(n, "axes").orElseGet(() -> intsAttr(n, "starts")
                    .map(st -> AxisSliceSupport.range(st.length)).orElse(null));
        }
        if (axes == null) {
            block(s, "Slice " + label + " axes are not constant");
            return;
        }
        for (long ax : axes) {
            if ((ax < 0 ? ax + r : ax) == s.axis) {
                block(s, "Slice " + label + " slices along the channel axis");
                return;
            }
        }
        setSpace(n.getOutput(0), s);
    }

    private static final class AxisSliceSupport {
        static long[] range(int n) {
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = i;
            }
            return out;
        }
    }

    // ---------------------------------------------------------------- indices

    /** Surviving entries of a space, given the surviving channels of each group root. */
    static int[] indices(Space s, java.util.function.IntFunction<int[]> keptOfAtom) {
        List<Integer> out = new ArrayList<>();
        int off = 0;
        for (Segment seg : s.segments) {
            int[] kept = keptOfAtom.apply(seg.atom);
            for (int c : kept) {
                for (int j = 0; j < seg.inner; j++) {
                    out.add(off + c * seg.inner + j);
                }
            }
            off += seg.width();
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
