package io.edgefleet.agent;

import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Console logging for the command-line entry points: one line per record, and a level for the
 * agent's own loggers. Libraries embedding {@link Agent} keep their own logging set-up.
 */
public final class Logs {
    private Logs() {
    }

    public static void configure(Level agentLevel) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$-7s %5$s%6$s%n");
        }
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(Level.ALL);
        root.addHandler(console);
        Logger.getLogger("io.edgefleet").setLevel(agentLevel);
    }
}
