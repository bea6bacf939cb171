package io.edgefleet.agent.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The ids of the last commands handled, persisted, so a command the broker redelivers (QoS 1
 * duplicate, session replay after a restart) is not executed twice. Bounded: the oldest ids go.
 */
public final class SeenCommands {
    private static final System.Logger LOG = System.getLogger(SeenCommands.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();
    /** Ids recorded in memory whose write to disk failed; saved with the next write that works. */
    private int unsaved;

    public SeenCommands(Path file, int capacity) throws IOException {
        this.file = file;
        this.capacity = capacity;
        try {
            List<String> stored = JSON.readValue(Files.readAllBytes(file), new TypeReference<List<String>>() { });
            if (stored != null) {
                stored.stream().filter(s -> s != null && !s.isBlank()).forEach(ids::add);
            }
        } catch (NoSuchFileException e) {
            // first start
        } catch (IOException e) {
            // Losing the list only weakens de-duplication; the agent must still start.
            LOG.log(System.Logger.Level.WARNING, "ignoring unreadable " + file + ": " + e.getMessage());
        }
        trim();
    }

    public synchronized boolean seen(String commandId) {
        return ids.contains(commandId);
    }

    /**
     * Records an id; returns false when it was already there. The id is held in memory even when the
     * disk refuses the write (the IOException says so and {@link #unsaved()} counts it), so a redelivery
     * is still refused while the agent runs; the next write that works saves every held id.
     */
    public synchronized boolean add(String commandId) throws IOException {
        if (!ids.add(commandId)) {
            return false;
        }
        trim();
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(new ArrayList<>(ids)));
            unsaved = 0;
        } catch (IOException e) {
            unsaved++;
            throw e;
        }
        return true;
    }

    /** Ids held only in memory because the disk refused them; 0 once a write works again. */
    public synchronized int unsaved() {
        return unsaved;
    }

    public synchronized int size() {
        return ids.size();
    }

    private void trim() {
        var it = ids.iterator();
        while (ids.size() > capacity && it.hasNext()) {
            it.next();
            it.remove();
        }
    }
}
