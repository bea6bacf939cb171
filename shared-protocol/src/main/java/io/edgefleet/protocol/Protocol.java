package io.edgefleet.protocol;

import java.util.UUID;

/** Protocol constants shared by the server and the agents. */
public final class Protocol {
    /** Wire version carried in every JSON message as {@code v}. */
    public static final int VERSION = 1;
    public static final String CONTENT_TYPE_JSON = "application/json";
    public static final String CONTENT_TYPE_CHUNK = "application/octet-stream";
    /** Default upper bound for a JSON control message; chunks have their own bound. */
    public static final int DEFAULT_MAX_JSON_BYTES = 256 * 1024;
    public static final int DEFAULT_CHUNK_SIZE = 64 * 1024;

    private Protocol() {
    }

    /** A fresh message id; receivers de-duplicate on it. */
    public static String newMessageId() {
        return UUID.randomUUID().toString();
    }
}
