package io.edgefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OutputTest {

    @Test
    void numbersAndSizesReadWell() {
        assertEquals("12", Table.number(12.0));
        assertEquals("12.5", Table.number(12.5));
        assertEquals("0.333", Table.number(1.0 / 3));
        assertEquals("1023 B", Table.bytes(1023));
        assertEquals("1.0 KiB", Table.bytes(1024));
        assertEquals("1.5 MiB", Table.bytes(1024 * 1536));
    }

    @Test
    void theProgressBarFillsInProportion() {
        assertEquals("x [------------------------------]   0.0% a", Progress.render("x", 0, "a"));
        assertEquals("x [###############---------------]  50.0% b", Progress.render("x", 0.5, "b"));
        assertEquals("x [##############################] 100.0% ", Progress.render("x", 1, null));
    }
}
