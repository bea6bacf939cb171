package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A mutable view of one graph for compression passes. Get one from {@link OnnxModel#edit()} (the main graph) or
 * {@link #subgraph(NodeProto, String)} (the body of an If/Loop/Scan attribute).
 *
 * <p>Nodes are immutable {@link NodeProto}s; a pass replaces them rather than mutating them, and refers to them by
 * the instances this view hands out. Lookups (producer, consumers) are rebuilt lazily after edits.
 *
 * <p>Subgraphs: a node whose If/Loop body reads a value of this graph from the outer scope counts as a consumer of
 * that value, so dead-node removal and {@link #replaceAllUses} never cut a branch off its inputs. Passes that do not
 * look into subgraphs leave them byte-for-byte intact.
 */
public final class Graph {
    private final ModelProto.Builder model; // only for the main graph
    private final Graph root;
    private final GraphProto.Builder graph;
    private final List<NodeProto> nodes;
    private Set<String> reservedNames; // root only: every name in every scope, so new names never shadow

    // Lazily rebuilt indexes; null means stale.
    private Map<String, NodeProto> producers;
    private Map<String, List<NodeProto>> consumers;
    private Map<String, Integer> initializerIndex;

    Graph(ModelProto.Builder model) {
        this.model = model;
        this.root = this;
        this.graph = model.getGraphBuilder();
        this.nodes = new ArrayList<>(graph.getNodeList());
    }

    private Graph(Graph root, GraphProto body) {
        this.model = null;
        this.root = root;
        this.graph = body.toBuilder();
        this.nodes = new ArrayList<>(graph.getNodeList());
    }

    // ---------------------------------------------------------------- model level

    public boolean isSubgraph() {
        return root != this;
    }

    public String name() {
        return graph.getName();
    }

    /** Default-domain opset of the model (-1 if none). */
    public int opsetVersion() {
        return opsetVersion("").orElse(-1);
    }

    public OptionalInt opsetVersion(String domain) {
        for (OperatorSetIdProto op : root.model.getOpsetImportList()) {
            boolean match = OnnxModel.isDefaultDomain(domain) ? OnnxModel.isDefaultDomain(op.getDomain())
                    : op.getDomain().equals(domain);
            if (match) {
                return OptionalInt.of((int) op.getVersion());
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Makes sure the model imports {@code domain} (e.g. "com.microsoft") at a version of at least {@code minVersion}.
     * Adds the import when missing. Never changes an existing import: a different version changes the semantics of
     * every node of that domain, so an import that is too old is an error the pass must handle.
     *
     * @throws IllegalStateException when the domain is imported at a lower version
     */
    public void requireOpset(String domain, int minVersion) {
        OptionalInt have = opsetVersion(domain);
        if (have.isEmpty()) {
            root.model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(minVersion));
        } else if (have.getAsInt() < minVersion) {
            throw new IllegalStateException("domain '" + domain + "' is imported at opset " + have.getAsInt()
                    + " but version " + minVersion + " is needed");
        }
    }

    // ---------------------------------------------------------------- nodes

    /** Nodes in stored order (topological for valid models). Unmodifiable snapshot. */
    public List<NodeProto> nodes() {
        return List.copyOf(nodes);
    }

    public int nodeCount() {
        return nodes.size();
    }

    /** Name if the node has one, otherwise "OpType(firstOutput)": stable labels for reports. */
    public static String label(NodeProto n) {
        if (!n.getName().isEmpty()) {
            return n.getName();
        }
        return n.getOpType() + "(" + (n.getOutputCount() > 0 ? n.getOutput(0) : "") + ")";
    }

    public Optional<NodeProto> nodeByName(String name) {
        for (NodeProto n : nodes) {
            if (n.getName().equals(name)) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }

    /** The node of this graph that produces {@code value}; empty for inputs, initializers and outer-scope values. */
    public Optional<NodeProto> producer(String value) {
        index();
        return Optional.ofNullable(producers.get(value));
    }

    /**
     * Nodes of this graph that read {@code value}, in node order: directly as an input, or from inside one of their
     * subgraphs. A node reading the value twice appears once.
     */
    public List<NodeProto> consumers(String value) {
        index();
        return List.copyOf(consumers.getOrDefault(value, List.of()));
    }

    /** Values a node depends on: its non-empty inputs plus what its subgraphs read from outer scopes. */
    public static Set<String> dependencies(NodeProto n) {
        Set<String> deps = new LinkedHashSet<>();
        for (String in : n.getInputList()) {
            if (!in.isEmpty()) {
                deps.add(in);
            }
        }
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG()) {
                deps.addAll(outerScopeReferences(a.getG()));
            }
            for (GraphProto g : a.getGraphsList()) {
                deps.addAll(outerScopeReferences(g));
            }
        }
        return deps;
    }

    /** Names a graph body reads without defining them itself (its outer-scope references), nested bodies included. */
    public static Set<String> outerScopeReferences(GraphProto g) {
        Set<String> defined = new HashSet<>();
        for (ValueInfoProto v : g.getInputList()) {
            defined.add(v.getName());
        }
        for (TensorProto t : g.getInitializerList()) {
            defined.add(t.getName());
        }
        for (SparseTensorProto s : g.getSparseInitializerList()) {
            defined.add(s.getValues().getName());
        }
        for (NodeProto n : g.getNodeList()) {
            defined.addAll(n.getOutputList());
        }
        Set<String> refs = new LinkedHashSet<>();
        for (NodeProto n : g.getNodeList()) {
            for (String d : dependencies(n)) {
                if (!defined.contains(d)) {
                    refs.add(d);
                }
            }
        }
        for (ValueInfoProto v : g.getOutputList()) {
            if (!defined.contains(v.getName())) {
                refs.add(v.getName()); // a branch may return an outer value directly
            }
        }
        return refs;
    }

    /**
     * Nodes in a topological order that stays as close as possible to the stored order (the stored order itself when
     * it is already valid).
     *
     * @throws IllegalStateException when the graph has a cycle
     */
    public List<NodeProto> topologicalOrder() {
        index();
        int n = nodes.size();
        Map<NodeProto, Integer> position = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            position.put(nodes.get(i), i);
        }
        int[] pending = new int[n];
        List<List<Integer>> dependents = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            dependents.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            Set<Integer> preds = new HashSet<>();
            for (String d : dependencies(nodes.get(i))) {
                NodeProto p = producers.get(d);
                if (p != null) {
                    preds.add(position.get(p));
                }
            }
            for (int p : preds) {
                if (p == i) {
                    throw new IllegalStateException("node " + label(nodes.get(i)) + " consumes its own output");
                }
                dependents.get(p).add(i);
            }
            pending[i] = preds.size();
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < n; i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        List<NodeProto> order = new ArrayList<>(n);
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order.add(nodes.get(i));
            for (int d : dependents.get(i)) {
                if (--pending[d] == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() != n) {
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < n && stuck.size() < 5; i++) {
                if (pending[i] > 0) {
                    stuck.add(label(nodes.get(i)));
                }
            }
            throw new IllegalStateException("the graph has a cycle through " + stuck);
        }
        return order;
    }

    /** Appends a node. The order is fixed up on {@link #toModel()}, so passes may append freely. */
    public void addNode(NodeProto n) {
        nodes.add(n);
        reserve(n);
        invalidate();
    }

    public void insertBefore(NodeProto anchor, NodeProto... newNodes) {
        int i = indexOf(anchor);
        nodes.addAll(i, List.of(newNodes));
        for (NodeProto n : newNodes) {
            reserve(n);
        }
        invalidate();
    }

    public void insertAfter(NodeProto anchor, NodeProto... newNodes) {
        int i = indexOf(anchor);
        nodes.addAll(i + 1, List.of(newNodes));
        for (NodeProto n : newNodes) {
            reserve(n);
        }
        invalidate();
    }

    public void removeNode(NodeProto n) {
        nodes.remove(indexOf(n));
        invalidate();
    }

    /** Puts {@code replacements} where {@code old} was (none removes it). */
    public void replaceNode(NodeProto old, NodeProto... replacements) {
        int i = indexOf(old);
        nodes.remove(i);
        nodes.addAll(i, List.of(replacements));
        for (NodeProto n : replacements) {
            reserve(n);
        }
        invalidate();
    }

    /** Position of a node handed out by this view (identity first, then equality). */
    public int indexOf(NodeProto n) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i) == n) {
                return i;
            }
        }
        int i = nodes.indexOf(n);
        if (i < 0) {
            throw new NoSuchElementException("node " + label(n) + " is not in graph '" + name() + "'");
        }
        return i;
    }

    /**
     * Makes every reader of {@code oldValue} read {@code newValue} instead: node inputs of this graph and outer-scope
     * reads inside subgraphs (unless a subgraph shadows the name). The producer of {@code newValue} keeps its inputs,
     * so inserting {@code x -> Q -> DQ -> x_dq} and then {@code replaceAllUses("x", "x_dq")} does not create a cycle.
     * Graph outputs keep their names: the model's interface does not change.
     *
     * @return how many nodes changed
     */
    public int replaceAllUses(String oldValue, String newValue) {
        index();
        NodeProto newProducer = producers.get(newValue);
        int changed = 0;
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            if (n == newProducer) {
                continue;
            }
            NodeProto updated = renameUses(n, oldValue, newValue);
            if (updated != n) {
                nodes.set(i, updated);
                changed++;
            }
        }
        if (changed > 0) {
            invalidate();
        }
        return changed;
    }

    /** Replaces input slot {@code inputIndex} of a node, returning the node now in the graph. */
    public NodeProto setInput(NodeProto n, int inputIndex, String value) {
        NodeProto updated = n.toBuilder().setInput(inputIndex, value).build();
        nodes.set(indexOf(n), updated);
        invalidate();
        return updated;
    }

    private static NodeProto renameUses(NodeProto n, String oldValue, String newValue) {
        NodeProto.Builder b = null;
        for (int i = 0; i < n.getInputCount(); i++) {
            if (n.getInput(i).equals(oldValue)) {
                if (b == null) {
                    b = n.toBuilder();
                }
                b.setInput(i, newValue);
            }
        }
        for (int a = 0; a < n.getAttributeCount(); a++) {
            AttributeProto attr = n.getAttribute(a);
            if (!attr.hasG() && attr.getGraphsCount() == 0) {
                continue;
            }
            AttributeProto.Builder ab = attr.toBuilder();
            boolean touched = false;
            if (attr.hasG()) {
                GraphProto g = renameOuter(attr.getG(), oldValue, newValue);
                if (g != attr.getG()) {
                    ab.setG(g);
                    touched = true;
                }
            }
            for (int k = 0; k < attr.getGraphsCount(); k++) {
                GraphProto g = renameOuter(attr.getGraphs(k), oldValue, newValue);
                if (g != attr.getGraphs(k)) {
                    ab.setGraphs(k, g);
                    touched = true;
                }
            }
            if (touched) {
                if (b == null) {
                    b = n.toBuilder();
                }
                b.setAttribute(a, ab);
            }
        }
        return b == null ? n : b.build();
    }

    private static GraphProto renameOuter(GraphProto g, String oldValue, String newValue) {
        if (!outerScopeReferences(g).contains(oldValue)) {
            return g; // not read, or shadowed by a local definition
        }
        GraphProto.Builder b = g.toBuilder();
        for (int i = 0; i < b.getNodeCount(); i++) {
            b.setNode(i, renameUses(b.getNode(i), oldValue, newValue));
        }
        for (int i = 0; i < b.getOutputCount(); i++) {
            if (b.getOutput(i).getName().equals(oldValue)) {
                // A branch returning the outer value directly: route it through Identity so the output name stays.
                b.addNode(NodeProto.newBuilder().setOpType("Identity").addInput(newValue).addOutput(oldValue));
            }
        }
        return b.build();
    }

    // ---------------------------------------------------------------- initializers

    /** Initializer names in stored order. */
    public List<String> initializerNames() {
        List<String> out = new ArrayList<>();
        for (TensorProto t : graph.getInitializerList()) {
            out.add(t.getName());
        }
        return out;
    }

    public boolean isInitializer(String name) {
        indexInitializers();
        return initializerIndex.containsKey(name);
    }

    public Optional<TensorProto> initializerProto(String name) {
        indexInitializers();
        Integer i = initializerIndex.get(name);
        return i == null ? Optional.empty() : Optional.of(graph.getInitializer(i));
    }

    /**
     * An initializer decoded to Java arrays.
     *
     * @throws NoSuchElementException if there is none with that name
     */
    public TensorData initializer(String name) {
        return Tensors.fromProto(initializerProto(name).orElseThrow(
                () -> new NoSuchElementException("no initializer named '" + name + "' in graph '" + name() + "'")));
    }

    /** The initializer's value if {@code value} is one, or the tensor of a Constant node producing it. */
    public Optional<TensorData> constantValue(String value) {
        Optional<TensorProto> init = initializerProto(value);
        if (init.isPresent()) {
            return Optional.of(Tensors.fromProto(init.get()));
        }
        Optional<NodeProto> p = producer(value);
        if (p.isPresent() && p.get().getOpType().equals("Constant") && OnnxModel.isDefaultDomain(p.get().getDomain())) {
            for (AttributeProto a : p.get().getAttributeList()) {
                if (a.getName().equals("value") && a.hasT()) {
                    return Optional.of(Tensors.fromProto(a.getT()).withName(value));
                }
            }
        }
        return Optional.empty();
    }

    /** Adds an initializer, or replaces the one with the same name in place. */
    public void setInitializer(TensorData t) {
        setInitializer(Tensors.toProto(t));
    }

    public void setInitializer(TensorProto t) {
        indexInitializers();
        Integer i = initializerIndex.get(t.getName());
        if (i != null) {
            graph.setInitializer(i, t);
        } else {
            graph.addInitializer(t);
            root.reservedNames().add(t.getName());
            initializerIndex = null;
        }
    }

    /** Removes an initializer and, for models that list weights as graph inputs (IR < 4), that input too. */
    public void removeInitializer(String name) {
        indexInitializers();
        Integer i = initializerIndex.get(name);
        if (i == null) {
            throw new NoSuchElementException("no initializer named '" + name + "'");
        }
        graph.removeInitializer(i);
        for (int k = 0; k < graph.getInputCount(); k++) {
            if (graph.getInput(k).getName().equals(name)) {
                graph.removeInput(k);
                break;
            }
        }
        removeValueInfo(name);
        initializerIndex = null;
    }

    // ---------------------------------------------------------------- inputs, outputs, value infos

    /** Inputs a caller feeds (graph inputs that are not initializers). */
    public List<ValueInfo> inputs() {
        List<ValueInfo> out = new ArrayList<>();
        for (ValueInfoProto v : graph.getInputList()) {
            if (!isInitializer(v.getName())) {
                out.add(ValueInfo.from(v));
            }
        }
        return out;
    }

    public List<ValueInfo> outputs() {
        List<ValueInfo> out = new ArrayList<>();
        for (ValueInfoProto v : graph.getOutputList()) {
            out.add(ValueInfo.from(v));
        }
        return out;
    }

    public boolean isGraphOutput(String value) {
        for (ValueInfoProto v : graph.getOutputList()) {
            if (v.getName().equals(value)) {
                return true;
            }
        }
        return false;
    }

    public boolean isGraphInput(String value) {
        for (ValueInfoProto v : graph.getInputList()) {
            if (v.getName().equals(value)) {
                return true;
            }
        }
        return false;
    }

    public void addOutput(ValueInfo v) {
        if (isGraphOutput(v.name())) {
            return;
        }
        graph.addOutput(v.toProto());
        invalidate();
    }

    /**
     * What is known about a value: graph input/output or value_info entry, else the type and dims of an initializer.
     * Intermediate values have no info unless the model carries shape inference results.
     */
    public Optional<ValueInfo> valueInfo(String value) {
        for (ValueInfoProto v : graph.getInputList()) {
            if (v.getName().equals(value)) {
                return Optional.of(ValueInfo.from(v));
            }
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            if (v.getName().equals(value)) {
                return Optional.of(ValueInfo.from(v));
            }
        }
        for (ValueInfoProto v : graph.getValueInfoList()) {
            if (v.getName().equals(value)) {
                return Optional.of(ValueInfo.from(v));
            }
        }
        Optional<TensorProto> init = initializerProto(value);
        if (init.isPresent()) {
            return Optional.of(ValueInfo.of(value, Tensors.elemType(init.get()), Tensors.dims(init.get())));
        }
        return Optional.empty();
    }

    /** Element type of a value where known (UNDEFINED otherwise). */
    public ElemType elemType(String value) {
        return valueInfo(value).map(ValueInfo::type).orElse(ElemType.UNDEFINED);
    }

    /** Adds or replaces an entry in value_info (inputs and outputs are not touched). */
    public void setValueInfo(ValueInfo v) {
        for (int i = 0; i < graph.getValueInfoCount(); i++) {
            if (graph.getValueInfo(i).getName().equals(v.name())) {
                graph.setValueInfo(i, v.toProto());
                return;
            }
        }
        graph.addValueInfo(v.toProto());
    }

    /** Drops a stale value_info entry, e.g. after a pass changed the value's type. Returns whether one existed. */
    public boolean removeValueInfo(String value) {
        for (int i = 0; i < graph.getValueInfoCount(); i++) {
            if (graph.getValueInfo(i).getName().equals(value)) {
                graph.removeValueInfo(i);
                return true;
            }
        }
        return false;
    }

    /** Changes the declared type of a graph output (e.g. a pass that makes the model emit float16). */
    public void setOutputInfo(ValueInfo v) {
        for (int i = 0; i < graph.getOutputCount(); i++) {
            if (graph.getOutput(i).getName().equals(v.name())) {
                graph.setOutput(i, graph.getOutput(i).toBuilder().setType(v.toProto().getType()));
                return;
            }
        }
        throw new NoSuchElementException("'" + v.name() + "' is not an output of graph '" + name() + "'");
    }

    // ---------------------------------------------------------------- names

    /**
     * A name no value, node or initializer uses anywhere in the model (subgraphs included), reserved on return:
     * {@code base} itself when free, else {@code base_1}, {@code base_2}, ...
     */
    public String uniqueName(String base) {
        Set<String> used = root.reservedNames();
        String candidate = base;
        int k = 1;
        while (used.contains(candidate) || candidate.isEmpty()) {
            candidate = base + "_" + k++;
        }
        used.add(candidate);
        return candidate;
    }

    private Set<String> reservedNames() {
        if (reservedNames == null) {
            reservedNames = new HashSet<>();
            collectNames(graph.build(), reservedNames);
            for (NodeProto n : nodes) {
                collectNames(n, reservedNames);
            }
        }
        return reservedNames;
    }

    private void reserve(NodeProto n) {
        collectNames(n, root.reservedNames());
    }

    private static void collectNames(GraphProto g, Set<String> into) {
        for (ValueInfoProto v : g.getInputList()) {
            into.add(v.getName());
        }
        for (ValueInfoProto v : g.getOutputList()) {
            into.add(v.getName());
        }
        for (ValueInfoProto v : g.getValueInfoList()) {
            into.add(v.getName());
        }
        for (TensorProto t : g.getInitializerList()) {
            into.add(t.getName());
        }
        for (NodeProto n : g.getNodeList()) {
            collectNames(n, into);
        }
    }

    private static void collectNames(NodeProto n, Set<String> into) {
        if (!n.getName().isEmpty()) {
            into.add(n.getName());
        }
        into.addAll(n.getInputList());
        into.addAll(n.getOutputList());
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG()) {
                collectNames(a.getG(), into);
            }
            for (GraphProto g : a.getGraphsList()) {
                collectNames(g, into);
            }
        }
    }

    // ---------------------------------------------------------------- clean-up

    /**
     * Removes nodes whose outputs nothing needs (neither a graph output nor, transitively, a live node or subgraph)
     * and initializers no live node reads.
     *
     * @return number of nodes plus initializers removed
     */
    public int removeDeadNodes() {
        Set<String> live = new HashSet<>();
        for (ValueInfoProto v : graph.getOutputList()) {
            live.add(v.getName());
        }
        List<NodeProto> order = topologicalOrder();
        Set<NodeProto> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = order.size() - 1; i >= 0; i--) {
            NodeProto n = order.get(i);
            boolean needed = false;
            for (String out : n.getOutputList()) {
                if (live.contains(out)) {
                    needed = true;
                    break;
                }
            }
            if (needed) {
                keep.add(n);
                live.addAll(dependencies(n));
            }
        }
        int removed = 0;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (!keep.contains(nodes.get(i))) {
                nodes.remove(i);
                removed++;
            }
        }
        if (removed > 0) {
            invalidate();
        }
        for (String name : initializerNames()) {
            if (!live.contains(name)) {
                removeInitializer(name);
                removed++;
            }
        }
        return removed;
    }

    /** Drops value_info entries for values nothing in this graph produces or reads any more. */
    public int removeStaleValueInfo() {
        Set<String> present = new HashSet<>();
        for (NodeProto n : nodes) {
            present.addAll(n.getOutputList());
            present.addAll(dependencies(n));
        }
        int removed = 0;
        for (int i = graph.getValueInfoCount() - 1; i >= 0; i--) {
            if (!present.contains(graph.getValueInfo(i).getName())) {
                graph.removeValueInfo(i);
                removed++;
            }
        }
        return removed;
    }

    // ---------------------------------------------------------------- subgraphs

    /** Names of a node's attributes that hold graphs (If: then_branch/else_branch, Loop/Scan: body). */
    public static List<String> subgraphAttributes(NodeProto n) {
        List<String> out = new ArrayList<>();
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG() || a.getGraphsCount() > 0) {
                out.add(a.getName());
            }
        }
        return out;
    }

    /** An editing view of the body held in a node's graph attribute; commit it with {@link #setSubgraph}. */
    public Graph subgraph(NodeProto node, String attribute) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(attribute) && a.hasG()) {
                return new Graph(root, a.getG());
            }
        }
        throw new NoSuchElementException("node " + label(node) + " has no graph attribute '" + attribute + "'");
    }

    /** Writes an edited body back into the node's attribute; returns the node now in this graph. */
    public NodeProto setSubgraph(NodeProto node, String attribute, Graph body) {
        if (body.root != root || !body.isSubgraph()) {
            throw new IllegalArgumentException("the body must come from subgraph() of the same model");
        }
        NodeProto.Builder b = node.toBuilder();
        boolean found = false;
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(attribute) && b.getAttribute(i).hasG()) {
                b.setAttribute(i, b.getAttribute(i).toBuilder().setG(body.toGraphProto()));
                found = true;
            }
        }
        if (!found) {
            throw new NoSuchElementException("node " + label(node) + " has no graph attribute '" + attribute + "'");
        }
        NodeProto updated = b.build();
        nodes.set(indexOf(node), updated);
        invalidate();
        return updated;
    }

    // ---------------------------------------------------------------- finishing

    /** This graph as a proto, nodes in topological order. */
    public GraphProto toGraphProto() {
        List<NodeProto> order = topologicalOrder();
        graph.clearNode().addAllNode(order);
        nodes.clear();
        nodes.addAll(order);
        invalidate();
        return graph.build();
    }

    /**
     * The edited model, nodes sorted topologically.
     *
     * @throws IllegalStateException when called on a subgraph view
     */
    public OnnxModel toModel() {
        if (isSubgraph()) {
            throw new IllegalStateException("toModel() on a subgraph; use setSubgraph() on the parent graph");
        }
        toGraphProto();
        return OnnxModel.of(model.build());
    }

    // ---------------------------------------------------------------- internals

    private void invalidate() {
        producers = null;
        consumers = null;
    }

    private void index() {
        if (producers != null) {
            return;
        }
        Map<String, NodeProto> prod = new HashMap<>();
        Map<String, List<NodeProto>> cons = new HashMap<>();
        for (NodeProto n : nodes) {
            for (String out : n.getOutputList()) {
                if (!out.isEmpty()) {
                    prod.put(out, n);
                }
            }
            for (String d : dependencies(n)) {
                cons.computeIfAbsent(d, k -> new ArrayList<>()).add(n);
            }
        }
        producers = prod;
        consumers = cons;
    }

    private void indexInitializers() {
        if (initializerIndex != null) {
            return;
        }
        Map<String, Integer> idx = new HashMap<>();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            idx.put(graph.getInitializer(i).getName(), i);
        }
        initializerIndex = idx;
    }

    /** Names of every value produced or read in this graph (not in subgraphs), for diagnostics. */
    public Set<String> valueNames() {
        Set<String> out = new LinkedHashSet<>();
        for (ValueInfoProto v : graph.getInputList()) {
            out.add(v.getName());
        }
        out.addAll(initializerNames());
        for (NodeProto n : nodes) {
            for (String in : n.getInputList()) {
                if (!in.isEmpty()) {
                    out.add(in);
                }
            }
            out.addAll(n.getOutputList());
        }
        return out;
    }
}
