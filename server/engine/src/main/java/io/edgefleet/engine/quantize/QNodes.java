package io.edgefleet.engine.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.List;
import java.util.Optional;

/** Small NodeProto/attribute helpers for the quantization passes. */
final class QNodes {
    private QNodes() {
    }

    static NodeProto node(String opType, String name, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(opType).setName(name).addAllInput(inputs).addAllOutput(outputs);
        for (AttributeProto a : attrs) {
            b.addAttribute(a);
        }
        return b.build();
    }

    static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            b.addInts(x);
        }
        return b.build();
    }

    static Optional<AttributeProto> attr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    static long intAttr(NodeProto n, String name, long dflt) {
        return attr(n, name).map(AttributeProto::getI).orElse(dflt);
    }

    static float floatAttr(NodeProto n, String name, float dflt) {
        return attr(n, name).map(AttributeProto::getF).orElse(dflt);
    }

    static String input(NodeProto n, int i) {
        return i < n.getInputCount() ? n.getInput(i) : "";
    }

    static boolean defaultDomain(NodeProto n) {
        return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
    }
}
