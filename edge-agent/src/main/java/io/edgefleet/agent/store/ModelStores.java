package io.edgefleet.agent.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * The A/B stores of every model a device holds: one {@link ModelStore} per model name in
 * {@code dataDir/models/<name>/} (its own {@code slots/a|b} and {@code state.json}), so each model is
 * updated, committed and rolled back on its own and a crash repairs each one independently.
 *
 * <p>An agent upgraded in place finds the single-model layout of earlier versions
 * ({@code dataDir/state.json} and {@code dataDir/slots}); {@link #open} moves it once under the name of
 * the model it holds. The slots move first and the state last, so a crash in between is finished at
 * the next start (the state left at the top still names the model), and the committed model keeps running.
 */
public final class ModelStores {
    public static final String MODELS_DIR = "models";
    static final String LEGACY_STATE = "state.json";
    static final String LEGACY_SLOTS = "slots";

    private static final System.Logger LOG = System.getLogger(ModelStores.class.getName());
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Path root;
    private final NavigableMap<String, ModelStore> stores = new ConcurrentSkipListMap<>();
    private final List<RecoveryNote> notes = new ArrayList<>();

    private ModelStores(Path root) {
        this.root = root;
    }

    /** Migrates a single-model layout if there is one, then opens (and repairs) every model's store. */
    public static ModelStores open(Path dataDir) throws IOException {
        migrateLegacy(dataDir);
        Path root = dataDir.resolve(MODELS_DIR);
        Files.createDirectories(root);
        ModelStores all = new ModelStores(root);
        List<Path> dirs;
        try (Stream<Path> list = Files.list(root)) {
            dirs = list.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString)).toList();
        }
        for (Path dir : dirs) {
            String name = dir.getFileName().toString();
            if (!Topics.isId(name)) {
                LOG.log(System.Logger.Level.WARNING, "ignoring " + dir + ": not a model name");
                continue;
            }
            ModelStore s = ModelStore.open(dir);
            all.stores.put(name, s);
            all.notes.addAll(s.recoveryNotes());
        }
        return all;
    }

    /** The store of this model, or null when the device never held it. */
    public ModelStore get(String model) {
        return stores.get(model);
    }

    /** The store of this model, created empty on first use. */
    public ModelStore getOrCreate(String model) throws IOException {
        if (!Topics.isId(model)) {
            throw new IllegalArgumentException("'" + model + "' is not a valid model name");
        }
        ModelStore s = stores.get(model);
        if (s == null) {
            s = ModelStore.open(root.resolve(model));
            stores.put(model, s);
        }
        return s;
    }

    /** Every model's store, by name. */
    public Map<String, ModelStore> all() {
        return java.util.Collections.unmodifiableMap(stores);
    }

    /** What start-up recovery changed, over all models. */
    public List<RecoveryNote> recoveryNotes() {
        return List.copyOf(notes);
    }

    public long usableSpace() throws IOException {
        return Files.getFileStore(root).getUsableSpace();
    }

    /** Moves {@code dataDir/state.json} and {@code dataDir/slots} of an earlier agent under {@code models/<name>/}. */
    static void migrateLegacy(Path dataDir) throws IOException {
        Path state = dataDir.resolve(LEGACY_STATE);
        Path slots = dataDir.resolve(LEGACY_SLOTS);
        if (!Files.exists(state)) {
            // Slots without a state: an earlier agent that never installed a model; nothing points at them.
            if (Files.isDirectory(slots)) {
                deleteTree(slots);
            }
            return;
        }
        String name = legacyModelName(state);
        if ("".equals(name)) {
            // A readable state without any model: there is nothing to keep.
            Files.delete(state);
            if (Files.isDirectory(slots)) {
                deleteTree(slots);
            }
            return;
        }
        if (name == null) {
            LOG.log(System.Logger.Level.WARNING, "the single-model state in " + dataDir + " names no usable model;"
                    + " starting without it");
            Path aside = dataDir.resolve(LEGACY_STATE + ".corrupt-" + System.currentTimeMillis());
            Files.move(state, aside, StandardCopyOption.REPLACE_EXISTING);
            if (Files.isDirectory(slots)) {
                deleteTree(slots);
            }
            return;
        }
        Path target = dataDir.resolve(MODELS_DIR).resolve(name);
        Files.createDirectories(target);
        if (Files.isDirectory(slots)) {
            Path targetSlots = target.resolve(LEGACY_SLOTS);
            if (Files.exists(targetSlots)) {
                // Only an empty store can be there (the state, moved last, is still at the top): make room.
                deleteTree(targetSlots);
            }
            Files.move(slots, targetSlots, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(dataDir);
            AtomicFiles.syncDirectory(target);
        }
        AtomicFiles.move(state, target.resolve(LEGACY_STATE));
        try (Stream<Path> leftovers = Files.list(dataDir)) {
            for (Path f : leftovers.filter(f -> f.getFileName().toString().startsWith(".state.json")).toList()) {
                Files.deleteIfExists(f);
            }
        }
        LOG.log(System.Logger.Level.INFO, "moved the single-model store of '" + name + "' to " + target);
    }

    /**
     * The model a single-model state belongs to: its active model, else its staged or standby one; "" when
     * the state holds none, null when it cannot be read.
     */
    private static String legacyModelName(Path state) {
        try {
            StoreState s = JSON.readValue(Files.readAllBytes(state), StoreState.class);
            if (s == null) {
                return null;
            }
            for (var ref : new io.edgefleet.protocol.ModelRef[] {s.active(), s.staged(), s.standby()}) {
                if (ref != null) {
                    return Topics.isId(ref.model()) ? ref.model() : null;
                }
            }
            return "";
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
