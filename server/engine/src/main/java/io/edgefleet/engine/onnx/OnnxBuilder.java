package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Fluent construction of ONNX models for tests and demos.
 *
 * <pre>{@code
 * OnnxModel m = OnnxBuilder.model("tiny").opset(17)
 *     .input("x", ElemType.FLOAT, "N", 4)
 *     .output("y", ElemType.FLOAT, "N", 2)
 *     .randomInitializer("W", new long[] {2, 4}, 0.5f, 42)
 *     .node("Gemm").in("x", "W").out("y").attr("transB", 1).add()
 *     .build();
 * }</pre>
 *
 * Dimensions are given as numbers (static) or strings (symbolic, e.g. "N"). Nodes without an explicit name get
 * {@code <OpType>_<n>}.
 */
public final class OnnxBuilder {
    private final String graphName;
    private final boolean subgraph;
    private final Map<String, Integer> opsets = new LinkedHashMap<>();
    private long irVersion = -1;
    private String producerName = "edgefleet";
    private String producerVersion = "";
    private String docString = "";
    private final List<StringStringEntryProto> metadata = new ArrayList<>();
    private final List<ValueInfoProto> inputs = new ArrayList<>();
    private final List<ValueInfoProto> outputs = new ArrayList<>();
    private final List<ValueInfoProto> valueInfos = new ArrayList<>();
    private final List<ai.onnx.proto.OnnxMl.TensorProto> initializers = new ArrayList<>();
    private final List<NodeProto> nodes = new ArrayList<>();
    private final Map<String, Integer> opCounters = new LinkedHashMap<>();

    private OnnxBuilder(String graphName, boolean subgraph) {
        this.graphName = graphName;
        this.subgraph = subgraph;
    }

    /** A model builder; default-domain opset 17 unless {@link #opset(int)} says otherwise. */
    public static OnnxBuilder model(String graphName) {
        return new OnnxBuilder(graphName, false);
    }

    /** A builder for an If/Loop body: same API, finished with {@link #buildGraph()}; opsets come from the model. */
    public static OnnxBuilder subgraph(String graphName) {
        return new OnnxBuilder(graphName, true);
    }

    public OnnxBuilder opset(int version) {
        return opset("", version);
    }

    public OnnxBuilder opset(String domain, int version) {
        opsets.put(domain, version);
        return this;
    }

    /** IR version; by default the one that matches the default-domain opset. */
    public OnnxBuilder irVersion(long version) {
        this.irVersion = version;
        return this;
    }

    public OnnxBuilder producer(String name, String version) {
        this.producerName = name;
        this.producerVersion = version;
        return this;
    }

    public OnnxBuilder docString(String doc) {
        this.docString = doc;
        return this;
    }

    public OnnxBuilder metadata(String key, String value) {
        metadata.add(StringStringEntryProto.newBuilder().setKey(key).setValue(value).build());
        return this;
    }

    /** A graph input; dims are Long/Integer (static) or String (symbolic). */
    public OnnxBuilder input(String name, ElemType type, Object... dims) {
        inputs.add(tensorInfo(name, type, dims));
        return this;
    }

    public OnnxBuilder output(String name, ElemType type, Object... dims) {
        outputs.add(tensorInfo(name, type, dims));
        return this;
    }

    /** A graph output whose rank is not declared. */
    public OnnxBuilder outputAnyShape(String name, ElemType type) {
        outputs.add(ValueInfo.tensor(name, type, null).toProto());
        return this;
    }

    public OnnxBuilder valueInfo(String name, ElemType type, Object... dims) {
        valueInfos.add(tensorInfo(name, type, dims));
        return this;
    }

    private static ValueInfoProto tensorInfo(String name, ElemType type, Object... dims) {
        List<ValueInfo.Dim> list = new ArrayList<>();
        for (Object d : dims) {
            if (d instanceof Number n) {
                list.add(ValueInfo.Dim.of(n.longValue()));
            } else if (d instanceof String s) {
                list.add(ValueInfo.Dim.symbolic(s));
            } else {
                throw new IllegalArgumentException("dimension " + d + " of '" + name + "' must be a number or a string");
            }
        }
        return ValueInfo.tensor(name, type, list).toProto();
    }

    public OnnxBuilder initializer(TensorData t) {
        initializers.add(Tensors.toProto(t));
        return this;
    }

    public OnnxBuilder initializer(String name, long[] shape, float... values) {
        return initializer(TensorData.ofFloats(name, shape, values));
    }

    public OnnxBuilder initializerInt64(String name, long[] shape, long... values) {
        return initializer(TensorData.ofInt64(name, shape, values));
    }

    /** Float weights drawn from N(0, std^2) with a fixed seed, so a test model is the same on every run. */
    public OnnxBuilder randomInitializer(String name, long[] shape, float std, long seed) {
        return initializer(name, shape, randomNormal(seed, (int) TensorData.countOf(shape), std));
    }

    /** He-style init (std = sqrt(2 / fanIn)) for weights feeding a ReLU. */
    public OnnxBuilder heInitializer(String name, long[] shape, int fanIn, long seed) {
        return randomInitializer(name, shape, (float) Math.sqrt(2.0 / fanIn), seed);
    }

    /** Deterministic N(0, std^2) samples (java.util.Random's algorithm is fixed by its specification). */
    public static float[] randomNormal(long seed, int count, float std) {
        Random r = new Random(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) (r.nextGaussian() * std);
        }
        return out;
    }

    /** Deterministic uniform samples in [lo, hi). */
    public static float[] randomUniform(long seed, int count, float lo, float hi) {
        Random r = new Random(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = lo + r.nextFloat() * (hi - lo);
        }
        return out;
    }

    /** Starts a node; finish it with {@link NodeSpec#add()}. */
    public NodeSpec node(String opType) {
        return new NodeSpec(opType);
    }

    /** Adds a ready-made node. */
    public OnnxBuilder add(NodeProto node) {
        nodes.add(node);
        return this;
    }

    /** The graph alone (for If/Loop bodies, or to embed elsewhere). */
    public GraphProto buildGraph() {
        GraphProto.Builder g = GraphProto.newBuilder().setName(graphName);
        g.addAllNode(nodes).addAllInitializer(initializers).addAllInput(inputs).addAllOutput(outputs)
                .addAllValueInfo(valueInfos);
        return g.build();
    }

    public ModelProto buildProto() {
        if (subgraph) {
            throw new IllegalStateException("a subgraph builder makes a GraphProto: call buildGraph()");
        }
        ModelProto.Builder m = ModelProto.newBuilder();
        int opset = opsets.getOrDefault("", 17);
        m.setIrVersion(irVersion >= 0 ? irVersion : irVersionFor(opset));
        m.setProducerName(producerName);
        if (!producerVersion.isEmpty()) {
            m.setProducerVersion(producerVersion);
        }
        if (!docString.isEmpty()) {
            m.setDocString(docString);
        }
        m.setGraph(buildGraph());
        m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
        for (Map.Entry<String, Integer> e : opsets.entrySet()) {
            if (!e.getKey().isEmpty()) {
                m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()));
            }
        }
        m.addAllMetadataProps(metadata);
        return m.build();
    }

    /** Builds and checks the model (the same checks as reading a file). */
    public OnnxModel build() {
        return OnnxModel.of(buildProto());
    }

    /** The IR version the ONNX release that introduced {@code opset} writes. */
    public static long irVersionFor(int opset) {
        if (opset <= 8) {
            return 3;
        } else if (opset == 9) {
            return 4;
        } else if (opset == 10) {
            return 5;
        } else if (opset == 11) {
            return 6;
        } else if (opset <= 14) {
            return 7;
        } else if (opset <= 18) {
            return 8;
        } else if (opset <= 20) {
            return 9;
        } else if (opset <= 22) {
            return 10;
        } else if (opset == 23) {
            return 11;
        } else if (opset == 24) {
            return 12;
        }
        return 13;
    }

    /** One node under construction. */
    public final class NodeSpec {
        private final NodeProto.Builder node;

        private NodeSpec(String opType) {
            this.node = NodeProto.newBuilder().setOpType(opType);
        }

        public NodeSpec name(String name) {
            node.setName(name);
            return this;
        }

        public NodeSpec domain(String domain) {
            node.setDomain(domain);
            return this;
        }

        /** Inputs in order; "" marks an omitted optional input. */
        public NodeSpec in(String... names) {
            for (String n : names) {
                node.addInput(n);
            }
            return this;
        }

        public NodeSpec out(String... names) {
            for (String n : names) {
                node.addOutput(n);
            }
            return this;
        }

        public NodeSpec attr(String name, long value) {
            node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT)
                    .setI(value));
            return this;
        }

        public NodeSpec attr(String name, float value) {
            node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
                    .setF(value));
            return this;
        }

        public NodeSpec attr(String name, double value) {
            return attr(name, (float) value);
        }

        public NodeSpec attr(String name, String value) {
            node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8)));
            return this;
        }

        public NodeSpec attr(String name, TensorData value) {
            node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR)
                    .setT(Tensors.toProto(value)));
            return this;
        }

        public NodeSpec attr(String name, GraphProto body) {
            node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH)
                    .setG(body));
            return this;
        }

        public NodeSpec ints(String name, long... values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
            for (long v : values) {
                a.addInts(v);
            }
            node.addAttribute(a);
            return this;
        }

        public NodeSpec floats(String name, float... values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.FLOATS);
            for (float v : values) {
                a.addFloats(v);
            }
            node.addAttribute(a);
            return this;
        }

        public NodeSpec strings(String name, String... values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.STRINGS);
            for (String v : values) {
                a.addStrings(ByteString.copyFrom(v, StandardCharsets.UTF_8));
            }
            node.addAttribute(a);
            return this;
        }

        public NodeProto toProto() {
            if (node.getName().isEmpty()) {
                int k = opCounters.merge(node.getOpType(), 1, Integer::sum);
                node.setName(node.getOpType() + "_" + k);
            }
            return node.build();
        }

        /** Adds the node to the graph and returns the builder. */
        public OnnxBuilder add() {
            nodes.add(toProto());
            return OnnxBuilder.this;
        }
    }
}
