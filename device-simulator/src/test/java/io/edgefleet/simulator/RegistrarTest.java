package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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

    @Test
    void registersABatchInOneRequestAndSavesEachDevice() throws Exception {
        CredentialStore store = new CredentialStore(dir);
        stub.on("POST /api/v1/device-registrations", 201, "{\"devices\":[" + ServerApiTest.registered("sim-0001") + ","
                + ServerApiTest.registered("sim-0002") + "]}");
        List<ServerApi.Registration> regs = new Registrar(new ServerApi(stub.url(), "t"), store)
                .registerAll(List.of("sim-0001", "sim-0002"), "gw");
        assertEquals(List.of("sim-0001", "sim-0002"), regs.stream().map(ServerApi.Registration::deviceId).toList());
        assertEquals("pw-sim-0002", regs.get(1).password());
        assertEquals(1, stub.requests("POST", "/api/v1/").size(), "one request for the batch");
        String body = stub.requests("POST", "/api/v1/device-registrations").get(0).body();
        assertTrue(body.contains("\"id\":\"sim-0001\"") && body.contains("\"id\":\"sim-0002\"")
                && body.contains("\"classId\":\"gw\""), body);
        assertEquals(regs.get(1), store.load("sim-0002").orElseThrow(), "saved for a rerun");
    }

    @Test
    void aBatchWithAnExistingDeviceFallsBackToOneRequestEachReusingSavedCredentials() throws Exception {
        CredentialStore store = new CredentialStore(dir);
        ServerApi.Registration earlier = new ServerApi.Registration("sim-0001", "sim-0001", "old-pw", "tcp://127.0.0.1:1883",
                List.of(ServerApiTest.KEY));
        store.save(earlier);
        stub.on("POST /api/v1/device-registrations", 409, "{\"error\":\"ALREADY_EXISTS\",\"message\":\"device 'sim-0001' exists\"}");
        stub.on("POST /api/v1/devices", r -> r.body().contains("sim-0001")
                ? new StubServer.Answer(409, "{\"error\":\"ALREADY_EXISTS\",\"message\":\"exists\"}")
                : new StubServer.Answer(201, ServerApiTest.registered("sim-0002")));
        List<ServerApi.Registration> regs = new Registrar(new ServerApi(stub.url(), "t"), store)
                .registerAll(List.of("sim-0001", "sim-0002"), "gw");
        assertEquals(earlier, regs.get(0));
        assertEquals("pw-sim-0002", regs.get(1).password());
        assertEquals(2, stub.requests("POST", "/api/v1/devices").size());
    }

    @Test
    void aBatchAnswerThatDoesNotMatchTheRequestIsRefused() {
        stub.on("POST /api/v1/device-registrations", 201, "{\"devices\":[" + ServerApiTest.registered("sim-0002") + ","
                + ServerApiTest.registered("sim-0001") + "]}");
        ApiException e = assertThrows(ApiException.class, () -> new Registrar(new ServerApi(stub.url(), "t"),
                new CredentialStore(dir)).registerAll(List.of("sim-0001", "sim-0002"), "gw"));
        assertTrue(e.getMessage().contains("another order"), e.getMessage());
        assertTrue(Files.notExists(new CredentialStore(dir).file("sim-0001")), "nothing saved from a refused answer");
    }

    @Test
    void aBatchRefusedForAnotherReasonIsNotRetriedDeviceByDevice() {
        stub.on("POST /api/v1/device-registrations", 400, "{\"error\":\"UNKNOWN_DEVICE_CLASS\",\"message\":\"no class\"}");
        ApiException e = assertThrows(ApiException.class, () -> new Registrar(new ServerApi(stub.url(), "t"),
                new CredentialStore(dir)).registerAll(List.of("sim-0001"), "x"));
        assertEquals("UNKNOWN_DEVICE_CLASS", e.code());
        assertEquals(0, stub.requests("POST", "/api/v1/devices").size());
    }
}
