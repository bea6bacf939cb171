package io.edgefleet.server.config;

import io.edgefleet.server.security.Secrets;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This server replica's stable id, kept in {@code ${data-dir}/server-instance-id}: its MQTT client id is
 * derived from it, and it owns the compression jobs it runs (a restart fails only those).
 */
@ApplicationScoped
public class InstanceId {
    @Inject
    DataDir dataDir;

    private String id;

    public synchronized String get() {
        if (id == null) {
            Path file = dataDir.resolve("server-instance-id");
            try {
                if (Files.isRegularFile(file)) {
                    String s = Files.readString(file, StandardCharsets.UTF_8).trim();
                    if (!s.isEmpty()) {
                        id = s;
                        return id;
                    }
                }
                String s = Secrets.randomToken().substring(0, 12);
                Files.writeString(file, s + "\n", StandardCharsets.UTF_8);
                id = s;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read or write " + file, e);
            }
        }
        return id;
    }
}
