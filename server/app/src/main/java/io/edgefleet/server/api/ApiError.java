package io.edgefleet.server.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Body of every error answer: {@code {"error":"CODE","message":"human reason"}}, plus field reasons when there are some. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ApiError(String error, String message, List<FieldError> fields) {

    public record FieldError(String field, String reason) {
    }

    public static ApiError of(ErrorCode code, String message) {
        return new ApiError(code.name(), message, List.of());
    }
}
