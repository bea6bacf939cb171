package io.edgefleet.server.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Maps every failure to {@code {"error":"CODE","message":"..."}} with the code's status: domain
 * errors ({@link ApiException}), framework errors (unknown route, wrong content type), malformed
 * JSON and bean-validation failures. Nothing else escapes as an HTML page or a stack trace.
 */
public class ApiExceptionMappers {
    private static final Logger LOG = Logger.getLogger(ApiExceptionMappers.class);

    @ServerExceptionMapper
    public Response apiException(ApiException e) {
        return respond(e.code(), e.getMessage(), e.fields());
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri, Request request) {
        Throwable cause = e.getCause();
        if (cause instanceof JsonProcessingException jpe) {
            return json(jpe);
        }
        if (cause instanceof java.io.CharConversionException cce) {
            return notText(cce);
        }
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        ErrorCode code = ErrorCode.forStatus(status);
        String message = switch (code) {
            case NOT_FOUND -> "no such resource: " + request.getMethod() + " /" + uri.getPath().replaceFirst("^/", "");
            case METHOD_NOT_ALLOWED -> "method " + request.getMethod() + " is not allowed on /" + uri.getPath().replaceFirst("^/", "");
            case UNSUPPORTED_MEDIA_TYPE -> "unsupported Content-Type for " + request.getMethod() + " /"
                    + uri.getPath().replaceFirst("^/", "") + " (see the API documentation for accepted types)";
            case NOT_ACCEPTABLE -> "cannot produce a representation matching the Accept header";
            default -> e.getMessage();
        };
        if (status >= 500) {
            LOG.error("request failed", e);
        }
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }

    /** Bytes the JSON reader cannot decode as UTF-8/16/32 text (found by fuzzing): malformed JSON, not a 500. */
    @ServerExceptionMapper
    public Response charConversion(java.io.CharConversionException e) {
        return notText(e);
    }

    static Response notText(java.io.CharConversionException e) {
        return respond(ErrorCode.MALFORMED_JSON, "malformed JSON: the body is not UTF-8, UTF-16 or UTF-32 text ("
                + firstLine(e.getMessage()) + ")", List.of());
    }

    @ServerExceptionMapper
    public Response jsonProcessing(JsonProcessingException e) {
        return json(e);
    }

    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e) {
        return json(e);
    }

    @ServerExceptionMapper
    public Response jsonMapping(JsonMappingException e) {
        return json(e);
    }

    @ServerExceptionMapper
    public Response constraintViolation(ConstraintViolationException e) {
        List<ApiError.FieldError> fields = e.getConstraintViolations().stream()
                .map(v -> new ApiError.FieldError(fieldPath(v), v.getMessage()))
                .sorted(Comparator.comparing(ApiError.FieldError::field))
                .toList();
        String summary = fields.stream().map(f -> f.field() + " " + f.reason()).collect(Collectors.joining("; "));
        return respond(ErrorCode.VALIDATION_FAILED, "invalid request: " + summary, fields);
    }

    @ServerExceptionMapper
    public Response brokerUnavailable(io.edgefleet.server.mqtt.MqttGateway.BrokerUnavailableException e) {
        return respond(ErrorCode.BROKER_UNAVAILABLE, e.getMessage(), List.of());
    }

    @ServerExceptionMapper(priority = 10_000)
    public Response unexpected(Throwable e) {
        LOG.error("unexpected error while handling a request", e);
        return respond(ErrorCode.INTERNAL_ERROR, "internal error: " + e.getClass().getSimpleName()
                + " (see the server log)", List.of());
    }

    static Response respond(ErrorCode code, String message, List<ApiError.FieldError> fields) {
        return Response.status(code.status()).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(code.name(), message, fields)).build();
    }

    /** A JSON body that does not parse, or parses into the wrong shape. */
    static Response json(JsonProcessingException e) {
        String path = e instanceof JsonMappingException jme ? jsonPath(jme) : "";
        String message;
        List<ApiError.FieldError> fields = new ArrayList<>();
        if (e instanceof UnrecognizedPropertyException upe) {
            message = "unknown field '" + (path.isEmpty() ? upe.getPropertyName() : path) + "'";
            fields.add(new ApiError.FieldError(path, "unknown field"));
        } else if (e instanceof InvalidFormatException ife) {
            message = "field '" + path + "': value " + ife.getValue() + " is not a valid "
                    + ife.getTargetType().getSimpleName();
            fields.add(new ApiError.FieldError(path, "not a valid " + ife.getTargetType().getSimpleName()));
        } else if (e instanceof MismatchedInputException && !path.isEmpty()) {
            message = "field '" + path + "': " + firstLine(e.getOriginalMessage());
            fields.add(new ApiError.FieldError(path, firstLine(e.getOriginalMessage())));
        } else {
            JsonLocation loc = e.getLocation();
            message = "malformed JSON" + (loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr())
                    + ": " + firstLine(e.getOriginalMessage());
        }
        ErrorCode code = e instanceof MismatchedInputException && !path.isEmpty()
                ? ErrorCode.VALIDATION_FAILED : ErrorCode.MALFORMED_JSON;
        return respond(code, message, fields);
    }

    private static String jsonPath(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** Drops the resource method and parameter names so a violation reads "slo.p95LatencyMs must be ...". */
    private static String fieldPath(ConstraintViolation<?> v) {
        List<String> parts = new ArrayList<>();
        boolean afterParameter = false;
        for (Path.Node node : v.getPropertyPath()) {
            if (node.getKind() == ElementKind.METHOD) {
                continue;
            }
            if (node.getKind() == ElementKind.PARAMETER) {
                afterParameter = true;
                continue;
            }
            if (node.getName() != null) {
                parts.add(node.getName() + (node.getIndex() != null ? "[" + node.getIndex() + "]" : ""));
            } else if (node.getIndex() != null) {
                parts.add("[" + node.getIndex() + "]");
            }
        }
        String p = String.join(".", parts).replace(".[", "[");
        return p.isEmpty() && afterParameter ? "body" : p;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        String line = (nl < 0 ? s : s.substring(0, nl))
                .replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
