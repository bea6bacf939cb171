package io.edgefleet.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * JSON encoding of protocol messages. Decoding is defensive: payloads are size-bounded before they
 * are parsed, unknown fields are ignored (newer senders may add some), and every decoded message is
 * validated, so a caller either gets a well-formed message or a {@link ProtocolException} with a
 * reason code.
 */
public final class JsonCodec {
    private final ObjectMapper mapper;
    private final int maxBytes;

    public JsonCodec() {
        this(Protocol.DEFAULT_MAX_JSON_BYTES);
    }

    public JsonCodec(int maxBytes) {
        this.maxBytes = maxBytes;
        this.mapper = JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .build();
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(32)
                .maxStringLength(maxBytes)
                .maxNumberLength(64)
                .build());
    }

    public int maxBytes() {
        return maxBytes;
    }

    public byte[] encode(Message message) {
        try {
            return mapper.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    public <T extends Message> T decode(byte[] payload, Class<T> type) {
        if (payload == null || payload.length == 0) {
            throw new ProtocolException(ReasonCode.MALFORMED_PAYLOAD, "empty payload where a " + type.getSimpleName() + " was expected");
        }
        if (payload.length > maxBytes) {
            throw new ProtocolException(ReasonCode.OVERSIZED_PAYLOAD,
                    type.getSimpleName() + " payload of " + payload.length + " bytes exceeds the limit of " + maxBytes);
        }
        T message;
        try {
            message = mapper.readValue(payload, type);
        } catch (IOException e) {
            throw new ProtocolException(ReasonCode.MALFORMED_PAYLOAD,
                    "not a valid " + type.getSimpleName() + ": " + firstLine(e.getMessage()), e);
        }
        if (message == null) {
            throw new ProtocolException(ReasonCode.MALFORMED_PAYLOAD, "payload is JSON null");
        }
        message.validate();
        return message;
    }

    /** The mapper, configured as above, for callers that need to encode non-message JSON the same way. */
    public ObjectMapper mapper() {
        return mapper;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
