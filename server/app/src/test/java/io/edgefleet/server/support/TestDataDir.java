package io.edgefleet.server.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A fresh data directory (and so a fresh H2 database, blob store and signing key) for each test
 * run, removed afterwards: tests never see state from an earlier run.
 */
public class TestDataDir implements QuarkusTestResourceLifecycleManager {
    private Path dir;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory("edgefleet-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("edgefleet.data-dir", dir.toString());
    }

    @Override
    public void stop() {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; the OS cleans up eventually
        }
    }
}
