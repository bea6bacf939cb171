package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistrarTest {
    @TempDir
    Path dir;

    final StubServer stub;

    RegistrarTest() throws Exception {
        stub = new StubServer();
    }

    @AfterEach
    void tearDown() {
        stub.close();
    }

    @Test
    void firstRunSavesCredentialsAndARerunReusesThemOn409() throws Exception {
        CredentialStore store = new CredentialStore(dir);
        Registrar r = new Registrar(new ServerApi(stub.url(), "t"), store);
        stub.on("POST /api/v1/devices", 201, ServerApiTest.registered("sim-0001"));
        ServerApi.Registration first = r.register("sim-0001", "gw");
        assertTrue(Files.exists(store.file("sim-0001")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file("sim-0001"))));

        stub.on("POST /api/v1/devices", 409, "{\"error\":\"DEVICE_EXISTS\",\"message\":\"device 'sim-0001' exists\"}");
        assertEquals(first, new Registrar(new ServerApi(stub.url(), "t"), new CredentialStore(dir)).register("sim-0001", "gw"));
    }

    @Test
    void alreadyRegisteredWithoutSavedCredentialsSaysHowToRecover() {
        stub.on("POST /api/v1/devices", 409, "{\"error\":\"DEVICE_EXISTS\",\"message\":\"exists\"}");
        ApiException e = assertThrows(ApiException.class,
                () -> new Registrar(new ServerApi(stub.url(), "t"), new CredentialStore(dir)).register("sim-0002", "gw"));
        assertEquals(409, e.status());
        assertTrue(e.getMessage().contains("already registered"), e.getMessage());
        assertTrue(e.getMessage().contains("--data-dir"), e.getMessage());
    }

    @Test
    void otherErrorsPassThrough() {
        stub.on("POST /api/v1/devices", 400, "{\"error\":\"UNKNOWN_DEVICE_CLASS\",\"message\":\"no class\"}");
        ApiException e = assertThrows(ApiException.class,
                () -> new Registrar(new ServerApi(stub.url(), "t"), new CredentialStore(dir)).register("sim-0003", "x"));
        assertEquals("UNKNOWN_DEVICE_CLASS", e.code());
    }
}
