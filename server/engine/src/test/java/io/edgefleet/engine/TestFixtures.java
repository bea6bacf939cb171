package io.edgefleet.engine;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared real-data fixtures are: {@code -Dedgefleet.fixtures=DIR} if given, else {@code shared/} beside
 * the repository (the layout of a checkout and of CI), found from this module's directory. Tests that use them
 * assume they exist and skip otherwise; the main tests build their models in code.
 */
public final class TestFixtures {
    private TestFixtures() {
    }

    public static Path digits() {
        String override = System.getProperty("edgefleet.fixtures");
        if (override != null) {
            return Path.of(override).resolve("digits");
        }
        // server/engine -> repository root -> its parent, which holds shared/
        Path beside = Path.of("").toAbsolutePath().resolve("../../../shared/fixtures/digits").normalize();
        return Files.isDirectory(beside) ? beside : Path.of("/work/shared/fixtures/digits");
    }
}
