package io.edgefleet.agent.store;

import io.edgefleet.protocol.ModelRef;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;

/**
 * The light fallback variants of one model, in {@code models/<name>/light/}: each verified fallback artifact as
 * {@code <sha256>.onnx}, and {@code links.properties} saying which fallback (and which p95 SLO) belongs to which
 * main artifact. A fallback is kept with the slot of its main model, so a rollback to the standby finds the
 * standby's own fallback; links of artifacts that left both slots go, and with them their files.
 *
 * <p>A file appears only by an atomic move of a download whose hash was checked, so a crash leaves either no
 * file or a whole one; a link is written after its file.
 */
public final class LightVariants {
    public static final String LINKS = "links.properties";
    public static final String DOWNLOAD_FILE = "download.part";

    private final Path dir;

    /** What a main artifact's deployment shipped beside it. */
    public record Link(ModelRef fallback, Double p95SloMs) {
    }

    public LightVariants(Path dir) {
        this.dir = dir;
    }

    /** Where a fallback's chunks are assembled (never the main slots' files). */
    public Path downloadFile() {
        return dir.resolve(DOWNLOAD_FILE);
    }

    public Path file(String sha256) {
        return dir.resolve(sha256 + ".onnx");
    }

    /** Whether a verified copy of this fallback is on disk. */
    public boolean has(ModelRef fallback) {
        return Files.isRegularFile(file(fallback.sha256()));
    }

    /** Moves an assembled, hash-checked download into place. */
    public void install(ModelRef fallback, Path assembled) throws IOException {
        Files.createDirectories(dir);
        Files.move(assembled, file(fallback.sha256()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Records that {@code mainSha256}'s deployment shipped {@code fallback}. */
    public synchronized void link(String mainSha256, ModelRef fallback, Double p95SloMs) throws IOException {
        Properties p = links();
        p.setProperty(mainSha256, fallback.model() + ":" + fallback.version() + ":" + fallback.sha256() + ":"
                + (p95SloMs == null ? "" : p95SloMs.toString()));
        write(p);
    }

    /** The fallback shipped with this main artifact, when its file is on disk; else null. */
    public synchronized Link linkOf(String mainSha256) {
        String v = links().getProperty(mainSha256);
        if (v == null) {
            return null;
        }
        String[] f = v.split(":", -1);
        if (f.length != 4) {
            return null;
        }
        try {
            ModelRef ref = new ModelRef(f[0], Long.parseLong(f[1]), f[2]);
            return has(ref) ? new Link(ref, f[3].isEmpty() ? null : Double.valueOf(f[3])) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Forgets the links of other main artifacts than these and deletes the files no link keeps. */
    public synchronized void retainOnly(Collection<String> mainSha256s) {
        Properties p = links();
        boolean changed = false;
        for (String k : p.stringPropertyNames()) {
            if (!mainSha256s.contains(k)) {
                p.remove(k);
                changed = true;
            }
        }
        Set<String> kept = new HashSet<>();
        for (String k : p.stringPropertyNames()) {
            String[] f = p.getProperty(k).split(":", -1);
            if (f.length == 4) {
                kept.add(f[2] + ".onnx");
            }
        }
        try {
            if (changed) {
                write(p);
            }
            if (!Files.isDirectory(dir)) {
                return;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.onnx")) {
                for (Path f : files) {
                    if (!kept.contains(f.getFileName().toString())) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        } catch (IOException e) {
            // Best effort: a stale fallback costs disk space until the next switch, never correctness.
        }
    }

    private Properties links() {
        Properties p = new Properties();
        Path f = dir.resolve(LINKS);
        if (Files.isRegularFile(f)) {
            try {
                p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
            } catch (IOException | IllegalArgumentException e) {
                return new Properties();
            }
        }
        return p;
    }

    private void write(Properties p) throws IOException {
        Files.createDirectories(dir);
        StringWriter w = new StringWriter();
        p.store(w, "main sha256 = fallback model:version:sha256:p95 SLO ms");
        AtomicFiles.write(dir.resolve(LINKS), w.toString().getBytes(StandardCharsets.UTF_8));
    }
}
