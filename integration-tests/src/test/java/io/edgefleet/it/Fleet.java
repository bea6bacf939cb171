package io.edgefleet.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One test fleet: a database (PostgreSQL or H2), a broker (Mosquitto or embedded), the packaged server
 * process, and edge agents running in this JVM with their own data directories. Everything is
 * stopped and removed by {@link #close()}, agents first so their OFFLINE status still reaches the server.
 */
public final class Fleet implements AutoCloseable {
    /** What registering a device returned: its credentials and what it must pin. */
    public record Device(String id, String classId, String username, String password, String mqttUrl, List<String> serverKeys) {
    }

    private final String name;
    private final TestDatabase database;
    private final TestBroker broker;
    private ServerProcess server;
    private final Api api;
    private final Map<String, Agent> agents = new LinkedHashMap<>();
    private final List<Path> agentDirs = new ArrayList<>();
    private final List<ServerProcess> replicas = new ArrayList<>();

    private Fleet(String name, TestDatabase database, TestBroker broker, ServerProcess server) {
        this.name = name;
        this.database = database;
        this.broker = broker;
        this.server = server;
        this.api = server.api();
    }

    public static Fleet start(String name) {
        return start(name, Map.of());
    }

    /** @param extraServerProperties additional {@code -D} settings for the server, e.g. a smaller upload limit */
    public static Fleet start(String name, Map<String, String> extraServerProperties) {
        return start(name, extraServerProperties, () -> TestBroker.choose(name));
    }

    /** A fleet on a given kind of broker, for tests that must run against both. */
    public static Fleet start(String name, Map<String, String> extraServerProperties,
                              java.util.function.Supplier<TestBroker> brokers) {
        return start(name, extraServerProperties, brokers, TestDatabase::choose);
    }

    /** A fleet on a given kind of broker and database, for tests about one of them (e.g. H2's durability). */
    public static Fleet start(String name, Map<String, String> extraServerProperties,
                              java.util.function.Supplier<TestBroker> brokers,
                              java.util.function.Supplier<TestDatabase> databases) {
        TestDatabase db = databases.get();
        TestBroker broker = null;
        try {
            broker = brokers.get();
            Map<String, String> props = new LinkedHashMap<>(broker.serverProperties());
            props.putAll(extraServerProperties);
            ServerProcess server = ServerProcess.start(name, props, db.serverEnv());
            return new Fleet(name, db, broker, server);
        } catch (RuntimeException | Error e) {
            if (broker != null) {
                broker.close();
            }
            db.close();
            throw e;
        }
    }

    public Api api() {
        return api;
    }

    /**
     * Another server process on the same database and broker (a replica): its own data dir, MQTT client id and
     * HTTP port, the same API token so one {@link Api} per replica works alike. Closed with the fleet.
     */
    public ServerProcess startReplica(String replicaName, Map<String, String> extraServerProperties) {
        Map<String, String> props = new LinkedHashMap<>(broker.replicaServerProperties());
        props.putAll(extraServerProperties);
        props.put("edgefleet.api.token", server.token());
        ServerProcess replica = ServerProcess.start(replicaName, props, database.serverEnv());
        replicas.add(replica);
        return replica;
    }

    public TestDatabase database() {
        return database;
    }

    public TestBroker broker() {
        return broker;
    }

    public ServerProcess server() {
        return server;
    }

    /**
     * Kills the server with SIGKILL and starts it again on the same data directory, database, broker, port and
     * token, so {@link #api()} keeps working; returns once the restarted server is ready.
     */
    public void killAndRestartServer() {
        server.kill();
        server.restart();
    }

    /** Registers devices, then lets the broker accept their credentials (one reload for all of them). */
    public List<Device> register(String classId, String... ids) {
        List<Device> out = new ArrayList<>();
        for (String id : ids) {
            out.add(toDevice(api.registerDevice(id, classId), classId));
        }
        broker.syncCredentials(api);
        return out;
    }

    public static Device toDevice(JsonNode registered, String classId) {
        List<String> keys = new ArrayList<>();
        registered.path("serverKeys").forEach(k -> keys.add(k.asText()));
        JsonNode creds = registered.path("credentials");
        return new Device(registered.path("id").asText(), classId, creds.path("username").asText(),
                creds.path("password").asText(), registered.path("mqtt").path("url").asText(), keys);
    }

    /**
     * The text of an {@code agent.properties} for an agent in its own JVM: the device's identity, credentials and
     * pinned keys, its data directory, then {@code extra} (the agent's settings for this scenario).
     */
    public static String agentProperties(Device d, Path dataDir, Map<String, String> extra) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("deviceId", d.id());
        p.put("classId", d.classId());
        p.put("mqttUrl", d.mqttUrl());
        p.put("username", d.username());
        p.put("password", d.password());
        p.put("serverKeys", String.join(",", d.serverKeys()));
        p.put("dataDir", dataDir.toString());
        extra.forEach((k, v) -> {
            if (p.putIfAbsent(k, v) != null) {
                throw new IllegalArgumentException(k + " is set from the device and data directory; not an extra");
            }
        });
        StringBuilder text = new StringBuilder();
        p.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        return text.toString();
    }

    /** The agent configuration the scenarios use: short telemetry windows so health checks finish in seconds. */
    public AgentConfig.Builder agentConfig(Device d) {
        Path dir;
        try {
            dir = Files.createTempDirectory("edgefleet-agent-" + d.id() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        agentDirs.add(dir);
        return AgentConfig.builder()
                .deviceId(d.id())
                .classId(d.classId())
                .mqttUrl(d.mqttUrl())
                .username(d.username())
                .password(d.password())
                .serverKeys(d.serverKeys())
                .dataDir(dir)
                .telemetryWindowSeconds(2)
                .inferenceIntervalMs(50)
                .intraOpThreads(1)
                .downloadTimeoutSeconds(60);
    }

    public Agent startAgent(Device d) {
        return startAgent(agentConfig(d).build());
    }

    public Agent startAgent(Device d, Consumer<AgentConfig.Builder> tweak) {
        AgentConfig.Builder b = agentConfig(d);
        tweak.accept(b);
        return startAgent(b.build());
    }

    /** Starts an agent from a complete config, e.g. the config of a stopped agent to restart it on the same data. */
    public synchronized Agent startAgent(AgentConfig config) {
        Agent old = agents.get(config.deviceId());
        if (old != null) {
            old.stop();
        }
        Agent agent = new Agent(config);
        try {
            agent.start();
        } catch (IOException e) {
            throw new UncheckedIOException("agent " + config.deviceId() + " did not start", e);
        }
        agents.put(config.deviceId(), agent);
        return agent;
    }

    public Agent agent(String deviceId) {
        Agent a = agents.get(deviceId);
        if (a == null) {
            throw new IllegalArgumentException("no agent " + deviceId + " in fleet " + name);
        }
        return a;
    }

    @Override
    public void close() {
        for (Agent a : agents.values()) {
            try {
                a.stop();
            } catch (RuntimeException e) {
                Log.info("agent " + a.deviceId() + " did not stop cleanly: " + e.getMessage());
            }
        }
        agents.clear();
        for (ServerProcess r : replicas) {
            try {
                r.close();
            } catch (RuntimeException e) {
                Log.info("replica did not stop cleanly: " + e.getMessage());
            }
        }
        try {
            server.close();
        } finally {
            try {
                broker.close();
            } finally {
                database.close();
                agentDirs.forEach(MosquittoBroker::deleteTree);
            }
        }
    }
}
