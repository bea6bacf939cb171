package io.edgefleet.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import java.util.Set;

/**
 * Where the server URL and the API token come from, first match wins:
 * <ul>
 *   <li>server: {@code --server}, then {@code EDGEFLEET_SERVER}, then the config file, then {@value #DEFAULT_SERVER};</li>
 *   <li>token: {@code EDGEFLEET_TOKEN}, then the config file (never a command-line flag, which {@code ps} would show).</li>
 * </ul>
 * The config file is {@code $EDGEFLEET_CONFIG}, else {@code $XDG_CONFIG_HOME/edgefleet/config.properties}, else
 * {@code ~/.config/edgefleet/config.properties}; {@code edgefleet login} writes it with mode 0600.
 */
public final class CliConfig {
    public static final String DEFAULT_SERVER = "http://localhost:8080";
    static final String SERVER_KEY = "server";
    static final String TOKEN_KEY = "token";

    private CliConfig() {
    }

    public record Resolved(String server, String token, String tokenSource) {
    }

    public static Path file(CliContext ctx) {
        String explicit = ctx.env("EDGEFLEET_CONFIG");
        if (explicit != null) {
            return Path.of(explicit);
        }
        String xdg = ctx.env("XDG_CONFIG_HOME");
        Path base = xdg != null ? Path.of(xdg) : ctx.home().resolve(".config");
        return base.resolve("edgefleet").resolve("config.properties");
    }

    public static Resolved resolve(CliContext ctx, String serverFlag) {
        Properties file = read(file(ctx));
        String server = firstNonBlank(serverFlag, ctx.env("EDGEFLEET_SERVER"), file.getProperty(SERVER_KEY), DEFAULT_SERVER);
        String token = ctx.env("EDGEFLEET_TOKEN");
        String source = "EDGEFLEET_TOKEN";
        if (token == null) {
            token = blankToNull(file.getProperty(TOKEN_KEY));
            source = token == null ? null : file(ctx).toString();
        }
        return new Resolved(stripSlash(server), token, source);
    }

    static Properties read(Path file) {
        Properties p = new Properties();
        if (Files.isRegularFile(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new CliException("BAD_CONFIG", "cannot read " + file + ": " + e.getMessage(), ExitCode.USAGE);
            }
        }
        return p;
    }

    /** Writes server and token, readable by the owner only; the file never exists with wider permissions. */
    public static Path write(CliContext ctx, String server, String token) {
        Path file = file(ctx);
        Properties p = read(file);
        p.setProperty(SERVER_KEY, stripSlash(server));
        p.setProperty(TOKEN_KEY, token);
        try {
            Path dir = file.toAbsolutePath().getParent();
            boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
            if (!Files.isDirectory(dir)) {
                if (posix) {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else {
                    Files.createDirectories(dir);
                }
            }
            Path tmp = posix
                    ? Files.createTempFile(dir, ".config", ".tmp", PosixFilePermissions.asFileAttribute(owner()))
                    : Files.createTempFile(dir, ".config", ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "edgefleet CLI (written by 'edgefleet login')");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (posix) {
                Files.setPosixFilePermissions(file, owner());
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static Set<PosixFilePermission> owner() {
        return PosixFilePermissions.fromString("rw-------");
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        return null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
