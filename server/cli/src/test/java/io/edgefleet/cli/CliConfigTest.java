package io.edgefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the server URL and the token come from, and what {@code login} writes. */
class CliConfigTest {
    static final String CLASSES = "GET /api/v1/device-classes";

    @TempDir
    Path home;

    FakeServer server;
    CliRun cli;

    @BeforeEach
    void setUp() {
        server = new FakeServer();
        cli = new CliRun(home);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    Path configFile() {
        return home.resolve(".config/edgefleet/config.properties");
    }

    @Test
    void loginChecksTheTokenThenWritesAnOwnerOnlyFileThatLaterCommandsUse() throws Exception {
        server.on(CLASSES, 200, "[]");
        CliRun.Result login = cli.run("login", "--server", server.url() + "/", "--token", "s3cret");
        assertEquals(0, login.code(), login.toString());
        assertEquals("Bearer s3cret", server.last().header("Authorization"), "login verifies the token first");
        assertTrue(Files.isRegularFile(configFile()), login.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(configFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(configFile().getParent())));
        String text = Files.readString(configFile());
        assertTrue(text.contains("token=s3cret"), text);
        assertTrue(text.contains("server=" + server.url().replace(":", "\\:")), text);

        // no --server, no env: both come from the file
        CliRun.Result list = cli.run("classes", "list");
        assertEquals(0, list.code(), list.toString());
        assertEquals("Bearer s3cret", server.last().header("Authorization"));
    }

    @Test
    void aRefusedTokenIsNotSaved() {
        server.on(CLASSES, 401, "{\"error\":\"UNAUTHORIZED\",\"message\":\"invalid API token\"}");
        CliRun.Result r = cli.run("login", "--server", server.url(), "--token", "wrong");
        assertEquals(ExitCode.AUTH, r.code(), r.toString());
        assertEquals("error: UNAUTHORIZED: invalid API token\n", r.err());
        assertFalse(Files.exists(configFile()));
    }

    @Test
    void environmentWinsOverTheFileAndTheFlagWinsOverTheEnvironment() {
        CliConfig.write(ctx(), "http://from-file:1", "file-token");
        assertEquals(new CliConfig.Resolved("http://from-file:1", "file-token", configFile().toString()),
                CliConfig.resolve(ctx(), null));

        cli.env("EDGEFLEET_SERVER", "http://from-env:2").env("EDGEFLEET_TOKEN", "env-token");
        assertEquals(new CliConfig.Resolved("http://from-env:2", "env-token", "EDGEFLEET_TOKEN"), CliConfig.resolve(ctx(), null));
        assertEquals("http://from-flag:3", CliConfig.resolve(ctx(), "http://from-flag:3/").server());
    }

    @Test
    void withNothingConfiguredTheDefaultServerAndNoToken() {
        CliConfig.Resolved r = CliConfig.resolve(ctx(), null);
        assertEquals(CliConfig.DEFAULT_SERVER, r.server());
        assertNull(r.token());
    }

    @Test
    void edgefleetConfigAndXdgConfigHomeMoveTheFile() {
        cli.env("XDG_CONFIG_HOME", home.resolve("xdg").toString());
        assertEquals(home.resolve("xdg/edgefleet/config.properties"), CliConfig.file(ctx()));
        cli.env("EDGEFLEET_CONFIG", home.resolve("elsewhere.properties").toString());
        assertEquals(home.resolve("elsewhere.properties"), CliConfig.file(ctx()));
    }

    @Test
    void withoutATokenA401SaysHowToGiveOne() {
        server.on(CLASSES, 401, "{\"error\":\"UNAUTHORIZED\",\"message\":\"missing Authorization header\"}");
        CliRun.Result r = cli.run("--server", server.url(), "classes", "list");
        assertEquals(ExitCode.AUTH, r.code(), r.toString());
        assertNull(server.last().header("Authorization"));
        assertTrue(r.err().startsWith("error: UNAUTHORIZED: missing Authorization header (no API token: set EDGEFLEET_TOKEN"),
                r.err());
    }

    private CliContext ctx() {
        return new CliContext(null, null, Map.copyOf(cli.env), home, false, CliContext.DEFAULT_POLL);
    }
}
