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
    /**
     * The agent's parent logger, held strongly: {@code java.util.logging} keeps loggers only weakly, so a level set
     * on a logger nobody references is lost at the next garbage collection, and loggers created after it (an
     * agent's, a library's) fell back to the root's INFO; the quickstart printed agent INFO lines after a minute.
     */
    private static volatile Logger agentLogger;

    private Logs() {
    }

    /**
     * One line per record on the console; the agent's loggers and the root (libraries) at {@code agentLevel}, so a
     * quiet command-line run (WARNING) shows no library INFO lines either.
     */
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
        root.setLevel(agentLevel);
        Logger agent = Logger.getLogger("io.edgefleet");
        agent.setLevel(agentLevel);
        agentLogger = agent;
    }
}
