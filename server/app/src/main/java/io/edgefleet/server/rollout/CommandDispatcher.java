package io.edgefleet.server.rollout;

import io.edgefleet.protocol.Command;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.mqtt.MqttGateway;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rollout commands to devices through {@link MqttGateway#sendCommand}, many in flight at once
 * ({@link CommandPipeline}). A key per command (a target's deploy, a target's rollback) keeps a command
 * that is still being retried from being queued twice when the same work is asked for again (a device
 * coming online, the periodic sweep).
 */
@ApplicationScoped
public class CommandDispatcher {
    @Inject
    MqttGateway gateway;

    @Inject
    EdgefleetConfig config;

    private CommandPipeline pipeline;
    private final Set<String> queued = ConcurrentHashMap.newKeySet();

    @PostConstruct
    void init() {
        var c = config.rollout();
        pipeline = new CommandPipeline(gateway::sendCommand,
                new CommandPipeline.Options(c.dispatchWindow(), c.retryInitialBackoffMs(), c.retryMaxBackoffMs()));
    }

    void onStop(@Observes @Priority(40) ShutdownEvent event) {
        pipeline.close();
    }

    /**
     * Queues a command unless one with the same key is still on its way; null then. The future completes
     * when the broker acknowledged it (callbacks run on a Paho thread: hand slow work elsewhere).
     */
    public CompletableFuture<Void> send(String key, String deviceId, Command command) {
        if (!queued.add(key)) {
            return null;
        }
        CompletableFuture<Void> f = pipeline.submit(deviceId, command);
        f.whenComplete((ok, e) -> queued.remove(key));
        return f;
    }

    public CommandPipeline pipeline() {
        return pipeline;
    }
}
