package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.pipeline.ParamSpec.Bounds;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ParamSpecTest {

    private static void refused(ParamSpec<?> spec, String value, String message) {
        BadInputException e = assertThrows(BadInputException.class, () -> spec.parse(value), value);
        assertEquals(message, e.getMessage());
    }

    @Test
    void numbersKeepToTheirBoundsAndSayWhichInTheMessage() {
        ParamSpec<Double> open = ParamSpec.number("f", "0.5", Bounds.open(0, 1));
        assertEquals(ParamSpec.Type.NUMBER, open.type());
        assertEquals("(0, 1)", open.allowed());
        assertEquals(0.25, open.parse(" 0.25 "));
        for (String bad : List.of("0", "1", "-0.1", "abc", "", "NaN", "Infinity")) {
            refused(open, bad, "parameter 'f' must be a number in (0, 1), got '" + bad + "'");
        }
        ParamSpec<Double> upToOne = ParamSpec.number("g", "1", Bounds.openClosed(0, 1));
        assertEquals(1.0, upToOne.parse("1"));
        assertEquals("(0, 1]", upToOne.allowed());
        ParamSpec<Double> nonNegative = ParamSpec.number("h", "0", Bounds.atLeast(0));
        assertEquals(">= 0", nonNegative.allowed());
        assertEquals(0.0, nonNegative.parse("0"));
        refused(nonNegative, "-1e-9", "parameter 'h' must be a number >= 0, got '-1e-9'");
        assertEquals("[0.5, 2.25]", ParamSpec.number("c", "1", Bounds.closed(0.5, 2.25)).allowed());
        ParamSpec<Double> any = ParamSpec.number("a", "0", Bounds.ANY);
        assertEquals(-1e300, any.parse("-1e300"));
        refused(any, "1e999", "parameter 'a' must be a finite number, got '1e999'");
    }

    @Test
    void integersAreWholeAndBounded() {
        ParamSpec<Integer> positive = ParamSpec.integer("n", "8", Bounds.atLeast(1));
        assertEquals(ParamSpec.Type.INTEGER, positive.type());
        assertEquals(12, positive.parse("12"));
        for (String bad : List.of("0", "-3", "1.5", "1e3", "x", "99999999999")) {
            refused(positive, bad, "parameter 'n' must be an integer >= 1, got '" + bad + "'");
        }
        ParamSpec<Integer> window = ParamSpec.integer("w", "8", Bounds.closed(1, 2048));
        assertEquals("[1, 2048]", window.allowed());
        refused(window, "2049", "parameter 'w' must be an integer in [1, 2048], got '2049'");
        assertEquals(-7, ParamSpec.integer("seed", "0", Bounds.ANY).parse("-7"));
        ParamSpec<Integer> block = ParamSpec.integerOneOf("blockSize", "32", 32, 64, 128);
        assertEquals(64, block.parse("64"));
        refused(block, "48", "parameter 'blockSize' must be one of 32, 64, 128, got '48'");
    }

    enum Shape { PER_LAYER, GLOBAL }

    @Test
    void choicesAcceptAnyCaseAndGiveTheListedValue() {
        ParamSpec<String> words = ParamSpec.oneOf("rounding", "auto", "auto", "nearest", "gptq");
        assertEquals(ParamSpec.Type.CHOICE, words.type());
        assertEquals("auto, nearest, gptq", words.allowed());
        assertEquals("nearest", words.parse(" Nearest"));
        assertEquals("per_layer", ParamSpec.oneOf("s", "per_layer", "per_layer", "global").parse("Per-Layer"));
        refused(words, "stochastic", "parameter 'rounding' must be one of auto, nearest, gptq, got 'stochastic'");
        ParamSpec<Shape> shapes = ParamSpec.oneOf("scope", "per_layer", Shape.class);
        assertEquals("per_layer, global", shapes.allowed());
        assertEquals(Shape.PER_LAYER, shapes.parse("Per-Layer"));
        assertEquals(Shape.GLOBAL, shapes.parse("GLOBAL"));
        refused(shapes, "everywhere", "parameter 'scope' must be one of per_layer, global, got 'everywhere'");
        refused(shapes, "", "parameter 'scope' must be one of per_layer, global, got ''");
    }

    @Test
    void booleansAcceptTheUsualSpellings() {
        ParamSpec<Boolean> b = ParamSpec.bool("on", "true");
        for (String yes : List.of("true", "TRUE", "yes", "1", "on")) {
            assertTrue(b.parse(yes), yes);
        }
        for (String no : List.of("false", "No", "0", "off")) {
            assertFalse(b.parse(no), no);
        }
        refused(b, "maybe", "parameter 'on' must be true or false, got 'maybe'");
    }

    @Test
    void textHasItsOwnRule() {
        ParamSpec<String> upper = ParamSpec.text("code", "", "empty or upper-case letters", v -> {
            if (!v.matches("[A-Z]*")) {
                throw new IllegalArgumentException("not upper-case");
            }
            return v.isEmpty() ? null : v.toLowerCase(Locale.ROOT);
        });
        assertEquals(ParamSpec.Type.TEXT, upper.type());
        assertNull(upper.parse(""));
        assertEquals("ab", upper.parse("AB"));
        refused(upper, "ab", "parameter 'code' must be empty or upper-case letters, got 'ab'");
        refused(upper, null, "parameter 'code' must be empty or upper-case letters, got null");
    }

    @Test
    void aDefaultMustPassItsOwnRule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParamSpec.number("f", "1.5", Bounds.open(0, 1)));
        assertTrue(e.getMessage().contains("default '1.5' of parameter 'f'"), e.getMessage());
        ParamSpec<Integer> samples = ParamSpec.integer("samples", "256", Bounds.atLeast(1));
        ParamSpec<Integer> more = samples.withDefault("512");
        assertEquals("512", more.defaultValue());
        assertTrue(more.sameRuleAs(samples), "another default, the same rule");
        assertFalse(ParamSpec.integer("samples", "256", Bounds.atLeast(0)).sameRuleAs(samples));
        assertThrows(IllegalArgumentException.class, () -> samples.withDefault("0"));
        assertThrows(IllegalArgumentException.class, () -> ParamSpec.bool("bad name", "true"));
    }
}
