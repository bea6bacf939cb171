package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The command-line log level holds for the whole run, also for loggers created after a garbage collection. */
class LogsTest {

    @AfterEach
    void restore() {
        Logs.configure(Level.INFO);
    }

    @Test
    void aQuietLevelSurvivesGarbageCollectionForLoggersCreatedLater() throws Exception {
        Logs.configure(Level.WARNING);
        // java.util.logging holds loggers weakly: collect until a weakly held object is really gone
        WeakReference<Object> sentinel = new WeakReference<>(new Object());
        for (int i = 0; i < 20 && sentinel.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(sentinel.get() == null, "the JVM did not collect; the test cannot tell");
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(10);
        }
        Logger late = Logger.getLogger("io.edgefleet.agent.LogsTest.created-after-gc");
        assertFalse(late.isLoggable(Level.INFO), "an agent logger created later must not print INFO");
        assertTrue(late.isLoggable(Level.WARNING));
        assertFalse(Logger.getLogger("com.example.library").isLoggable(Level.INFO), "nor a library's");

        Logs.configure(Level.INFO);
        assertTrue(Logger.getLogger("io.edgefleet.agent.LogsTest.verbose").isLoggable(Level.INFO), "--verbose shows INFO");
    }
}
