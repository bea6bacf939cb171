package io.edgefleet.engine.quantize;

/**
 * What a quantization pass did with one node: the precision it chose ({@code int8}, {@code int4}, {@code fp16},
 * {@code fp32}) and why, for the variant's report.
 */
public record NodeDecision(String node, String opType, String precision, String reason) {
    public boolean quantized() {
        return !precision.equals("fp32");
    }
}
