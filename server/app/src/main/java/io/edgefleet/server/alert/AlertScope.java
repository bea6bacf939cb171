package io.edgefleet.server.alert;

/**
 * The granularity a rule is evaluated at: one alert per class, per class and model, per class, model
 * and version, or per device (and the version it runs). Never coarser than the labels say.
 */
public enum AlertScope {
    CLASS, MODEL, VERSION, DEVICE
}
