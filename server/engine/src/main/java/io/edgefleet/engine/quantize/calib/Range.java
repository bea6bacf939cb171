package io.edgefleet.engine.quantize.calib;

/** A calibrated value range {@code [min, max]} of one activation tensor. */
public record Range(float min, float max) {
    public Range {
        if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
            throw new IllegalArgumentException("invalid range [" + min + ", " + max + "]");
        }
    }
}
