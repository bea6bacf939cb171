package io.edgefleet.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Where the sign-in page may send the user back to: console paths only. */
class SafeNextTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "null", value = {
        "/console/rollouts/d-1,    /console/rollouts/d-1",
        "/console?classId=pi4,     /console?classId=pi4",
        "null,                     /console",
        "'',                       /console",
        "https://evil.example/,    /console",
        "//evil.example/console,   /console",
        "/console\\..\\x,          /console",
        "/api/v1/devices,          /console",
        "/console/login?next=/x,   /console",
    })
    void onlyConsolePaths(String next, String expected) {
        assertEquals(expected, ConsoleResource.safeNext(next));
    }
}
