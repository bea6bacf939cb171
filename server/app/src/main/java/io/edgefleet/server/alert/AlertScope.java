package io.edgefleet.server.alert;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The granularity a rule is evaluated at: one alert per class, per class and model, per class, model
 * and version, or per device (and the version it runs). Never coarser than the labels say.
 */
@Schema(description = "The grouping a rule is evaluated at: one alert per class, model, version or device.")
public enum AlertScope {
    CLASS, MODEL, VERSION, DEVICE
}
