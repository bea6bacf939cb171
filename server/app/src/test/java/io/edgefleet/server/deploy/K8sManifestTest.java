package io.edgefleet.server.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s runs two server replicas against a broker that takes the user name as the client id
 * (use_username_as_clientid): each replica must log in as its own user with its own password, or the two
 * replicas keep taking each other's MQTT session over (issue 13).
 */
class K8sManifestTest {
    static final Path K8S = Path.of("").toAbsolutePath().getParent().getParent().resolve("deploy/k8s");

    @Test
    void eachServerReplicaHasItsOwnBrokerLogin() throws IOException {
        List<JsonNode> docs = read("config.yaml");
        docs.addAll(read("server.yaml"));
        JsonNode sts = find(docs, "StatefulSet", "edgefleet-server");
        int replicas = sts.path("spec").path("replicas").asInt();
        assertTrue(replicas >= 2, "the manifests run several replicas: " + replicas);

        JsonNode container = sts.path("spec").path("template").path("spec").path("containers").get(0);
        Map<String, JsonNode> env = new HashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
        assertEquals("metadata.name", env.get("POD_NAME").path("valueFrom").path("fieldRef").path("fieldPath").asText());
        assertEquals("$(POD_NAME)", env.get("EDGEFLEET_MQTT_USERNAME").path("value").asText(), "user = pod name");
        assertEquals("$(POD_NAME)", env.get("EDGEFLEET_MQTT_CLIENT_ID").path("value").asText(), "client id = pod name");
        String locations = env.get("QUARKUS_CONFIG_LOCATIONS").path("value").asText();
        assertTrue(locations.startsWith("file:") && locations.endsWith("/$(POD_NAME).properties"), locations);
        String mountDir = locations.substring("file:".length(), locations.lastIndexOf('/'));

        // The per-pod file comes from the edgefleet-server-mqtt secret, mounted where the location points.
        String volume = null;
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals(mountDir)) {
                volume = m.path("name").asText();
            }
        }
        assertNotNull(volume, "a volume is mounted at " + mountDir);
        String secretName = null;
        for (JsonNode v : sts.path("spec").path("template").path("spec").path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                secretName = v.path("secret").path("secretName").asText();
            }
        }
        JsonNode logins = find(docs, "Secret", secretName).path("stringData");
        Set<String> passwords = new HashSet<>();
        for (int i = 0; i < replicas; i++) {
            String key = "edgefleet-server-" + i + ".properties";
            assertTrue(logins.has(key), "secret " + secretName + " has a login for replica " + i + " (" + key + ")");
            Properties p = new Properties();
            p.load(new StringReader(logins.path(key).asText()));
            String password = p.getProperty("edgefleet.mqtt.password", "");
            assertFalse(password.isBlank(), key + " sets edgefleet.mqtt.password");
            assertTrue(passwords.add(password), "replica " + i + " has a password of its own");
        }

        // Nothing shared overrides the per-pod login (environment variables outrank the config file).
        for (JsonNode d : docs) {
            if (d.path("kind").asText().matches("ConfigMap|Secret") && !d.path("metadata").path("name").asText().equals(secretName)) {
                for (String k : List.of("EDGEFLEET_MQTT_USERNAME", "EDGEFLEET_MQTT_PASSWORD", "EDGEFLEET_MQTT_CLIENT_ID")) {
                    assertFalse(d.path("data").has(k) || d.path("stringData").has(k),
                            d.path("metadata").path("name").asText() + " must not set " + k + " for all replicas");
                }
            }
        }
    }

    private static List<JsonNode> read(String file) throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<JsonNode> out = new ArrayList<>();
        try (var it = yaml.readerFor(JsonNode.class).readValues(Files.readString(K8S.resolve(file)))) {
            while (it.hasNext()) {
                JsonNode n = (JsonNode) it.next();
                if (n != null && !n.isNull()) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    private static JsonNode find(List<JsonNode> docs, String kind, String name) {
        for (JsonNode d : docs) {
            if (d.path("kind").asText().equals(kind) && d.path("metadata").path("name").asText().equals(name)) {
                return d;
            }
        }
        return MissingNode.getInstance();
    }
}
