package io.edgefleet.engine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The engine's version, recorded in every report and variant so a result can be traced to the code that made it. */
public final class EngineVersion {
    private static final String VERSION = load();

    private EngineVersion() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = EngineVersion.class.getResourceAsStream("engine.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v; // unfiltered resource (IDE run)
        } catch (IOException e) {
            return "unknown";
        }
    }
}
