package io.edgefleet.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one bounded-integer query parser behind Pages.limit and a device's mode-times window. */
class QueryParamsTest {

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(nullValues = "-", value = {
            "-,      7",
            "'',     7",
            "'  ',   7",
            "1,      1",
            "' 12 ', 12",
            "+3,     3",
            "20,     20",
    })
    void acceptsTheBoundsAndFallsBackToTheDefault(String raw, int expected) {
        assertEquals(expected, QueryParams.boundedInt("n", raw, 7, 1, 20, false));
    }

    @ParameterizedTest(name = "''{0}'' quoteRange={1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "0           | false | n must be between 1 and 20",
            "21          | false | n must be between 1 and 20",
            "-4          | false | n must be between 1 and 20",
            "lots        | false | n must be an integer between 1 and 20, not 'lots'",
            "1.5         | false | n must be an integer between 1 and 20, not '1.5'",
            "99999999999 | false | n must be an integer between 1 and 20, not '99999999999'",
            "0           | true  | n must be an integer between 1 and 20, not '0'",
            "21          | true  | n must be an integer between 1 and 20, not '21'",
            "lots        | true  | n must be an integer between 1 and 20, not 'lots'",
    })
    void rejectsWithAValidationErrorNamingTheParameterAndBounds(String raw, boolean quoteRange, String message) {
        ApiException e = assertThrows(ApiException.class, () -> QueryParams.boundedInt("n", raw, 7, 1, 20, quoteRange));
        assertEquals(ErrorCode.VALIDATION_FAILED, e.code());
        assertEquals(message, e.getMessage());
    }

    @Test
    void pagesLimitKeepsItsMessages() {
        assertEquals(Pages.DEFAULT_LIMIT, Pages.limit(null, Pages.DEFAULT_LIMIT));
        assertEquals(Pages.MAX_LIMIT, Pages.limit("1000", 100));
        assertEquals("limit must be between 1 and 1000",
                assertThrows(ApiException.class, () -> Pages.limit("1001", 100)).getMessage());
        assertEquals("limit must be an integer between 1 and 1000, not 'x'",
                assertThrows(ApiException.class, () -> Pages.limit("x", 100)).getMessage());
    }
}
