package io.edgefleet.simulator;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** Registers simulated devices, or reuses the credentials a previous run saved. */
public final class Registrar {
    private final ServerApi api;
    private final CredentialStore store;

    public Registrar(ServerApi api, CredentialStore store) {
        this.api = api;
        this.store = store;
    }

    /**
     * Registers {@code deviceIds} with one bulk request (one transaction on the server, instead of one per device).
     * When one of them already exists (409), or the server has no bulk registration (404/405: an older server), each
     * is registered on its own as {@link #register} does, which re-uses the credentials a previous run saved.
     */
    public List<ServerApi.Registration> registerAll(List<String> deviceIds, String classId) throws IOException {
        List<ServerApi.Registration> regs;
        try {
            regs = api.registerDevices(deviceIds, classId, List.of("sim"));
        } catch (ApiException e) {
            if (e.status() != 409 && e.status() != 404 && e.status() != 405) {
                throw e;
            }
            regs = new java.util.ArrayList<>(deviceIds.size());
            for (String id : deviceIds) {
                regs.add(register(id, classId));
            }
            return regs;
        }
        for (ServerApi.Registration r : regs) {
            store.save(r);
        }
        return regs;
    }

    /**
     * Registers {@code deviceId}; when the server says it already exists (409), the saved credentials
     * are used, and without them the failure says how to recover.
     */
    public ServerApi.Registration register(String deviceId, String classId) throws IOException {
        try {
            ServerApi.Registration r = api.registerDevice(deviceId, classId, List.of("sim"));
            store.save(r);
            return r;
        } catch (ApiException e) {
            if (e.status() != 409) {
                throw e;
            }
            Optional<ServerApi.Registration> saved = store.load(deviceId);
            if (saved.isEmpty()) {
                throw new ApiException(409, e.code(), "device " + deviceId + " is already registered on the server but "
                        + store.file(deviceId) + " does not exist, and the server never shows a password twice; use the"
                        + " --data-dir of the run that registered it, another --prefix, or rotate its credentials"
                        + " (POST /api/v1/devices/" + deviceId + "/credentials)");
            }
            return saved.get();
        }
    }
}
