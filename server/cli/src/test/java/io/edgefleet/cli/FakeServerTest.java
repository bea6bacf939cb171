package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** What the command tests share: a fresh fake server per test and the CLI pointed at it with a token. */
abstract class FakeServerTest {
    @TempDir
    Path home;

    FakeServer server;
    CliRun cli;

    @BeforeEach
    void setUp() {
        server = new FakeServer();
        cli = new CliRun(home).env("EDGEFLEET_SERVER", server.url()).env("EDGEFLEET_TOKEN", "t0k");
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    static JsonNode json(String s) throws Exception {
        return ApiClient.JSON.readTree(s);
    }
}
