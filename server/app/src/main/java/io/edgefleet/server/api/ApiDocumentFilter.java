package io.edgefleet.server.api;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.headers.Header;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.MediaType;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

/**
 * Completes the OpenAPI document (at build time) with what the server does in one place for every operation, so
 * each resource method only describes its own answers:
 * <ul>
 * <li>every {@code /api} operation needs the bearer token ({@code ApiTokenFilter}): its security requirement and its
 * 401;</li>
 * <li>every error answer is an {@link ApiError} ({@code ApiExceptionMappers}): a 4xx/5xx response declared with a
 * description only gets the ApiError body;</li>
 * <li>every list with a {@code cursor} parameter is paged by {@link Pages}: its 200 gets the {@code X-Next-Cursor}
 * and {@code Link} headers;</li>
 * <li>the {@link ErrorCode} schema lists each code with its HTTP status, from the enum itself.</li>
 * </ul>
 */
public class ApiDocumentFilter implements OASFilter {
    public static final String BEARER = "bearer";
    static final String API_ERROR_REF = "#/components/schemas/ApiError";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() != null && openAPI.getPaths().getPathItems() != null) {
            for (Map.Entry<String, PathItem> path : openAPI.getPaths().getPathItems().entrySet()) {
                boolean api = path.getKey().startsWith("/api/");
                for (Operation op : path.getValue().getOperations().values()) {
                    complete(op, api);
                }
            }
        }
        if (openAPI.getComponents() != null && openAPI.getComponents().getSchemas() != null) {
            Schema codes = openAPI.getComponents().getSchemas().get("ErrorCode");
            if (codes != null) {
                codes.setDescription(errorCodeTable());
            }
        }
    }

    private static void complete(Operation op, boolean api) {
        if (op.getResponses() == null) {
            op.setResponses(OASFactory.createAPIResponses());
        }
        if (api) {
            op.setSecurity(List.of(OASFactory.createSecurityRequirement().addScheme(BEARER)));
            if (op.getResponses().getAPIResponse("401") == null) {
                op.getResponses().addAPIResponse("401", OASFactory.createAPIResponse().description(
                        "No valid 'Authorization: Bearer <token>' header (UNAUTHORIZED); nothing else is revealed."));
            }
        }
        for (Map.Entry<String, APIResponse> r : op.getResponses().getAPIResponses().entrySet()) {
            if ((r.getKey().startsWith("4") || r.getKey().startsWith("5")) && r.getValue().getRef() == null
                    && r.getValue().getContent() == null) {
                r.getValue().setContent(apiErrorContent());
            }
        }
        if (isPaged(op)) {
            APIResponse ok = op.getResponses().getAPIResponse("200");
            if (ok != null) {
                ok.addHeader(Pages.NEXT_CURSOR, header("Present when more items follow: the opaque cursor of the next"
                        + " page, to send back as the 'cursor' parameter. Absent on the last page."));
                ok.addHeader("Link", header("Present when more items follow: the URL of the next page,"
                        + " as <...>; rel=\"next\" (RFC 8288)."));
            }
        }
    }

    private static boolean isPaged(Operation op) {
        if (op.getParameters() == null) {
            return false;
        }
        for (Parameter p : op.getParameters()) {
            if ("cursor".equals(p.getName()) && p.getIn() == Parameter.In.QUERY) {
                return true;
            }
        }
        return false;
    }

    private static Header header(String description) {
        return OASFactory.createHeader().description(description)
                .schema(OASFactory.createSchema().addType(Schema.SchemaType.STRING));
    }

    private static Content apiErrorContent() {
        MediaType json = OASFactory.createMediaType().schema(OASFactory.createSchema().ref(API_ERROR_REF));
        return OASFactory.createContent().addMediaType(jakarta.ws.rs.core.MediaType.APPLICATION_JSON, json);
    }

    /** A Markdown table of every code and its status, made from the enum so it cannot drift from the server. */
    static String errorCodeTable() {
        StringBuilder sb = new StringBuilder("The one error vocabulary of the API: the 'error' of every ApiError."
                + " Each code always comes with the same HTTP status.\n\n| code | HTTP status |\n|---|---|\n");
        for (ErrorCode c : ErrorCode.values()) {
            sb.append("| `").append(c.name()).append("` | ").append(c.status()).append(" |\n");
        }
        return sb.toString();
    }
}
