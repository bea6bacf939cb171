package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Name, element type and (if known) shape of a graph value. {@code dims} is null when the rank is unknown; a
 * dimension may be static, symbolic ("N") or unknown. Non-tensor values (sequences, maps) have {@code tensor=false}.
 */
public record ValueInfo(String name, ElemType type, List<Dim> dims, boolean tensor) {

    /** One dimension: {@code value >= 0} when static, otherwise {@code param} names it or it is unknown. */
    public record Dim(long value, String param) {
        public static Dim of(long value) {
            return new Dim(value, null);
        }

        public static Dim symbolic(String param) {
            return new Dim(-1, param);
        }

        public static Dim unknown() {
            return new Dim(-1, null);
        }

        public boolean isStatic() {
            return value >= 0;
        }

        @Override
        public String toString() {
            return isStatic() ? Long.toString(value) : param != null ? param : "?";
        }
    }

    public ValueInfo {
        dims = dims == null ? null : List.copyOf(dims);
    }

    public static ValueInfo tensor(String name, ElemType type, List<Dim> dims) {
        return new ValueInfo(name, type, dims, true);
    }

    /** Static-shape shortcut: {@code ValueInfo.of("x", FLOAT, 1, 3, 8, 8)}. */
    public static ValueInfo of(String name, ElemType type, long... dims) {
        List<Dim> list = new ArrayList<>();
        for (long d : dims) {
            list.add(d >= 0 ? Dim.of(d) : Dim.unknown());
        }
        return new ValueInfo(name, type, list, true);
    }

    public static ValueInfo from(ValueInfoProto p) {
        if (!p.hasType() || !p.getType().hasTensorType()) {
            return new ValueInfo(p.getName(), ElemType.UNDEFINED, null, p.hasType() ? false : true);
        }
        TypeProto.Tensor t = p.getType().getTensorType();
        List<Dim> dims = null;
        if (t.hasShape()) {
            dims = new ArrayList<>();
            for (TensorShapeProto.Dimension d : t.getShape().getDimList()) {
                if (d.hasDimValue()) {
                    dims.add(Dim.of(d.getDimValue()));
                } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
                    dims.add(Dim.symbolic(d.getDimParam()));
                } else {
                    dims.add(Dim.unknown());
                }
            }
        }
        return new ValueInfo(p.getName(), ElemType.fromCode(t.getElemType()), dims, true);
    }

    public ValueInfoProto toProto() {
        ValueInfoProto.Builder b = ValueInfoProto.newBuilder().setName(name);
        if (!tensor) {
            return b.build();
        }
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder();
        if (type != ElemType.UNDEFINED) {
            t.setElemType(type.code());
        }
        if (dims != null) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (Dim d : dims) {
                TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                if (d.isStatic()) {
                    db.setDimValue(d.value());
                } else if (d.param() != null) {
                    db.setDimParam(d.param());
                }
                s.addDim(db);
            }
            t.setShape(s);
        }
        return b.setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    public boolean hasShape() {
        return dims != null;
    }

    public int rank() {
        if (dims == null) {
            throw new IllegalStateException("rank of '" + name + "' is unknown");
        }
        return dims.size();
    }

    /** Dimensions with -1 for anything not static; empty list view when the rank is unknown is an error. */
    public long[] staticDims() {
        long[] out = new long[rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dims.get(i).value();
        }
        return out;
    }

    public boolean isFullyStatic() {
        return dims != null && dims.stream().allMatch(Dim::isStatic);
    }

    public ValueInfo withType(ElemType newType) {
        return new ValueInfo(name, newType, dims, tensor);
    }

    public ValueInfo withName(String newName) {
        return new ValueInfo(newName, type, dims, tensor);
    }

    /** Readable form such as {@code float32[N,1,8,8]}. */
    public String describe() {
        if (!tensor) {
            return "non-tensor";
        }
        String shape = dims == null ? "[?]" : dims.toString().replace(" ", "");
        return type.displayName() + shape;
    }

    public List<Dim> dimsOrEmpty() {
        return dims == null ? Collections.emptyList() : dims;
    }
}
