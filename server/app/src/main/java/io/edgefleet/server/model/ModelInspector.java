package io.edgefleet.server.model;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks that an uploaded file is an ONNX model the fleet can run and extracts its metadata.
 * Two gates: the protobuf must parse into a model with a graph, at least one node and one output
 * and no external tensor data; then ONNX Runtime must be able to create a session from it.
 * Plain Java, so the compression engine's reader can take its place later.
 */
public final class ModelInspector {
    /** ONNX's default operator-set domain is spelled "" or "ai.onnx". */
    private static final Set<String> DEFAULT_DOMAINS = Set.of("", "ai.onnx");

    private ModelInspector() {
    }

    public record TensorInfo(String name, String elementType, List<Object> shape) {
    }

    public record Inspection(long irVersion, long opset, String producer, List<TensorInfo> inputs,
                             List<TensorInfo> outputs) {
    }

    /** Why a file is not an acceptable model; the message is shown to the operator. */
    public static final class InvalidModelException extends Exception {
        public InvalidModelException(String message) {
            super(message);
        }

        public InvalidModelException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Inspection inspect(Path file) throws InvalidModelException {
        ModelProto model = parse(file);
        Inspection inspection = describe(model);
        loadWithOnnxRuntime(file);
        return inspection;
    }

    static ModelProto parse(Path file) throws InvalidModelException {
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream cis = CodedInputStream.newInstance(in);
            cis.setSizeLimit(Integer.MAX_VALUE);
            ModelProto model = ModelProto.parseFrom(cis);
            cis.checkLastTagWas(0);
            return model;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new InvalidModelException("not an ONNX model: the protobuf does not parse (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read the uploaded file: " + e.getMessage(), e);
        }
    }

    static Inspection describe(ModelProto model) throws InvalidModelException {
        if (!model.hasGraph()) {
            throw new InvalidModelException("not an ONNX model: it has no graph");
        }
        GraphProto graph = model.getGraph();
        if (graph.getNodeCount() == 0) {
            throw new InvalidModelException("the model's graph has no nodes");
        }
        if (graph.getOutputCount() == 0) {
            throw new InvalidModelException("the model's graph has no outputs");
        }
        if (model.getIrVersion() <= 0) {
            throw new InvalidModelException("the model has no ir_version");
        }
        long opset = -1;
        for (OnnxMl.OperatorSetIdProto o : model.getOpsetImportList()) {
            if (DEFAULT_DOMAINS.contains(o.getDomain())) {
                opset = o.getVersion();
            }
        }
        if (opset <= 0) {
            throw new InvalidModelException("the model imports no default-domain opset");
        }
        rejectExternalData(graph);
        Set<String> initializers = new HashSet<>();
        for (TensorProto t : graph.getInitializerList()) {
            initializers.add(t.getName());
        }
        List<TensorInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : graph.getInputList()) {
            // Older exporters list weights as graph inputs too; they are not inputs a caller feeds.
            if (!initializers.contains(v.getName())) {
                inputs.add(info(v));
            }
        }
        List<TensorInfo> outputs = graph.getOutputList().stream().map(ModelInspector::info).toList();
        String producer = model.getProducerName().isEmpty() ? null
                : (model.getProducerName() + (model.getProducerVersion().isEmpty() ? "" : " " + model.getProducerVersion()));
        return new Inspection(model.getIrVersion(), opset, producer, List.copyOf(inputs), outputs);
    }

    /**
     * External tensor data names files next to the model; ONNX Runtime would read them from the
     * server's disk, so such models are refused outright (artifacts are self-contained anyway).
     */
    private static void rejectExternalData(GraphProto graph) throws InvalidModelException {
        for (TensorProto t : graph.getInitializerList()) {
            checkTensor(t);
        }
        for (OnnxMl.SparseTensorProto s : graph.getSparseInitializerList()) {
            checkTensor(s.getValues());
            checkTensor(s.getIndices());
        }
        for (NodeProto n : graph.getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasT()) {
                    checkTensor(a.getT());
                }
                for (TensorProto t : a.getTensorsList()) {
                    checkTensor(t);
                }
                if (a.hasG()) {
                    rejectExternalData(a.getG());
                }
                for (GraphProto g : a.getGraphsList()) {
                    rejectExternalData(g);
                }
            }
        }
    }

    private static void checkTensor(TensorProto t) throws InvalidModelException {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new InvalidModelException("tensor '" + t.getName() + "' keeps its data in an external file;"
                    + " upload a self-contained model (save it without external data)");
        }
    }

    private static TensorInfo info(ValueInfoProto v) {
        TypeProto type = v.getType();
        if (type.hasTensorType()) {
            TypeProto.Tensor tt = type.getTensorType();
            return new TensorInfo(v.getName(), elementType(tt.getElemType()), tt.hasShape() ? shape(tt.getShape()) : null);
        }
        String kind = switch (type.getValueCase()) {
            case SEQUENCE_TYPE -> "sequence";
            case MAP_TYPE -> "map";
            case OPTIONAL_TYPE -> "optional";
            case SPARSE_TENSOR_TYPE -> "sparse_tensor";
            case OPAQUE_TYPE -> "opaque";
            default -> "unknown";
        };
        return new TensorInfo(v.getName(), kind, null);
    }

    private static String elementType(int code) {
        TensorProto.DataType dt = TensorProto.DataType.forNumber(code);
        return dt == null ? "type-" + code : dt.name().toLowerCase(Locale.ROOT);
    }

    /** Dimensions as numbers, symbolic names (e.g. "N") or null when unknown. */
    private static List<Object> shape(TensorShapeProto shape) {
        List<Object> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension d : shape.getDimList()) {
            if (d.hasDimValue()) {
                dims.add(d.getDimValue());
            } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
                dims.add(d.getDimParam());
            } else {
                dims.add(null);
            }
        }
        return dims;
    }

    static void loadWithOnnxRuntime(Path file) throws InvalidModelException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // Only proving the model loads: no graph optimisation, one thread, so uploads stay cheap.
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(file.toString(), options)) {
                if (session.getOutputNames().isEmpty()) {
                    throw new InvalidModelException("ONNX Runtime sees no outputs in the model");
                }
            }
        } catch (OrtException e) {
            throw new InvalidModelException("ONNX Runtime cannot load the model: " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 500 ? line.substring(0, 500) + "..." : line;
    }
}
