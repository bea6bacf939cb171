package io.edgefleet.agent.update;

import io.edgefleet.agent.store.StorageErrors;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Several models per device: one {@link UpdateManager} (own A/B store, download, health watch, commit and
 * rollback) per model name, so two models update at once without waiting for each other. A DEPLOY goes
 * to the manager of its artifact's model, created on first use; artifact messages and telemetry windows
 * go to every manager (each keeps only its own download's and candidate's).
 *
 * <p>A ROLLBACK names no model on the wire (commands stay as older agents know them): it belongs to the
 * model whose current or last update has the command's deployment id; a rollback without a deployment
 * id (or with one no model knows) goes to the only model that has a fallback, and is refused with
 * INVALID_FIELD when several have one, since guessing would roll back the wrong model.
 *
 * <p>Runs on the agent's single thread, like the managers.
 */
public final class ModelUpdates implements Updates {

    /** Creates the manager (and its empty store) of a model the device does not hold yet. */
    @FunctionalInterface
    public interface Factory {
        UpdateManager create(String model) throws IOException;
    }

    private final String deviceId;
    private final Factory factory;
    private final EventSink events;
    private final Map<String, UpdateManager> managers = new TreeMap<>();

    public ModelUpdates(String deviceId, Factory factory, EventSink events) {
        this.deviceId = deviceId;
        this.factory = factory;
        this.events = events;
    }

    /** Registers the manager of a model found on disk at start. */
    public void add(String model, UpdateManager manager) {
        managers.put(model, manager);
    }

    public UpdateManager get(String model) {
        return managers.get(model);
    }

    /** Every model's manager by name. */
    public Map<String, UpdateManager> all() {
        return Collections.unmodifiableMap(managers);
    }

    @Override
    public void onDeploy(Command cmd) {
        String model = cmd.artifact().model().model();
        if (!Topics.isId(model)) {
            reject(DeviceEvent.Type.DEPLOY_FAILED, cmd, ReasonCode.INVALID_FIELD, "model name '" + model
                    + "' is not a valid name (letters, digits, '.', '_', '-', at most 64)");
            return;
        }
        UpdateManager m = managers.get(model);
        if (m == null) {
            try {
                m = factory.create(model);
            } catch (IOException e) {
                reject(DeviceEvent.Type.DEPLOY_FAILED, cmd, StorageErrors.reason(e), "cannot create the store of model '"
                        + model + "': " + StorageErrors.describe(e));
                return;
            }
            managers.put(model, m);
        }
        m.onDeploy(cmd);
    }

    public void onArtifactMessage(String topic, byte[] payload) {
        for (UpdateManager m : new ArrayList<>(managers.values())) {
            m.onArtifactMessage(topic, payload);
        }
    }

    public void onWindow(TelemetryWindow w) {
        for (UpdateManager m : new ArrayList<>(managers.values())) {
            m.onWindow(w);
        }
    }

    @Override
    public void onRollback(Command cmd) {
        UpdateManager target = null;
        if (cmd.deploymentId() != null) {
            for (UpdateManager m : managers.values()) {
                if (cmd.deploymentId().equals(m.deploymentId())) {
                    target = m;
                    break;
                }
            }
        }
        if (target == null) {
            List<String> withFallback = new ArrayList<>();
            for (Map.Entry<String, UpdateManager> e : managers.entrySet()) {
                if (e.getValue().hasFallback()) {
                    withFallback.add(e.getKey());
                }
            }
            if (withFallback.size() == 1) {
                target = managers.get(withFallback.get(0));
            } else if (withFallback.size() > 1) {
                reject(DeviceEvent.Type.COMMAND_REJECTED, cmd, ReasonCode.INVALID_FIELD, "rollback of deployment "
                        + cmd.deploymentId() + " matches no model's update, and models " + withFallback
                        + " all have a fallback; not guessing which one to roll back");
                return;
            } else if (managers.size() == 1) {
                target = managers.values().iterator().next(); // it answers NO_FALLBACK with its model
            } else {
                reject(DeviceEvent.Type.COMMAND_REJECTED, cmd, ReasonCode.NO_FALLBACK,
                        "no model on this device has a fallback to roll back to");
                return;
            }
        }
        target.onRollback(cmd);
    }

    private void reject(DeviceEvent.Type type, Command cmd, ReasonCode reason, String detail) {
        events.event(DeviceEvent.of(deviceId, type, cmd.deploymentId(),
                cmd.artifact() == null ? null : cmd.artifact().model(), reason, detail));
    }
}
