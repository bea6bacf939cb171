package io.edgefleet.agent.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.PowerModel;
import io.edgefleet.protocol.drift.ReferenceProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a verified manifest said about an artifact beyond its bytes (the drift reference profile and
 * the class's power model), kept on disk by artifact sha256 so it is there again after a restart or a
 * rollback to the other slot. Also holds the self-reference an agent built for a model that came
 * without a profile. Files are written atomically; one that does not parse counts as absent.
 */
public final class ArtifactExtras {
    private static final System.Logger LOG = System.getLogger(ArtifactExtras.class.getName());
    private static final JsonCodec CODEC = new JsonCodec();

    /** The manifest's extras of one artifact. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Extras(ReferenceProfile referenceProfile, PowerModel power) {
    }

    private final Path dir;

    public ArtifactExtras(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    /** After a manifest verified: remember its extras (or forget stale ones when it has none). */
    public void save(String sha256, ReferenceProfile profile, PowerModel power) throws IOException {
        Path f = dir.resolve(sha256 + ".json");
        if (profile == null && power == null) {
            Files.deleteIfExists(f);
            return;
        }
        AtomicFiles.write(f, CODEC.mapper().writeValueAsBytes(new Extras(profile, power)));
    }

    public Extras get(String sha256) {
        return read(dir.resolve(sha256 + ".json"), Extras.class);
    }

    public void saveSelfReference(String sha256, ReferenceProfile profile) throws IOException {
        AtomicFiles.write(dir.resolve(sha256 + ".self.json"), CODEC.mapper().writeValueAsBytes(profile));
    }

    public ReferenceProfile selfReference(String sha256) {
        return read(dir.resolve(sha256 + ".self.json"), ReferenceProfile.class);
    }

    /** Deletes the files of artifacts other than these (the models in the two slots). */
    public void retainOnly(Collection<String> sha256s) {
        Set<String> keep = new HashSet<>();
        for (String s : sha256s) {
            keep.add(s + ".json");
            keep.add(s + ".self.json");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!keep.contains(f.getFileName().toString())) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot clean " + dir + ": " + e.getMessage());
        }
    }

    private static <T> T read(Path f, Class<T> type) {
        if (!Files.exists(f)) {
            return null;
        }
        try {
            T value = CODEC.mapper().readValue(Files.readAllBytes(f), type);
            if (value instanceof ReferenceProfile p) {
                p.validate();
            } else if (value instanceof Extras e && e.referenceProfile() != null) {
                e.referenceProfile().validate();
            }
            return value;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring unreadable " + f + ": " + e.getMessage());
            return null;
        }
    }
}
