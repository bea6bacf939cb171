package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.edgefleet.engine.onnx.OnnxFormatException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable ONNX model. Reading keeps everything protobuf parsed, including fields this ONNX schema does not
 * know, so {@code read(bytes).toBytes()} gives the same bytes back for any canonically serialized model. Edit through
 * {@link #edit()}, which returns a mutable {@link Graph} over a copy.
 */
public final class OnnxModel {
    /** Lowest default-domain opset accepted: ONNX Runtime keeps kernels back to opset 7. */
    public static final int MIN_OPSET = 7;
    /** Highest default-domain opset accepted: ONNX Runtime 1.29 refuses newer ("under development") opsets. */
    public static final int MAX_OPSET = 26;
    /** Highest IR version ONNX Runtime 1.29 loads. */
    public static final long MAX_IR_VERSION = 13;
    /** Models are capped well below protobuf's 2 GiB limit; larger ones need external data, which is refused. */
    public static final int MAX_BYTES = Integer.MAX_VALUE - 1024;

    private final ModelProto proto;
    private volatile String sha256;
    private volatile byte[] bytes;

    private OnnxModel(ModelProto proto, byte[] bytes) {
        this.proto = proto;
        this.bytes = bytes;
    }

    /**
     * Parses and checks a model.
     *
     * @throws OnnxFormatException with a {@link Reason} when the bytes are not a model the engine can work with
     */
    public static OnnxModel read(byte[] data) {
        ModelProto proto;
        try {
            CodedInputStream in = CodedInputStream.newInstance(data);
            // Real models nest If/Loop bodies and deep value infos; the default limit of 100 is too tight for some.
            in.setRecursionLimit(400);
            proto = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("ended unexpectedly") || msg.contains("truncated")) {
                throw new OnnxFormatException(Reason.TRUNCATED,
                        "the model file is truncated (" + data.length + " bytes): the protobuf ends in the middle of a field",
                        e);
            }
            throw new OnnxFormatException(Reason.NOT_PROTOBUF,
                    "not an ONNX model: the bytes are not a valid protobuf ModelProto (" + msg + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        check(proto, data.length);
        return new OnnxModel(proto, null);
    }

    public static OnnxModel read(Path path) {
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > MAX_BYTES) {
                throw new OnnxFormatException(Reason.EXTERNAL_DATA, "model file " + path + " is " + size
                        + " bytes; models above 2 GiB need external data, which the engine does not handle");
            }
            data = Files.readAllBytes(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new io.edgefleet.engine.BadInputException("model file not found: " + path, e);
        } catch (IOException e) {
            throw new io.edgefleet.engine.BadInputException("cannot read model file " + path + ": " + e.getMessage(), e);
        }
        return read(data);
    }

    /** Wraps a proto built in code (builder, passes), applying the same checks as {@link #read(byte[])}. */
    public static OnnxModel of(ModelProto proto) {
        check(proto, -1);
        return new OnnxModel(proto, null);
    }

    private static void check(ModelProto m, int size) {
        boolean looksLikeModel = m.hasIrVersion() || m.getOpsetImportCount() > 0 || m.hasGraph();
        if (!looksLikeModel) {
            throw new OnnxFormatException(size == 0 ? Reason.TRUNCATED : Reason.NOT_PROTOBUF,
                    size == 0 ? "the model file is empty"
                            : "not an ONNX model: no ir_version, opset_import or graph in the protobuf");
        }
        if (!m.hasGraph()) {
            throw new OnnxFormatException(Reason.NO_GRAPH, "the model has no graph (field 7 of ModelProto is missing)");
        }
        if (m.getGraph().getOutputCount() == 0) {
            throw new OnnxFormatException(Reason.NO_GRAPH, "the model's graph declares no outputs");
        }
        if (m.getOpsetImportCount() == 0) {
            throw new OnnxFormatException(Reason.UNSUPPORTED_OPSET,
                    "the model declares no opset_import (IR version " + m.getIrVersion()
                            + "); ONNX Runtime needs IR version >= 3 with opset imports (or the file is truncated)");
        }
        if (m.getIrVersion() > MAX_IR_VERSION) {
            throw new OnnxFormatException(Reason.UNSUPPORTED_OPSET, "the model has IR version " + m.getIrVersion()
                    + "; ONNX Runtime 1.29 loads IR versions up to " + MAX_IR_VERSION);
        }
        for (OperatorSetIdProto op : m.getOpsetImportList()) {
            if (isDefaultDomain(op.getDomain())) {
                long v = op.getVersion();
                if (v < MIN_OPSET || v > MAX_OPSET) {
                    throw new OnnxFormatException(Reason.UNSUPPORTED_OPSET, "the model uses default-domain opset " + v
                            + "; supported range is " + MIN_OPSET + ".." + MAX_OPSET + " (convert it with onnx.version_converter)");
                }
            }
        }
        String external = findExternalTensor(m);
        if (external != null) {
            throw new OnnxFormatException(Reason.EXTERNAL_DATA, "tensor '" + external + "' keeps its data in an external "
                    + "file (data_location = EXTERNAL); save the model with weights inline "
                    + "(onnx.save_model(model, path, save_as_external_data=False)) and upload the single .onnx file");
        }
    }

    static boolean isDefaultDomain(String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }

    private static String findExternalTensor(ModelProto m) {
        String found = findExternal(m.getGraph());
        if (found != null) {
            return found;
        }
        for (FunctionProto f : m.getFunctionsList()) {
            for (NodeProto n : f.getNodeList()) {
                found = findExternal(n);
                if (found != null) {
                    return found;
                }
            }
        }
        for (var ti : m.getTrainingInfoList()) {
            for (GraphProto g : List.of(ti.getInitialization(), ti.getAlgorithm())) {
                found = findExternal(g);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String findExternal(GraphProto g) {
        for (TensorProto t : g.getInitializerList()) {
            if (Tensors.isExternal(t)) {
                return t.getName();
            }
        }
        for (SparseTensorProto s : g.getSparseInitializerList()) {
            if (Tensors.isExternal(s.getValues()) || Tensors.isExternal(s.getIndices())) {
                return s.getValues().getName();
            }
        }
        for (NodeProto n : g.getNodeList()) {
            String found = findExternal(n);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static String findExternal(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasT() && Tensors.isExternal(a.getT())) {
                return a.getT().getName().isEmpty() ? n.getName() + "." + a.getName() : a.getT().getName();
            }
            for (TensorProto t : a.getTensorsList()) {
                if (Tensors.isExternal(t)) {
                    return t.getName();
                }
            }
            if (a.hasG()) {
                String found = findExternal(a.getG());
                if (found != null) {
                    return found;
                }
            }
            for (GraphProto g : a.getGraphsList()) {
                String found = findExternal(g);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    public ModelProto proto() {
        return proto;
    }

    /** Serialized model. The array is shared; do not modify it. */
    public byte[] toBytes() {
        byte[] b = bytes;
        if (b == null) {
            b = proto.toByteArray();
            bytes = b;
        }
        return b;
    }

    /** Writes the model atomically: a reader never sees half a file. */
    public void write(Path path) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
            try {
                Files.write(tmp, toBytes());
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model to " + path, e);
        }
    }

    public long sizeBytes() {
        return toBytes().length;
    }

    /** Lower-case hex sha256 of the serialized model. */
    public String sha256() {
        String s = sha256;
        if (s == null) {
            s = sha256Hex(toBytes());
            sha256 = s;
        }
        return s;
    }

    public static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    public long irVersion() {
        return proto.getIrVersion();
    }

    /** The default-domain ("" / "ai.onnx") opset version, or -1 when the model imports none. */
    public int opsetVersion() {
        for (OperatorSetIdProto op : proto.getOpsetImportList()) {
            if (isDefaultDomain(op.getDomain())) {
                return (int) op.getVersion();
            }
        }
        return -1;
    }

    /** Domain to version, in file order; the default domain appears as "". */
    public Map<String, Integer> opsetImports() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (OperatorSetIdProto op : proto.getOpsetImportList()) {
            out.put(isDefaultDomain(op.getDomain()) ? "" : op.getDomain(), (int) op.getVersion());
        }
        return out;
    }

    public String graphName() {
        return proto.getGraph().getName();
    }

    /** Inputs a caller must feed: graph inputs that are not initializers (older IR lists weights as inputs). */
    public List<ValueInfo> inputs() {
        Set<String> init = new HashSet<>();
        for (TensorProto t : proto.getGraph().getInitializerList()) {
            init.add(t.getName());
        }
        List<ValueInfo> out = new ArrayList<>();
        for (ValueInfoProto v : proto.getGraph().getInputList()) {
            if (!init.contains(v.getName())) {
                out.add(ValueInfo.from(v));
            }
        }
        return Collections.unmodifiableList(out);
    }

    public List<ValueInfo> outputs() {
        List<ValueInfo> out = new ArrayList<>();
        for (ValueInfoProto v : proto.getGraph().getOutputList()) {
            out.add(ValueInfo.from(v));
        }
        return Collections.unmodifiableList(out);
    }

    /** metadata_props as a map, in file order. */
    public Map<String, String> metadata() {
        Map<String, String> out = new LinkedHashMap<>();
        for (StringStringEntryProto e : proto.getMetadataPropsList()) {
            out.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    /** A copy with one metadata entry set (replaced when the key exists), e.g. provenance of a compressed variant. */
    public OnnxModel withMetadata(String key, String value) {
        ModelProto.Builder b = proto.toBuilder();
        for (int i = 0; i < b.getMetadataPropsCount(); i++) {
            if (b.getMetadataProps(i).getKey().equals(key)) {
                b.setMetadataProps(i, StringStringEntryProto.newBuilder().setKey(key).setValue(value));
                return new OnnxModel(b.build(), null);
            }
        }
        b.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value));
        return new OnnxModel(b.build(), null);
    }

    /** Operator counts over the main graph and all subgraphs, keyed "op" or "domain:op", sorted by key. */
    public Map<String, Integer> opHistogram() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        countOps(proto.getGraph(), out);
        return out;
    }

    private static void countOps(GraphProto g, Map<String, Integer> out) {
        for (NodeProto n : g.getNodeList()) {
            String key = isDefaultDomain(n.getDomain()) ? n.getOpType() : n.getDomain() + ":" + n.getOpType();
            out.merge(key, 1, Integer::sum);
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    countOps(a.getG(), out);
                }
                for (GraphProto sub : a.getGraphsList()) {
                    countOps(sub, out);
                }
            }
        }
    }

    /** A mutable editing view over a copy of this model; {@link Graph#toModel()} gives the edited model. */
    public Graph edit() {
        return new Graph(proto.toBuilder());
    }

    @Override
    public String toString() {
        return "OnnxModel[" + graphName() + ", opset " + opsetVersion() + ", " + sizeBytes() + " bytes]";
    }
}
