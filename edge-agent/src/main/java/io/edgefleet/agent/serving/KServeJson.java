package io.edgefleet.agent.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import java.io.ByteArrayOutputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Open Inference Protocol's JSON, read and written with Jackson's streaming API so tensor values go
 * straight into primitive arrays (no boxed numbers, no tree). A request is read in two passes over the
 * (bounded) body: the first learns each input's name, shape and datatype, the second reads each
 * {@code data} array, flat or nested, into the array of its datatype, so the order of the fields does
 * not matter.
 */
public final class KServeJson {
    /** Tensors nest a few levels; a deeper document is an attack, not a tensor. */
    static final int MAX_NESTING = 64;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).maxNumberLength(400).build())
            // Both passes must see the same document: a repeated key would be read differently by each.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private KServeJson() {
    }

    /** What the first pass learns about one input. */
    private record Header(String name, long[] shape, Datatype datatype) {
    }

    /** Reads a request body; BAD_REQUEST with the reason when it is not a valid inference request. */
    public static InferRequest readRequest(byte[] body) throws ServingException {
        try {
            List<Header> headers = new ArrayList<>();
            String id = null;
            List<String> outputs = new ArrayList<>();
            boolean sawInputs = false;
            try (JsonParser p = JSON.createParser(body)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw bad("the request body must be a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken t = p.nextToken();
                    switch (field) {
                        case "id" -> {
                            if (t != JsonToken.VALUE_STRING) {
                                throw bad("'id' must be a string");
                            }
                            id = p.getText();
                        }
                        case "inputs" -> {
                            if (t != JsonToken.START_ARRAY) {
                                throw bad("'inputs' must be an array of tensors");
                            }
                            sawInputs = true;
                            while (p.nextToken() != JsonToken.END_ARRAY) {
                                headers.add(readHeader(p, headers.size()));
                            }
                        }
                        case "outputs" -> {
                            if (t != JsonToken.START_ARRAY) {
                                throw bad("'outputs' must be an array of {\"name\": ...} objects");
                            }
                            while (p.nextToken() != JsonToken.END_ARRAY) {
                                outputs.add(readOutput(p));
                            }
                        }
                        default -> p.skipChildren(); // "parameters" and extensions this agent does not use
                    }
                }
                if (p.nextToken() != null) {
                    throw bad("unexpected content after the request object");
                }
            }
            if (!sawInputs || headers.isEmpty()) {
                throw bad("the request has no inputs");
            }
            Object[] data = readData(body, headers);
            List<InferInput> inputs = new ArrayList<>(headers.size());
            for (int i = 0; i < headers.size(); i++) {
                Header h = headers.get(i);
                inputs.add(new InferInput(h.name(), h.shape(), h.datatype(), data[i]));
            }
            return new InferRequest(id, inputs, outputs);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (CharConversionException e) {
            // Bytes that look like UTF-32 to Jackson's encoding detection but are not (found by InferRequestFuzzTest).
            throw bad("malformed JSON: the body is not text in a JSON encoding (" + InferenceService.firstLine(e.getMessage()) + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail to read otherwise
        }
    }

    private static Header readHeader(JsonParser p, int index) throws IOException, ServingException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw bad("inputs[" + index + "] must be an object with name, shape, datatype and data");
        }
        String name = null;
        long[] shape = null;
        String datatype = null;
        boolean data = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "name" -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw bad("inputs[" + index + "].name must be a string");
                    }
                    name = p.getText();
                }
                case "datatype" -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw bad("inputs[" + index + "].datatype must be a string");
                    }
                    datatype = p.getText();
                }
                case "shape" -> shape = readShape(p, index);
                case "data" -> {
                    data = true;
                    p.skipChildren();
                }
                case "parameters" -> {
                    if (t != JsonToken.START_OBJECT) {
                        throw bad("inputs[" + index + "].parameters must be an object");
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        if ("binary_data_size".equals(p.currentName())) {
                            throw bad("inputs[" + index + "]: binary tensor data is not supported; send the values in 'data'");
                        }
                        p.nextToken();
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        String label = name == null ? "inputs[" + index + "]" : "input '" + name + "'";
        if (name == null) {
            throw bad(label + " has no name");
        }
        if (datatype == null) {
            throw bad(label + " has no datatype");
        }
        String dt = datatype;
        Datatype type = Datatype.of(dt).orElseThrow(() -> bad(label + " has datatype '" + dt
                + "', which this API does not accept (supported: " + Datatype.supported() + ")"));
        if (shape == null) {
            throw bad(label + " has no shape");
        }
        if (!data) {
            throw bad(label + " has no data");
        }
        return new Header(name, shape, type);
    }

    private static long[] readShape(JsonParser p, int index) throws IOException, ServingException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw bad("inputs[" + index + "].shape must be an array of non-negative integers");
        }
        long[] shape = new long[4];
        int n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw bad("inputs[" + index + "].shape must be an array of non-negative integers");
            }
            if (n == shape.length) {
                shape = Arrays.copyOf(shape, n * 2);
            }
            shape[n++] = p.getLongValue();
        }
        return Arrays.copyOf(shape, n);
    }

    private static String readOutput(JsonParser p) throws IOException, ServingException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw bad("'outputs' must be an array of {\"name\": ...} objects");
        }
        String name = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            if ("name".equals(field) && t == JsonToken.VALUE_STRING) {
                name = p.getText();
            } else if ("parameters".equals(field) && t == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    if ("binary_data".equals(p.currentName()) && p.nextToken() == JsonToken.VALUE_TRUE) {
                        throw bad("binary output data is not supported");
                    }
                    p.skipChildren();
                }
            } else {
                p.skipChildren();
            }
        }
        if (name == null) {
            throw bad("an entry of 'outputs' has no name");
        }
        return name;
    }

    /** Second pass: each input's data array, read as its datatype. */
    private static Object[] readData(byte[] body, List<Header> headers) throws IOException, ServingException {
        Object[] out = new Object[headers.size()];
        try (JsonParser p = JSON.createParser(body)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (!"inputs".equals(field)) {
                    p.skipChildren();
                    continue;
                }
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    Header h = headers.get(i);
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        p.nextToken();
                        if ("data".equals(f)) {
                            Values v = new Values(h, expected(h.shape(), body.length));
                            v.read(p);
                            out[i] = v.array();
                        } else {
                            p.skipChildren();
                        }
                    }
                    i++;
                }
            }
        }
        return out;
    }

    /** The element count the shape announces, bounded by what the body could hold (one value per two bytes). */
    private static int expected(long[] shape, int bodyLength) {
        long n = io.edgefleet.agent.inference.Tensor.elementCount(shape);
        return (int) Math.max(0, Math.min(n, bodyLength / 2 + 1));
    }

    /** A growing primitive array of one datatype, filled from a flat or nested JSON array. */
    private static final class Values {
        private final Header h;
        private final Datatype type;
        private Object array;
        private int n;

        Values(Header h, int capacity) {
            this.h = h;
            this.type = h.datatype();
            this.array = java.lang.reflect.Array.newInstance(type.elementType().arrayClass().getComponentType(),
                    Math.max(capacity, 8));
        }

        void read(JsonParser p) throws IOException, ServingException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                // A lone scalar is a tensor of one value; some clients send that for shape [1].
                add(p);
                return;
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (p.currentToken() == JsonToken.START_ARRAY) {
                    read(p);
                } else {
                    add(p);
                }
            }
        }

        private void add(JsonParser p) throws IOException, ServingException {
            int length = java.lang.reflect.Array.getLength(array);
            if (n == length) {
                array = copyOf(array, length * 2);
            }
            JsonToken t = p.currentToken();
            switch (type) {
                case FP32, FP64 -> {
                    if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                        throw notA("a number", p);
                    }
                    if (type == Datatype.FP32) {
                        ((float[]) array)[n++] = p.getFloatValue();
                    } else {
                        ((double[]) array)[n++] = p.getDoubleValue();
                    }
                }
                case BOOL -> {
                    boolean v;
                    if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
                        v = t == JsonToken.VALUE_TRUE;
                    } else if (t == JsonToken.VALUE_NUMBER_INT && (p.getText().equals("0") || p.getText().equals("1"))) {
                        v = p.getText().equals("1");
                    } else {
                        throw notA("a boolean", p);
                    }
                    ((boolean[]) array)[n++] = v;
                }
                default -> {
                    if (t != JsonToken.VALUE_NUMBER_INT) {
                        throw notA("an integer", p);
                    }
                    long v;
                    try {
                        v = p.getLongValue();
                    } catch (InputCoercionException e) {
                        throw outOfRange(p);
                    }
                    switch (type) {
                        case INT64 -> ((long[]) array)[n++] = v;
                        case INT32 -> {
                            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                                throw outOfRange(p);
                            }
                            ((int[]) array)[n++] = (int) v;
                        }
                        case INT16 -> {
                            if (v < Short.MIN_VALUE || v > Short.MAX_VALUE) {
                                throw outOfRange(p);
                            }
                            ((short[]) array)[n++] = (short) v;
                        }
                        case INT8 -> {
                            if (v < Byte.MIN_VALUE || v > Byte.MAX_VALUE) {
                                throw outOfRange(p);
                            }
                            ((byte[]) array)[n++] = (byte) v;
                        }
                        case UINT8 -> {
                            if (v < 0 || v > 255) {
                                throw outOfRange(p);
                            }
                            ((byte[]) array)[n++] = (byte) v;
                        }
                        default -> throw new IllegalStateException(type.name());
                    }
                }
            }
        }

        private ServingException notA(String what, JsonParser p) throws IOException {
            String text = p.currentToken() == JsonToken.START_OBJECT ? "an object" : "'" + abbreviate(p.getText()) + "'";
            return bad("input '" + h.name() + "' (" + type + "): value " + n + " is " + text + ", not " + what);
        }

        private ServingException outOfRange(JsonParser p) throws IOException {
            return bad("input '" + h.name() + "': value " + n + " (" + abbreviate(p.getText()) + ") is out of range for "
                    + type);
        }

        Object array() {
            return copyOf(array, n);
        }

        private static Object copyOf(Object a, int length) {
            Object b = java.lang.reflect.Array.newInstance(a.getClass().getComponentType(), length);
            System.arraycopy(a, 0, b, 0, Math.min(length, java.lang.reflect.Array.getLength(a)));
            return b;
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    // ---------------------------------------------------------------- writing

    public static byte[] response(InferResponse r) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", r.modelName());
            g.writeStringField("model_version", r.modelVersion());
            if (r.id() != null) {
                g.writeStringField("id", r.id());
            }
            g.writeArrayFieldStart("outputs");
            for (InferOutput o : r.outputs()) {
                g.writeStartObject();
                g.writeStringField("name", o.name());
                g.writeStringField("datatype", o.datatype().name());
                writeShape(g, o.shape());
                g.writeArrayFieldStart("data");
                writeValues(g, o.datatype(), o.data());
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void writeValues(JsonGenerator g, Datatype type, Object data) throws IOException {
        switch (type) {
            case FP32 -> {
                for (float v : (float[]) data) {
                    g.writeNumber(v);
                }
            }
            case FP64 -> {
                for (double v : (double[]) data) {
                    g.writeNumber(v);
                }
            }
            case INT64 -> {
                for (long v : (long[]) data) {
                    g.writeNumber(v);
                }
            }
            case INT32 -> {
                for (int v : (int[]) data) {
                    g.writeNumber(v);
                }
            }
            case INT16 -> {
                for (short v : (short[]) data) {
                    g.writeNumber(v);
                }
            }
            case INT8 -> {
                for (byte v : (byte[]) data) {
                    g.writeNumber(v);
                }
            }
            case UINT8 -> {
                for (byte v : (byte[]) data) {
                    g.writeNumber(v & 0xFF);
                }
            }
            case BOOL -> {
                for (boolean v : (boolean[]) data) {
                    g.writeBoolean(v);
                }
            }
        }
    }

    private static void writeShape(JsonGenerator g, long[] shape) throws IOException {
        g.writeArrayFieldStart("shape");
        for (long d : shape) {
            g.writeNumber(d);
        }
        g.writeEndArray();
    }

    public static byte[] metadata(ModelMetadata m) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeArrayFieldStart("versions");
            for (String v : m.versions()) {
                g.writeString(v);
            }
            g.writeEndArray();
            g.writeStringField("platform", m.platform());
            for (String part : List.of("inputs", "outputs")) {
                g.writeArrayFieldStart(part);
                for (ModelMetadata.TensorMetadata t : part.equals("inputs") ? m.inputs() : m.outputs()) {
                    g.writeStartObject();
                    g.writeStringField("name", t.name());
                    g.writeStringField("datatype", t.datatype());
                    writeShape(g, t.shape());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        });
    }

    /** {@code {"error": "<reason>"}}, the protocol's error body. */
    public static byte[] error(String reason) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("error", reason);
            g.writeEndObject();
        });
    }

    /** {@code {"<field>": true|false}} plus, when given, the reason as {@code error}. */
    public static byte[] flag(String field, boolean value, String name, String reason) {
        return write(g -> {
            g.writeStartObject();
            if (name != null) {
                g.writeStringField("name", name);
            }
            g.writeBooleanField(field, value);
            if (reason != null) {
                g.writeStringField("error", reason);
            }
            g.writeEndObject();
        });
    }

    public static byte[] serverMetadata(String name, String version) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", name);
            g.writeStringField("version", version);
            g.writeArrayFieldStart("extensions");
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            w.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        return out.toByteArray();
    }

    private static ServingException malformed(JsonProcessingException e) {
        var loc = e.getLocation();
        String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        return bad("malformed JSON" + where + ": " + InferenceService.firstLine(e.getOriginalMessage()));
    }

    private static ServingException bad(String reason) {
        return new ServingException(ServingError.BAD_REQUEST, reason);
    }
}
