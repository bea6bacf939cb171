package io.edgefleet.it;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** One-line progress output, so a CI log says which broker and database a run used and where it waited. */
public final class Log {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private Log() {
    }

    public static void info(String message) {
        System.out.println("[it " + LocalTime.now().format(TIME) + "] " + message);
        System.out.flush();
    }
}
