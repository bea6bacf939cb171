package io.edgefleet.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Keeps each simulated device's credentials in {@code dataDir/<deviceId>/credentials.json} (owner
 * read/write only), because the server shows a password once: a second run with the same data dir
 * reuses them.
 */
public final class CredentialStore {
    private final Path dataDir;
    private final ObjectMapper json = new ObjectMapper();

    public CredentialStore(Path dataDir) {
        this.dataDir = dataDir;
    }

    public Path file(String deviceId) {
        return dataDir.resolve(deviceId).resolve("credentials.json");
    }

    public Optional<ServerApi.Registration> load(String deviceId) throws IOException {
        try {
            ServerApi.Registration r = json.readValue(Files.readAllBytes(file(deviceId)), ServerApi.Registration.class);
            if (r.username() == null || r.password() == null || r.mqttUrl() == null || r.serverKeys() == null
                    || r.serverKeys().isEmpty()) {
                throw new IOException(file(deviceId) + " is incomplete");
            }
            return Optional.of(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public void save(ServerApi.Registration r) throws IOException {
        Path f = file(r.deviceId());
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling("credentials.json.tmp");
        Files.write(tmp, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
