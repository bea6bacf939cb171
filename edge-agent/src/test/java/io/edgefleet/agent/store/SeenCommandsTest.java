package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13, finding 5: a command id the disk refuses is still held, counted, and saved once the disk is back. */
class SeenCommandsTest {
    @TempDir
    Path dir;

    @AfterEach
    void heal() {
        AtomicFiles.injectFaults(null);
    }

    @Test
    void idsTheDiskRefusesAreHeldInMemoryCountedAndSavedLater() throws IOException {
        SeenCommands seen = new SeenCommands(dir.resolve("seen.json"), 16);
        AtomicFiles.injectFaults((op, p) -> {
            throw new IOException("No space left on device");
        });
        assertThrows(IOException.class, () -> seen.add("c-1"));
        assertEquals(1, seen.unsaved());
        assertFalse(seen.add("c-1"), "a redelivery is refused from memory although the disk has not recorded it");
        assertThrows(IOException.class, () -> seen.add("c-2"));
        assertEquals(2, seen.unsaved());

        AtomicFiles.injectFaults(null);
        assertTrue(seen.add("c-3"));
        assertEquals(0, seen.unsaved());
        SeenCommands restarted = new SeenCommands(dir.resolve("seen.json"), 16);
        assertTrue(restarted.seen("c-1") && restarted.seen("c-2") && restarted.seen("c-3"), "all saved with the first good write");
    }
}
