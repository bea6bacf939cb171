package io.edgefleet.server.api;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which request bodies the API accepts before anything reads them (promise 7, issue 13 finding 4):
 * every body declares its Content-Type (415); a JSON body declares its length (411 otherwise) and
 * stays within its endpoint's bound (413). Uploads (models, datasets) are streamed: their service
 * refuses a declared length over its limit before reading and counts the bytes while it streams.
 * Plain Java so it is tested as a table; {@link BodyLimitFilter} applies it before routing.
 */
public final class BodyLimits {
    private static final Pattern MODEL_UPLOAD = Pattern.compile("^/api/v1/models/[^/]+/versions/?$");
    private static final Pattern DATASET_UPLOAD = Pattern.compile("^/api/v1/datasets/[^/]+/?$");
    private static final Pattern DEPLOYMENTS = Pattern.compile("^/api/v1/deployments/?$");

    /** Bounds in bytes. */
    public record Limits(long json, long deploymentJson) {
    }

    /** Why a request is refused. */
    public record Refusal(ErrorCode code, String message) {
    }

    private final Limits limits;

    public BodyLimits(Limits limits) {
        this.limits = limits;
    }

    /** The bound of this endpoint's body, and whether it is an upload (streamed, may omit its length). */
    record Bound(long bytes, boolean upload, String what) {
    }

    Bound bound(String method, String path) {
        if ("POST".equals(method) && (MODEL_UPLOAD.matcher(path).matches() || DATASET_UPLOAD.matcher(path).matches())) {
            return new Bound(Long.MAX_VALUE, true, "an upload"); // bounded by its service, streamed
        }
        if ("POST".equals(method) && DEPLOYMENTS.matcher(path).matches()) {
            return new Bound(limits.deploymentJson(), false, "a deployment request");
        }
        return new Bound(limits.json(), false, "a JSON body here");
    }

    /**
     * @param contentLength    the header as sent, or null
     * @param transferEncoding the header as sent, or null
     */
    public Optional<Refusal> check(String method, String path, String contentType, String contentLength,
                                   String transferEncoding) {
        return check(method, path, contentType, contentLength, transferEncoding, false);
    }

    /**
     * @param http2 over HTTP/2 a body needs neither header: a typed request without a length may carry
     *              one; over HTTP/1.1 a request with neither Content-Length nor chunked encoding has none
     */
    public Optional<Refusal> check(String method, String path, String contentType, String contentLength,
                                   String transferEncoding, boolean http2) {
        String m = method == null ? "" : method.toUpperCase(Locale.ROOT);
        if (path == null || !(path.equals("/api") || path.startsWith("/api/"))
                || !(m.equals("POST") || m.equals("PUT") || m.equals("PATCH"))) {
            return Optional.empty();
        }
        boolean chunked = transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked");
        long length;
        if (contentLength == null || contentLength.isBlank()) {
            length = -1;
        } else {
            try {
                length = Long.parseLong(contentLength.trim());
            } catch (NumberFormatException e) {
                return Optional.of(new Refusal(ErrorCode.VALIDATION_FAILED, "Content-Length '" + contentLength + "' is not a number"));
            }
            if (length < 0) {
                return Optional.of(new Refusal(ErrorCode.VALIDATION_FAILED, "Content-Length must not be negative"));
            }
        }
        boolean typed = contentType != null && !contentType.isBlank();
        if (length == 0 || (length < 0 && !chunked && (!http2 || !typed))) {
            return Optional.empty(); // no body: e.g. POST .../credentials
        }
        if (!typed) {
            return Optional.of(new Refusal(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "a request body needs a Content-Type header (application/json for JSON, application/octet-stream for uploads)"));
        }
        Bound b = bound(m, path);
        // No length: chunked over HTTP/1.1, or a stream of unknown length over HTTP/2.
        if (length < 0 && !b.upload()) {
            return Optional.of(new Refusal(ErrorCode.LENGTH_REQUIRED,
                    b.what() + " must declare its Content-Length (at most " + b.bytes() + " bytes)"));
        }
        if (length > b.bytes()) {
            return Optional.of(new Refusal(ErrorCode.PAYLOAD_TOO_LARGE,
                    b.what() + " may be at most " + b.bytes() + " bytes; this one declares " + length));
        }
        return Optional.empty();
    }
}
