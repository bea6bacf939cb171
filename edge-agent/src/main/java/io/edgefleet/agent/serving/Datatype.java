package io.edgefleet.agent.serving;

import io.edgefleet.agent.inference.ElementType;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The Open Inference Protocol tensor datatypes this agent exchanges, and their element types in the
 * runtime. FP16, BF16, BYTES and the unsigned types above 8 bits are described in model metadata
 * but refused in requests.
 */
public enum Datatype {
    BOOL(ElementType.BOOL),
    UINT8(ElementType.UINT8),
    INT8(ElementType.INT8),
    INT16(ElementType.INT16),
    INT32(ElementType.INT32),
    INT64(ElementType.INT64),
    FP32(ElementType.FLOAT),
    FP64(ElementType.DOUBLE);

    private final ElementType elementType;

    Datatype(ElementType elementType) {
        this.elementType = elementType;
    }

    public ElementType elementType() {
        return elementType;
    }

    /** The datatype of a protocol name (exact, upper case as the protocol spells it). */
    public static Optional<Datatype> of(String name) {
        for (Datatype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    public static Datatype of(ElementType t) {
        for (Datatype d : values()) {
            if (d.elementType == t) {
                return d;
            }
        }
        throw new IllegalArgumentException("no protocol datatype is exchanged for " + t);
    }

    /** The protocol's name for a runtime type name, including the types this agent does not exchange. */
    public static String protocolName(ElementType t, String runtimeName) {
        if (t != ElementType.OTHER) {
            return of(t).name();
        }
        return switch (runtimeName.toUpperCase(Locale.ROOT)) {
            case "FLOAT16" -> "FP16";
            case "BFLOAT16" -> "BF16";
            case "STRING" -> "BYTES";
            default -> runtimeName.toUpperCase(Locale.ROOT);
        };
    }

    public static String supported() {
        return Arrays.toString(values());
    }
}
