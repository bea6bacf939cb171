package io.edgefleet.server.api;

/**
 * Query parameters arrive as text. A bounded integer one is parsed here, once for every endpoint, so a
 * non-number or a value out of range is always a 400 {@code VALIDATION_FAILED} that names the parameter, its
 * bounds and (where the endpoint always said it) the value sent.
 */
public final class QueryParams {
    private QueryParams() {
    }

    /**
     * {@code raw} as an integer in {@code min..max}; {@code dflt} when it is absent or blank.
     *
     * @param name       the parameter's name, for the message
     * @param quoteRange whether a number out of range is reported like a non-number ("must be an integer between
     *                   min and max, not 'raw'") rather than as "must be between min and max"
     * @throws ApiException VALIDATION_FAILED for a non-integer (also one too large for an int) or a value out of range
     */
    public static int boundedInt(String name, String raw, int dflt, int min, int max, boolean quoteRange) {
        if (raw == null || raw.isBlank()) {
            return dflt;
        }
        String notAnInteger = name + " must be an integer between " + min + " and " + max + ", not '" + raw + "'";
        int n;
        try {
            n = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, notAnInteger);
        }
        if (n < min || n > max) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED,
                    quoteRange ? notAnInteger : name + " must be between " + min + " and " + max);
        }
        return n;
    }
}
