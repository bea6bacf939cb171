package io.edgefleet.server.mqtt;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.device.ServerLoginEntity;
import io.edgefleet.server.security.MosquittoPasswordHash;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

/**
 * One Mosquitto shared by several replicas: each replica records its broker user at start (the test profile's is
 * {@code ops-server}), and the files any replica renders carry every replica's user with the server's rights, so a
 * sync from one replica no longer drops the others. Another replica is played by a row such as its start writes.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ServerLoginsTest {
    static final String OTHER = "replica-1-user";

    @Inject
    Session session;

    @Test
    void everyReplicasUserIsRenderedUntilItIsRemoved() {
        List<String> recorded = api().get("/api/v1/broker/server-logins").then().statusCode(200)
                .extract().jsonPath().getList("$", String.class);
        assertEquals(List.of("ops-server"), recorded, "this replica recorded its own user at start");
        ServerLoginEntity own = QuarkusTransaction.requiringNew().call(() -> session.find(ServerLoginEntity.class, "ops-server"));
        assertTrue(MosquittoPasswordHash.verify("ops-secret", own.passwordHash), "the stored hash is of the configured password");

        String otherHash = MosquittoPasswordHash.hash("replica-1-secret");
        QuarkusTransaction.requiringNew().run(() -> {
            ServerLoginEntity e = new ServerLoginEntity();
            e.username = OTHER;
            e.passwordHash = otherHash;
            e.recordedAt = System.currentTimeMillis();
            session.persist(e);
        });
        Api.createClass("sl-class");
        Api.registerDevice("sl-dev", "sl-class");

        String passwd = api().get("/api/v1/broker/mosquitto/passwd").then().statusCode(200).extract().asString();
        List<String> users = passwd.lines().map(l -> l.substring(0, l.indexOf(':'))).toList();
        assertEquals("ops-server", users.get(0), "this replica first:\n" + passwd);
        assertTrue(users.contains(OTHER) && users.contains("sl-dev"), passwd);
        assertTrue(passwd.contains(OTHER + ":" + otherHash + "\n"), "the other replica's line as it recorded it");
        assertTrue(MosquittoPasswordHash.verify("ops-secret", passwd.lines().findFirst().orElseThrow().substring("ops-server:".length())));
        String acl = api().get("/api/v1/broker/mosquitto/acl").then().statusCode(200).extract().asString();
        for (String user : List.of("ops-server", OTHER)) {
            assertTrue(acl.contains("user " + user + "\ntopic readwrite edgefleet/v1/#\n"), user + " has the server's rights:\n" + acl);
        }

        json().body(Map.of("id", OTHER, "classId", "sl-class")).post("/api/v1/devices").then().statusCode(400);

        api().delete("/api/v1/broker/server-logins/" + OTHER).then().statusCode(204);
        api().delete("/api/v1/broker/server-logins/" + OTHER).then().statusCode(404);
        assertFalse(api().get("/api/v1/broker/mosquitto/passwd").asString().contains(OTHER + ":"), "removed from the file");
        assertFalse(api().get("/api/v1/broker/mosquitto/acl").asString().contains("user " + OTHER + "\n"));
    }
}
