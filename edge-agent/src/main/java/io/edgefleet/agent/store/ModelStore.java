package io.edgefleet.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.ModelRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A/B model slots on disk: {@code dataDir/slots/a|b/model.onnx} plus {@code dataDir/state.json}.
 * Each transition renames files and rewrites the state atomically, ordered so that a crash between
 * two steps is repaired by {@link Recovery} at the next start (which also re-hashes the slot files).
 * Not thread-safe: the agent drives it from its one update thread.
 */
public final class ModelStore {
    public static final String MODEL_FILE = "model.onnx";
    public static final String STAGED_FILE = "staged.onnx";
    public static final String DOWNLOAD_FILE = "download.part";
    /**
     * The command of the download in progress, kept while its part file may be resumed after a restart
     * (the update manager writes and removes it). Without it a part file is a leftover and is removed.
     */
    public static final String DOWNLOAD_RECORD = "download.json";

    private static final System.Logger LOG = System.getLogger(ModelStore.class.getName());
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Path dataDir;
    private final Path stateFile;
    private volatile StoreState state;
    private final List<RecoveryNote> recoveryNotes;

    private ModelStore(Path dataDir, StoreState state, List<RecoveryNote> notes) {
        this.dataDir = dataDir;
        this.stateFile = dataDir.resolve("state.json");
        this.state = state;
        this.recoveryNotes = notes;
    }

    /** Opens the store, repairing whatever an interrupted previous run left behind. */
    public static ModelStore open(Path dataDir) throws IOException {
        Files.createDirectories(dataDir.resolve("slots").resolve(Slot.A.dirName()));
        Files.createDirectories(dataDir.resolve("slots").resolve(Slot.B.dirName()));
        Path stateFile = dataDir.resolve("state.json");
        StoreState persisted = readState(stateFile);
        Map<String, Boolean> hashed = new HashMap<>();
        Recovery.Result r = Recovery.recover(persisted, (slot, model) -> hashed.computeIfAbsent(
                slot + "/" + model.sha256(), k -> intact(modelPath(dataDir, slot), model)));
        ModelStore store = new ModelStore(dataDir, r.state(), r.notes());
        // A disk that is full, read-only or unwritable must not keep the agent from starting with a
        // working model: recovery is decided from what is on disk, so the same decision is made at
        // every start until a write succeeds; meanwhile the recovered state lives in memory.
        try {
            if (r.changed(persisted)) {
                store.persist();
            }
            store.removeStrayFiles();
            try (Stream<Path> leftovers = Files.list(dataDir)) {
                // temp files of a state write that was interrupted before its rename
                for (Path f : leftovers.filter(f -> f.getFileName().toString().startsWith(".state.json")).toList()) {
                    AtomicFiles.checkDelete(f);
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            LOG.log(System.Logger.Level.WARNING, "the data directory refuses writes (" + StorageErrors.describe(io)
                    + "); running on the recovered state in memory: active "
                    + (r.state().active() == null ? "none" : r.state().active().label()));
        }
        for (RecoveryNote n : r.notes()) {
            LOG.log(System.Logger.Level.WARNING, "recovery: " + n.detail());
        }
        return store;
    }

    public StoreState state() {
        return state;
    }

    public List<RecoveryNote> recoveryNotes() {
        return recoveryNotes;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path activeModelPath() {
        return state.active() == null ? null : modelPath(dataDir, state.activeSlot());
    }

    public Path standbyModelPath() {
        return state.standby() == null ? null : modelPath(dataDir, state.activeSlot().other());
    }

    /** Where a download is assembled: a part file in the inactive slot, next to (not over) the fallback. */
    public Path downloadFile() {
        return slotDir(state.inactiveSlot()).resolve(DOWNLOAD_FILE);
    }

    /** See {@link #DOWNLOAD_RECORD}. */
    public Path downloadRecordFile() {
        return dataDir.resolve(DOWNLOAD_RECORD);
    }

    public Path stagedFile() {
        return slotDir(state.inactiveSlot()).resolve(STAGED_FILE);
    }

    public long usableSpace() throws IOException {
        return Files.getFileStore(dataDir).getUsableSpace();
    }

    /** The complete, verified download becomes the staged candidate. */
    public void stage(ModelRef candidate, String deploymentId) throws IOException {
        AtomicFiles.move(downloadFile(), stagedFile());
        update(state.withStaged(candidate, deploymentId));
    }

    /** Drops a staged candidate or a partial download; the running model and its fallback are untouched. */
    public void discardCandidate() throws IOException {
        AtomicFiles.deleteDurably(downloadFile());
        AtomicFiles.deleteDurably(stagedFile());
        if (state.phase() == Phase.STAGED || state.staged() != null) {
            update(state.withStaged(null, state.deploymentId()).withPhase(Phase.IDLE));
        }
    }

    /**
     * The staged candidate becomes the active model and the running one its fallback. The rename
     * happens first: a crash right after it leaves state STAGED with a fallback file that no longer
     * matches its hash, which recovery discards, so the old active model keeps running.
     */
    public void activateStaged() throws IOException {
        if (state.phase() != Phase.STAGED || state.staged() == null) {
            throw new IllegalStateException("nothing staged (phase " + state.phase() + ")");
        }
        Slot target = state.inactiveSlot();
        AtomicFiles.move(stagedFile(), modelPath(dataDir, target));
        update(new StoreState(StoreState.FORMAT, target, state.staged(), state.active(), Phase.ACTIVATED_UNCOMMITTED,
                state.deploymentId(), null, true));
    }

    public void commit() throws IOException {
        if (state.phase() != Phase.ACTIVATED_UNCOMMITTED) {
            throw new IllegalStateException("nothing to commit (phase " + state.phase() + ")");
        }
        update(state.withPhase(Phase.COMMITTED));
    }

    /**
     * Goes back to the fallback. After an automatic rollback the failed candidate is deleted so it can
     * never become someone's fallback; an operator rollback keeps it as the standby (a second
     * rollback undoes the first).
     */
    public void rollback(boolean keepRolledBackModel) throws IOException {
        if (state.standby() == null) {
            throw new IllegalStateException("no fallback model");
        }
        Slot old = state.activeSlot();
        update(state.swapped(keepRolledBackModel, keepRolledBackModel ? Phase.COMMITTED : Phase.IDLE));
        if (!keepRolledBackModel) {
            AtomicFiles.deleteDurably(modelPath(dataDir, old));
        }
    }

    /** Forgets a fallback that failed to load, so it is neither offered nor reported. */
    public void dropStandby() throws IOException {
        if (state.standby() != null) {
            Path p = standbyModelPath();
            update(state.withStandby(null));
            AtomicFiles.deleteDurably(p);
        }
    }

    /**
     * The active model, kept uncommitted after a health watch it did not pass, is watched again for a new deployment
     * of the same model: phase ACTIVATED_UNCOMMITTED, nothing downloaded or moved.
     */
    public void watchActiveAgain(String deploymentId) throws IOException {
        update(state.rewatched(deploymentId));
    }

    /** Ends an uncommitted activation without a fallback to go to: the candidate stays, uncommitted (unproven). */
    public void abandonWatch() throws IOException {
        if (state.phase() == Phase.ACTIVATED_UNCOMMITTED) {
            update(state.withPhase(Phase.IDLE));
        }
    }

    private void update(StoreState next) throws IOException {
        StoreState prev = state;
        state = next;
        try {
            persist();
        } catch (IOException e) {
            state = prev;
            throw e;
        }
    }

    private void persist() throws IOException {
        AtomicFiles.write(stateFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
    }

    private Path slotDir(Slot slot) {
        return dataDir.resolve("slots").resolve(slot.dirName());
    }

    static Path modelPath(Path dataDir, Slot slot) {
        return dataDir.resolve("slots").resolve(slot.dirName()).resolve(MODEL_FILE);
    }

    private static boolean intact(Path file, ModelRef model) {
        try {
            return Files.isRegularFile(file) && Hashing.sha256Hex(file).equals(model.sha256());
        } catch (IOException e) {
            return false;
        }
    }

    private static StoreState readState(Path stateFile) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(stateFile);
        } catch (NoSuchFileException e) {
            return StoreState.empty();
        }
        try {
            StoreState s = JSON.readValue(bytes, StoreState.class);
            if (s == null || s.format() != StoreState.FORMAT) {
                throw new IOException("unsupported state format " + (s == null ? "null" : s.format()));
            }
            return s;
        } catch (IOException | IllegalArgumentException e) {
            // Writes are atomic, so this is outside damage; keep the evidence and start without a model
            // rather than refuse to start.
            Path aside = stateFile.resolveSibling("state.json.corrupt-" + System.currentTimeMillis());
            Files.move(stateFile, aside, StandardCopyOption.REPLACE_EXISTING);
            LOG.log(System.Logger.Level.ERROR, "state.json is unreadable (" + e.getMessage() + "); moved to " + aside
                    + " and starting without a model");
            return StoreState.empty();
        }
    }

    /**
     * Deletes leftovers of interrupted downloads and files no state entry points at; keeps the part file of
     * a download that is recorded as resumable ({@link #DOWNLOAD_RECORD}).
     */
    private void removeStrayFiles() throws IOException {
        boolean resumable = Files.exists(downloadRecordFile());
        for (Slot slot : Slot.values()) {
            boolean keepModel = (state.active() != null && slot == state.activeSlot())
                    || (state.standby() != null && slot == state.activeSlot().other());
            try (Stream<Path> files = Files.list(slotDir(slot))) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    boolean keep = (keepModel && name.equals(MODEL_FILE))
                            || (resumable && slot == state.inactiveSlot() && name.equals(DOWNLOAD_FILE));
                    if (!keep) {
                        try {
                            AtomicFiles.checkDelete(f);
                            Files.deleteIfExists(f);
                        } catch (IOException e) {
                            throw new UncheckedIOException("cannot clean " + f, e);
                        }
                    }
                }
            }
        }
    }

    static String toJson(StoreState s) throws JsonProcessingException {
        return JSON.writeValueAsString(s);
    }
}
