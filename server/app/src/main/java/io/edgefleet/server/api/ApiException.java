package io.edgefleet.server.api;

import java.util.List;

/** The one exception type the domain throws; mapped once to an HTTP answer by {@link ApiExceptionMappers}. */
public class ApiException extends RuntimeException {
    private final ErrorCode code;
    private final List<ApiError.FieldError> fields;

    public ApiException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public ApiException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    public ApiException(ErrorCode code, String message, List<ApiError.FieldError> fields, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.fields = List.copyOf(fields);
    }

    public ErrorCode code() {
        return code;
    }

    public List<ApiError.FieldError> fields() {
        return fields;
    }

    public static ApiException notFound(String what, String id) {
        return new ApiException(ErrorCode.NOT_FOUND, what + " '" + id + "' does not exist");
    }

    public static ApiException invalid(String message) {
        return new ApiException(ErrorCode.VALIDATION_FAILED, message);
    }
}
