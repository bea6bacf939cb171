package io.edgefleet.agent.energy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reading the one-number files of sysfs. */
final class SysfsFiles {
    private SysfsFiles() {
    }

    static long readLong(Path file) throws IOException {
        String s = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold a number: '" + (s.length() > 40 ? s.substring(0, 40) : s) + "'");
        }
    }

    /** Entries of {@code dir} whose file name matches, sorted by name; empty when the directory does not exist. */
    static List<Path> list(Path dir, Pattern name) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(p -> name.matcher(p.getFileName().toString()).matches()).sorted().toList());
        } catch (IOException e) {
            return List.of();
        }
    }
}
