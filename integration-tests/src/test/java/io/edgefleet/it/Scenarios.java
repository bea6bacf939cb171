package io.edgefleet.it;

/** Sizes and limits shared by the scenarios, kept in one place so their reasoning stays consistent. */
public final class Scenarios {
    private Scenarios() {
    }

    /** The heavy model: HEAVY_LAYERS products of a [HEAVY_SIZE]^2 matrix, tens of ms per inference on one core. */
    public static final int HEAVY_SIZE = 256;
    public static final int HEAVY_LAYERS = 64;
}
