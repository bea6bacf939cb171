/**
 * The REST API's shared parts: the one error vocabulary ({@link io.edgefleet.server.api.ApiError},
 * {@link io.edgefleet.server.api.ErrorCode}), pagination ({@link io.edgefleet.server.api.Pages}), body limits, and
 * the document-level OpenAPI declarations below (the rest of the document is completed by
 * {@link io.edgefleet.server.api.ApiDocumentFilter}; see docs/api.md).
 */
@OpenAPIDefinition(
        info = @Info(title = "edgefleet server API", version = "v1"),
        components = @Components(
                schemas = {@Schema(name = "ApiError", implementation = ApiError.class),
                        @Schema(name = "ErrorCode", implementation = ErrorCode.class)},
                securitySchemes = @SecurityScheme(securitySchemeName = ApiDocumentFilter.BEARER,
                        type = SecuritySchemeType.HTTP, scheme = "bearer",
                        description = "The API token: edgefleet.api.token (EDGEFLEET_API_TOKEN), or the one the server"
                                + " generated into <data dir>/api-token on first start. Send"
                                + " 'Authorization: Bearer <token>' on every /api call.")))
package io.edgefleet.server.api;

import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
