package io.edgefleet.server.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Body of every error answer: {@code {"error":"CODE","message":"human reason"}}, plus field reasons when there are some. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@Schema(description = "Body of every error answer of the API (4xx and 5xx alike).")
public record ApiError(
        @Schema(description = "What went wrong, as one of the ErrorCode values; its HTTP status is fixed by the code.",
                ref = "ErrorCode", required = true)
        String error,
        @Schema(description = "A human-readable reason, naming the offending field or value where there is one.",
                required = true)
        String message,
        @Schema(description = "One entry per invalid field of the request body (VALIDATION_FAILED, MALFORMED_JSON);"
                + " absent otherwise.")
        List<FieldError> fields) {

    @Schema(description = "Why one field of a request was refused.")
    public record FieldError(
            @Schema(description = "Path of the field in the request body, e.g. 'slo.p95LatencyMs' or 'tags[2]'.")
            String field,
            @Schema(description = "Why it was refused, e.g. 'must be greater than 0'.")
            String reason) {
    }

    public static ApiError of(ErrorCode code, String message) {
        return new ApiError(code.name(), message, List.of());
    }
}
