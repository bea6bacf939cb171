package io.edgefleet.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths inside the repository that the harness uses: the packaged server, the deploy/ config, build output. */
public final class Repo {
    private static final Path ROOT = findRoot();

    private Repo() {
    }

    public static Path root() {
        return ROOT;
    }

    /**
     * Quarkus' fast-jar launcher, produced by {@code ./mvnw -pl server/app package};
     * {@code -Dedgefleet.it.server-jar=...} points the tests at another build of it.
     */
    public static Path serverJar() {
        String override = System.getProperty("edgefleet.it.server-jar");
        if (override != null && !override.isBlank()) {
            return Path.of(override).toAbsolutePath();
        }
        return ROOT.resolve("server/app/target/quarkus-app/quarkus-run.jar");
    }

    public static Path mosquittoConf() {
        return ROOT.resolve("deploy/mosquitto/mosquitto.conf");
    }

    public static Path syncCredentialsScript() {
        return ROOT.resolve("deploy/mosquitto/sync-credentials.sh");
    }

    /** integration-tests/target: server and broker logs land here so a failed run can be read afterwards. */
    public static Path buildDir() {
        Path dir = ROOT.resolve("integration-tests/target");
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create " + dir, e);
        }
        return dir;
    }

    private static Path findRoot() {
        String configured = System.getProperty("edgefleet.repo.root");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        // Run from an IDE without the surefire property: walk up to the directory that holds this module.
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("integration-tests"))
                    && Files.isDirectory(p.resolve("deploy"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the edgefleet repository root from " + Path.of("").toAbsolutePath()
                + "; set -Dedgefleet.repo.root=/path/to/repo");
    }
}
