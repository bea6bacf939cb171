package io.edgefleet.agent.store;

import io.edgefleet.agent.degrade.SwitchPolicy;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The operator's pinned degradation modes ({@code full|light|cascade}, from a signed CONFIG command), by model name,
 * in {@code degradation-modes.properties}: a pin must survive a restart, or a device pinned to its light variant
 * because it overheats would come back on the full model after every power cut. {@code auto} is the absence of a
 * pin. The file is replaced atomically; an unreadable or malformed file reads as no pins (every model auto), and a
 * malformed line is skipped, so a damaged file can never stop the agent from serving.
 */
public final class PinnedModes {
    public static final String FILE = "degradation-modes.properties";

    private final Path file;

    public PinnedModes(Path dataDir) {
        this.file = dataDir.resolve(FILE);
    }

    /** The pins on disk, by model name (never {@code AUTO}). */
    public synchronized Map<String, SwitchPolicy.Command> load() {
        Map<String, SwitchPolicy.Command> out = new TreeMap<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException | IllegalArgumentException e) {
            return out;
        }
        for (String model : p.stringPropertyNames()) {
            try {
                SwitchPolicy.Command c = SwitchPolicy.Command.valueOf(p.getProperty(model).trim().toUpperCase(Locale.ROOT));
                if (c != SwitchPolicy.Command.AUTO) {
                    out.put(model, c);
                }
            } catch (IllegalArgumentException e) {
                // skipped: this model runs auto
            }
        }
        return out;
    }

    /**
     * Records one model's command ({@code AUTO} removes its pin).
     *
     * @throws IOException when the file cannot be written; the pin then holds only until the next restart
     */
    public synchronized void set(String model, SwitchPolicy.Command command) throws IOException {
        Map<String, SwitchPolicy.Command> pins = load();
        if (command == SwitchPolicy.Command.AUTO) {
            if (pins.remove(model) == null) {
                return;
            }
        } else if (pins.put(model, command) == command) {
            return;
        }
        Properties p = new Properties();
        pins.forEach((m, c) -> p.setProperty(m, c.name().toLowerCase(Locale.ROOT)));
        StringWriter w = new StringWriter();
        p.store(w, "model = pinned degradation mode (full, light, cascade); absent: auto");
        AtomicFiles.write(file, w.toString().getBytes(StandardCharsets.UTF_8));
    }
}
