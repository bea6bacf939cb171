package io.edgefleet.agent.update;

import io.edgefleet.agent.health.HealthWatch;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.inference.ModelRunner;
import io.edgefleet.agent.mqtt.Link;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.StorageErrors;
import io.edgefleet.agent.store.Phase;
import io.edgefleet.agent.store.StoreState;
import io.edgefleet.agent.store.ArtifactExtras;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update state machine of promise 2: DEPLOY → download (signed manifest, verified chunks) →
 * whole-file hash → stage → load + smoke inference → activate (old model becomes the fallback) →
 * health watch → commit or roll back. Also operator rollbacks.
 *
 * <p>Every method runs on the agent's single thread (commands, artifact messages, telemetry windows
 * and timers are all queued there), so there is no locking here. Persistent state lives in the
 * {@link ModelStore}; what is only in memory (a download in progress, the health watch) is repaired
 * by the store's start-up recovery if the process dies.
 */
public final class UpdateManager implements Updates {
    private static final System.Logger LOG = System.getLogger(UpdateManager.class.getName());
    /** Chunks that arrive before their manifest are held up to this many bytes, then dropped and re-fetched. */
    static final long EARLY_CHUNK_BUDGET = 32L * 1024 * 1024;
    /** Free space kept beyond the artifact size, so a download never fills the disk to the last byte. */
    static final long STORAGE_MARGIN = 1024 * 1024;
    /** Chunk problems reported per download; more are only counted, so a flood cannot flood the events topic. */
    static final int MAX_CHUNK_REPORTS = 5;
    /** A chunk that fails its hash this often is damaged at the source, and the download cannot complete. */
    static final int MAX_FAILURES_PER_CHUNK = 2;
    /**
     * A manifest lists one 64-hex hash per chunk, so it outgrows the 256 KiB bound of control messages
     * for artifacts above roughly 250 MB at 64 KiB chunks; 8 MiB covers the protocol's 2 GiB maximum.
     */
    static final int MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
    /**
     * Chunk topics subscribed and not yet stored, per download. Below the broker's in-flight limit for a
     * client (20 in deploy/mosquitto), so the broker sends the whole window at once and never queues more
     * than this for a device that drops offline mid-download: 16 × 64 KiB = 1 MiB.
     */
    static final int CHUNK_WINDOW = 16;
    /** The window is refilled once this many of its chunks are stored, in one SUBSCRIBE and one UNSUBSCRIBE. */
    static final int REFILL_BATCH = 4;

    private final String deviceId;
    private final String classId;
    private final long downloadTimeoutMs;
    private final ModelStore store;
    private final ModelRunner runner;
    private final ManifestSigner.Verifier verifier;
    private final Link link;
    private final EventSink events;
    private final ModelSwitch modelSwitch;
    private final Timers timers;
    private boolean discardPending;
    /** Shared by every agent of the JVM (thread-safe; a mapper per agent repeated Jackson's introspection). */
    private static final JsonCodec MANIFEST_CODEC = new JsonCodec(MAX_MANIFEST_BYTES);

    private Download download;
    private volatile ArtifactExtras extras;
    private volatile io.edgefleet.agent.store.LightVariants lights;
    private Watch watch;
    private Command queued;

    /** A download in progress: the command, then the manifest, then chunks. */
    private final class Download {
        final Command command;
        /** What this download fetches: the command's artifact, or its light fallback when {@link #light}. */
        final ArtifactRef artifact;
        final boolean light;
        final String manifestTopic;
        /** Chunks whose topics are subscribed and that are not stored yet: the sliding window. */
        final java.util.TreeSet<Integer> requested = new java.util.TreeSet<>();
        /** Chunks stored whose topics are still subscribed; unsubscribed with the next refill. */
        final List<Integer> stored = new java.util.ArrayList<>();
        /** True once the manifest is verified and the window of chunk subscriptions is open. */
        boolean windowOpen;
        /** Ticks that count connected time against the download timeout; offline time does not count. */
        Timers.Handle timeoutTick;
        long connectedMs;
        Timers.Handle stallCheck;
        /** Resumed after a restart: the part file's intact chunks are kept. */
        boolean resumed;
        ArtifactDownload assembly;
        final Map<Integer, byte[]> early = new LinkedHashMap<>();
        long earlyBytes;
        boolean earlyOverflow;
        final Map<Integer, Integer> failures = new HashMap<>();
        int reports;
        int nextQuarter = 1;
        int receivedAtLastCheck = -1;
        int refetches;

        Download(Command command, boolean light) {
            this.command = command;
            this.light = light;
            this.artifact = light ? command.fallback() : command.artifact();
            this.manifestTopic = Topics.manifest(artifact.classId(), artifact.model().sha256());
            this.timeoutTick = timers.schedule(() -> onTimeoutTick(this), timeoutTickMs());
        }

        String deploymentId() {
            return command.deploymentId();
        }

        ModelRef model() {
            return artifact.model();
        }

        /** The model the deployment is about (events name it, also while its fallback downloads). */
        ModelRef mainModel() {
            return command.artifact().model();
        }

        /** A failure's detail, saying when it concerns the fallback rather than the main artifact. */
        String about(String detail) {
            return light ? "fallback " + model().label() + ": " + detail : detail;
        }
    }

    private record Watch(String deploymentId, ModelRef candidate, HealthWatch rule) {
    }

    public UpdateManager(String deviceId, String classId, long downloadTimeoutMs, ModelStore store, ModelRunner runner,
                         ManifestSigner.Verifier verifier, Link link, EventSink events, ModelSwitch modelSwitch,
                         Timers timers) {
        this.deviceId = deviceId;
        this.classId = classId;
        this.downloadTimeoutMs = downloadTimeoutMs;
        this.store = store;
        this.runner = runner;
        this.verifier = verifier;
        this.link = link;
        this.events = events;
        this.modelSwitch = modelSwitch;
        this.timers = timers;
    }

    /** Where the verified manifests' reference profiles and power models are kept (null: not kept). */
    public void setExtras(ArtifactExtras extras) {
        this.extras = extras;
    }

    /**
     * Where the light fallbacks of this model are kept (null: fallbacks in a DEPLOY are not downloaded and the
     * model never degrades).
     */
    public void setLightVariants(io.edgefleet.agent.store.LightVariants variants) {
        this.lights = variants;
    }

    /** The main artifact being downloaded (its fallback possibly first), or null. */
    public ModelRef downloadingFor() {
        Download d = download;
        return d == null ? null : d.mainModel();
    }

    public boolean downloading() {
        return download != null;
    }

    public boolean watching() {
        return watch != null;
    }

    /** The deployment this model's current or last update belongs to, or null. */
    public String deploymentId() {
        Download d = download;
        if (d != null) {
            return d.deploymentId();
        }
        Watch w = watch;
        return w != null ? w.deploymentId() : store.state().deploymentId();
    }

    /** Whether this model has a fallback a rollback could go to. */
    public boolean hasFallback() {
        return store.state().standby() != null;
    }

    public ModelStore store() {
        return store;
    }

    // ---------------------------------------------------------------- DEPLOY

    @Override
    public void onDeploy(Command cmd) {
        ArtifactRef a = cmd.artifact();
        ModelRef m = a.model();
        if (download != null && download.deploymentId().equals(cmd.deploymentId()) && download.mainModel().equals(m)) {
            LOG.log(System.Logger.Level.DEBUG, deviceId + ": deploy " + cmd.deploymentId() + " already downloading");
            return;
        }
        if (watch != null && watch.deploymentId().equals(cmd.deploymentId()) && watch.candidate().equals(m)) {
            return;
        }
        if (watch != null) {
            // Finish judging the model that runs before starting the next; the newest waiting deploy wins.
            if (queued != null) {
                event(DeviceEvent.Type.DEPLOY_FAILED, queued.deploymentId(), queued.artifact().model(), ReasonCode.UNKNOWN,
                        "superseded by deployment " + cmd.deploymentId() + " before it started");
            }
            queued = cmd;
            LOG.log(System.Logger.Level.INFO, deviceId + ": deploy " + cmd.deploymentId() + " waits for the health watch of "
                    + watch.candidate().label());
            return;
        }
        if (!classId.equals(a.classId())) {
            event(DeviceEvent.Type.DEPLOY_FAILED, cmd.deploymentId(), m, ReasonCode.INVALID_FIELD,
                    "artifact belongs to device class '" + a.classId() + "' but this device is of class '" + classId + "'");
            return;
        }
        StoreState st = store.state();
        if (st.active() != null && st.active().sha256().equals(m.sha256())) {
            if (st.activeUnproven()) {
                watchAgain(cmd, st.active());
                return;
            }
            event(DeviceEvent.Type.COMMITTED, cmd.deploymentId(), st.active(), ReasonCode.NONE,
                    m.label() + " is already the active model");
            return;
        }
        if (st.active() != null && st.active().model().equals(m.model()) && m.version() < st.active().version()) {
            event(DeviceEvent.Type.DEPLOY_FAILED, cmd.deploymentId(), m, ReasonCode.DOWNGRADE_REFUSED,
                    "version " + m.version() + " is older than the active version " + st.active().version()
                            + "; going back needs a rollback command");
            return;
        }
        supersedeDownload(cmd);
        event(DeviceEvent.Type.DEPLOY_RECEIVED, cmd.deploymentId(), m, ReasonCode.NONE, null);
        startDownload(cmd, false);
    }

    /**
     * A deploy of the model that already runs but never passed a health watch here (its watch breached, or a restart
     * cut it short, with no fallback to go to): no download, a new health watch of this deployment's policy. Answering
     * "already the active model" would report a model that just failed its watch as committed, so retrying a failed
     * rollout would succeed on exactly the devices it failed on.
     */
    private void watchAgain(Command cmd, ModelRef active) {
        supersedeDownload(cmd);
        try {
            store.watchActiveAgain(cmd.deploymentId());
        } catch (IOException e) {
            event(DeviceEvent.Type.DEPLOY_FAILED, cmd.deploymentId(), active, StorageErrors.reason(e),
                    "cannot record the new health watch: " + StorageErrors.describe(e));
            return;
        }
        openWatch(cmd, active, active.label() + " already runs but never passed a health watch here: watched again, "
                + "no download; ");
    }

    /** A download in flight gives way to a newer deploy: it is aborted and its deployment told why. */
    private void supersedeDownload(Command cmd) {
        if (download != null) {
            Download old = download;
            abort(old);
            event(DeviceEvent.Type.DEPLOY_FAILED, old.deploymentId(), old.mainModel(), ReasonCode.UNKNOWN,
                    "superseded by deployment " + cmd.deploymentId());
        }
    }

    /** The model now running is under the command's health watch: ACTIVATED, detail {@code prefix} + fallback + watch. */
    private void openWatch(Command cmd, ModelRef m, String prefix) {
        HealthPolicy policy = cmd.health() == null ? HealthPolicy.defaults() : cmd.health();
        watch = new Watch(cmd.deploymentId(), m, new HealthWatch(policy));
        ModelRef fallback = store.state().standby();
        event(DeviceEvent.Type.ACTIVATED, cmd.deploymentId(), m, ReasonCode.NONE, prefix + "fallback "
                + (fallback == null ? "none" : fallback.label()) + "; health watch of " + policy.windows() + " windows");
        events.statusChanged();
    }

    /**
     * A deploy that ships a light fallback fetches the fallback first (into its own part file, never a slot) and
     * then the main artifact, so that the main model goes into service with its fallback beside it. A fallback
     * already on disk (the same variant shipped before) is only linked again.
     */
    private void startDownload(Command cmd, boolean resumed) {
        io.edgefleet.agent.store.LightVariants lv = lights;
        ArtifactRef fb = cmd.fallback();
        if (fb != null && lv != null) {
            if (!lv.has(fb.model())) {
                startDownload(cmd, true, resumed);
                return;
            }
            try {
                lv.link(cmd.artifact().model().sha256(), fb.model(), slo(cmd));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot link the fallback " + fb.model().label()
                        + " (" + StorageErrors.describe(e) + "); the model runs without it");
            }
        }
        startDownload(cmd, false, resumed);
    }

    private static Double slo(Command cmd) {
        // 0 (or none) means the deploy checks no latency: then only thermal throttling or a command degrades
        return cmd.health() == null || !(cmd.health().maxP95LatencyMs() > 0) ? null : cmd.health().maxP95LatencyMs();
    }

    private void startDownload(Command cmd, boolean light, boolean resumed) {
        download = new Download(cmd, light);
        download.resumed = resumed;
        download.stallCheck = timers.schedule(() -> onStallCheck(download), stallPeriodMs());
        recordDownload(cmd);
        link.subscribe(download.manifestTopic);
        events.statusChanged(); // the model's update state is DOWNLOADING now
    }

    // ---------------------------------------------------------------- resume after a restart (issue 11)

    /**
     * Keeps the command of the download in progress on disk, so that after a restart the download goes on
     * from its part file ({@link #resumeInterruptedDownload}); without the record the store removes the part
     * file at start. Best effort: a disk that refuses it costs the resume, not the download.
     */
    private void recordDownload(Command cmd) {
        try {
            io.edgefleet.agent.store.AtomicFiles.write(store.downloadRecordFile(), MANIFEST_CODEC.encode(cmd));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot record the download for a resume after a restart ("
                    + StorageErrors.describe(e) + ")");
        }
    }

    private void forgetDownload() {
        try {
            java.nio.file.Files.deleteIfExists(store.downloadRecordFile());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot remove the download record ("
                    + StorageErrors.describe(e) + "); the next start removes its part file");
        }
    }

    /**
     * At start, on the agent thread: a download that a stop or crash interrupted goes on where it was. The
     * command was verified when it arrived (and its id is in the replay list, so the server's copy would be
     * refused); the manifest is verified again, every chunk already in the part file is checked against it,
     * and only the others are fetched. Returns whether a download was resumed.
     */
    public boolean resumeInterruptedDownload() {
        java.nio.file.Path record = store.downloadRecordFile();
        if (download != null || !java.nio.file.Files.exists(record)) {
            return false;
        }
        Command cmd;
        try {
            cmd = MANIFEST_CODEC.decode(java.nio.file.Files.readAllBytes(record), Command.class);
        } catch (IOException | ProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": the download record is unreadable (" + e.getMessage()
                    + "); not resuming");
            forgetDownload();
            return false;
        }
        StoreState st = store.state();
        ModelRef m = cmd.artifact() == null ? null : cmd.artifact().model();
        if (m == null || !classId.equals(cmd.artifact().classId()) || watch != null
                || (st.active() != null && st.active().sha256().equals(m.sha256()))) {
            forgetDownload();
            return false;
        }
        LOG.log(System.Logger.Level.INFO, deviceId + ": resuming the download of " + m.label() + " for deployment "
                + cmd.deploymentId() + " after a restart");
        startDownload(cmd, true);
        return true;
    }

    private long stallPeriodMs() {
        return Math.max(2000, Math.min(10_000, downloadTimeoutMs / 6));
    }

    /** Every message on the artifact topics: the manifest and the chunks. */
    public void onArtifactMessage(String topic, byte[] payload) {
        Download d = download;
        if (d == null || payload == null || payload.length == 0) {
            return; // late retained messages after we finished, or a cleared retained message
        }
        Topics.Parsed p = Topics.parse(topic).orElse(null);
        if (p == null || !d.artifact.classId().equals(p.classId()) || !d.model().sha256().equals(p.sha256())) {
            return;
        }
        try {
            if (p.kind() == Topics.Kind.MANIFEST) {
                onManifest(d, payload);
            } else if (p.kind() == Topics.Kind.CHUNK) {
                onChunk(d, p.chunkIndex(), payload);
            }
        } catch (IOException e) {
            fail(d, StorageErrors.reason(e), "cannot write the download: " + StorageErrors.describe(e));
        }
    }

    private void onManifest(Download d, byte[] payload) throws IOException {
        if (d.assembly != null) {
            return; // re-delivered retained manifest
        }
        ArtifactManifest m;
        try {
            m = MANIFEST_CODEC.decode(payload, ArtifactManifest.class);
            verifier.verify(m);
        } catch (ProtocolException e) {
            fail(d, e.reason(), "manifest refused: " + e.getMessage());
            return;
        }
        ModelRef want = d.model();
        if (!m.model().equals(want) || !m.classId().equals(d.artifact.classId())) {
            fail(d, ReasonCode.HASH_MISMATCH, "signed manifest describes " + m.classId() + "/" + m.model().label() + " ("
                    + m.model().sha256() + ") but the command asked for " + d.artifact.classId() + "/" + want.label()
                    + " (" + want.sha256() + ")");
            return;
        }
        if (m.size() != d.artifact.size()) {
            fail(d, ReasonCode.SIZE_MISMATCH, "signed manifest says " + m.size() + " bytes but the command said "
                    + d.artifact.size());
            return;
        }
        long free = store.usableSpace();
        if (free < m.size() + STORAGE_MARGIN) {
            fail(d, ReasonCode.STORAGE_FULL, "artifact needs " + m.size() + " bytes (+" + STORAGE_MARGIN
                    + " margin) but only " + free + " are free");
            return;
        }
        d.assembly = new ArtifactDownload(m, d.light ? lights.downloadFile() : store.downloadFile(), d.resumed);
        if (d.assembly.received() > 0) {
            events.event(DeviceEvent.of(deviceId, DeviceEvent.Type.DOWNLOAD_PROGRESS, d.deploymentId(), d.mainModel(),
                    ReasonCode.NONE, "resumed after a restart: " + d.assembly.received() + " of " + d.assembly.total()
                            + " chunks kept from the part file").withProgress(d.assembly.fraction()));
            if (d.assembly.complete()) {
                link.unsubscribe(d.manifestTopic);
                complete(d);
                return;
            }
        }
        Map<Integer, byte[]> early = new LinkedHashMap<>(d.early);
        d.early.clear();
        d.earlyBytes = 0;
        for (Map.Entry<Integer, byte[]> e : early.entrySet()) {
            if (download != d) {
                return;
            }
            onChunk(d, e.getKey(), e.getValue());
        }
        if (download == d) {
            // Early chunks dropped over the budget are simply still missing: the window asks for them.
            d.earlyOverflow = false;
            openWindow(d);
        }
    }

    private void onChunk(Download d, int index, byte[] payload) throws IOException {
        if (d.assembly == null) {
            // The broker delivers retained messages in no particular order; keep early chunks within a budget.
            if (!d.early.containsKey(index) && d.earlyBytes + payload.length <= EARLY_CHUNK_BUDGET) {
                d.early.put(index, payload);
                d.earlyBytes += payload.length;
            } else if (!d.early.containsKey(index)) {
                d.earlyOverflow = true;
            }
            return;
        }
        ArtifactDownload.ChunkResult r = d.assembly.accept(index, payload);
        switch (r) {
            case ACCEPTED -> {
                chunkStored(d, index);
                progress(d);
            }
            case DUPLICATE -> { }
            case OUT_OF_RANGE -> chunkProblem(d, ReasonCode.INVALID_FIELD, "chunk " + index + " is outside the manifest's "
                    + d.assembly.total() + " chunks; discarded");
            case WRONG_SIZE, HASH_MISMATCH -> {
                int n = d.failures.merge(index, 1, Integer::sum);
                ReasonCode reason = r == ArtifactDownload.ChunkResult.WRONG_SIZE ? ReasonCode.SIZE_MISMATCH : ReasonCode.HASH_MISMATCH;
                String what = r == ArtifactDownload.ChunkResult.WRONG_SIZE
                        ? "has " + payload.length + " bytes instead of " + d.assembly.expectedLength(index)
                        : "does not match its SHA-256 in the signed manifest";
                if (n >= MAX_FAILURES_PER_CHUNK) {
                    fail(d, ReasonCode.HASH_MISMATCH, "chunk " + index + " " + what + " again after a re-fetch; the published"
                            + " artifact is damaged and the download cannot complete");
                    return;
                }
                chunkProblem(d, reason, "chunk " + index + " " + what + "; discarded");
                // Ask for this chunk's retained copy again (only this one); a second bad copy fails above.
                if (d.windowOpen) {
                    d.requested.add(index);
                    refetch(d, List.of(index));
                }
            }
        }
    }

    private void chunkProblem(Download d, ReasonCode reason, String detail) {
        LOG.log(System.Logger.Level.WARNING, deviceId + ": " + detail);
        if (d.reports++ < MAX_CHUNK_REPORTS) {
            events.event(DeviceEvent.of(deviceId, DeviceEvent.Type.DOWNLOAD_PROGRESS, d.deploymentId(), d.mainModel(), reason,
                    detail).withProgress(d.assembly.fraction()));
        }
    }

    private void progress(Download d) throws IOException {
        double f = d.assembly.fraction();
        if (d.assembly.complete()) {
            complete(d);
            return;
        }
        if (d.nextQuarter <= 3 && f >= d.nextQuarter * 0.25) {
            while (d.nextQuarter <= 3 && f >= d.nextQuarter * 0.25) {
                d.nextQuarter++;
            }
            events.event(DeviceEvent.of(deviceId, DeviceEvent.Type.DOWNLOAD_PROGRESS, d.deploymentId(), d.mainModel(),
                    ReasonCode.NONE, d.assembly.received() + " of " + d.assembly.total() + " chunks").withProgress(f));
        }
    }

    // ---------------------------------------------------------------- chunk window (issue 11)

    /**
     * The manifest is verified: stop listening to it and subscribe to the first window of missing chunks.
     * Each chunk has its own retained topic, so the broker sends exactly the chunks asked for, once each.
     */
    private void openWindow(Download d) {
        d.windowOpen = true;
        link.unsubscribe(d.manifestTopic);
        fillWindow(d);
    }

    /** A chunk was stored: it leaves the window; refill once a batch of the window has arrived. */
    private void chunkStored(Download d, int index) {
        if (d.requested.remove(index)) {
            d.stored.add(index);
        }
        if (d.windowOpen && !d.assembly.complete() && d.requested.size() <= CHUNK_WINDOW - REFILL_BATCH) {
            fillWindow(d);
        }
    }

    /**
     * Releases the topics of stored chunks (one UNSUBSCRIBE) and subscribes to the next missing chunks up to
     * {@link #CHUNK_WINDOW} not yet stored (one SUBSCRIBE), lowest index first.
     */
    private void fillWindow(Download d) {
        if (!d.stored.isEmpty()) {
            link.unsubscribe(chunkTopics(d, d.stored));
            d.stored.clear();
        }
        List<Integer> next = new java.util.ArrayList<>();
        for (int i = d.assembly.nextMissing(0); i >= 0 && d.requested.size() + next.size() < CHUNK_WINDOW;
             i = d.assembly.nextMissing(i + 1)) {
            if (!d.requested.contains(i)) {
                next.add(i);
            }
        }
        if (!next.isEmpty()) {
            d.requested.addAll(next);
            link.subscribe(chunkTopics(d, next));
        }
    }

    private List<String> chunkTopics(Download d, java.util.Collection<Integer> indexes) {
        List<String> topics = new java.util.ArrayList<>(indexes.size());
        for (int i : indexes) {
            topics.add(Topics.chunk(d.artifact.classId(), d.model().sha256(), i));
        }
        return topics;
    }

    /**
     * Asks the broker for the retained copies of these chunks again, and only these: subscriptions are
     * made with retain handling "only when new" (so a reconnect that resumes the session does not replay
     * them), hence an unsubscribe first.
     */
    private void refetch(Download d, java.util.Collection<Integer> indexes) {
        d.refetches++;
        LOG.log(System.Logger.Level.INFO, deviceId + ": re-fetching chunks " + indexes + " of " + d.model().label()
                + " (" + d.assembly.missing().size() + " missing)");
        List<String> topics = chunkTopics(d, indexes);
        link.unsubscribe(topics);
        link.subscribe(topics);
    }

    /**
     * No progress for a stall period while connected: ask again for what should be on its way, the manifest
     * or the window's missing chunks. Offline time is no stall: the session resumes on reconnect.
     */
    private void onStallCheck(Download d) {
        if (download != d) {
            return;
        }
        int now = d.assembly == null ? -1 : d.assembly.received();
        if (now == d.receivedAtLastCheck && link.isConnected()) {
            if (d.assembly == null) {
                link.unsubscribe(d.manifestTopic);
                link.subscribe(d.manifestTopic);
            } else if (d.requested.isEmpty()) {
                fillWindow(d);
            } else {
                refetch(d, List.copyOf(d.requested));
            }
        }
        d.receivedAtLastCheck = now;
        d.stallCheck = timers.schedule(() -> onStallCheck(d), stallPeriodMs());
    }

    private long timeoutTickMs() {
        return Math.min(1000, downloadTimeoutMs);
    }

    /**
     * The download timeout measures time connected to the broker: a device that is offline cannot
     * receive chunks, and failing it for that (DOWNLOAD_TIMEOUT) would fail a healthy target.
     */
    private void onTimeoutTick(Download d) {
        if (download != d) {
            return;
        }
        if (link.isConnected()) {
            d.connectedMs += timeoutTickMs();
        }
        if (d.connectedMs >= downloadTimeoutMs) {
            onTimeout(d);
            return;
        }
        d.timeoutTick = timers.schedule(() -> onTimeoutTick(d), timeoutTickMs());
    }

    private void onTimeout(Download d) {
        if (download != d) {
            return;
        }
        if (d.assembly == null) {
            fail(d, ReasonCode.DOWNLOAD_TIMEOUT, "no valid manifest arrived within " + downloadTimeoutMs / 1000 + " s on "
                    + Topics.manifest(d.artifact.classId(), d.model().sha256()));
        } else if (!d.assembly.failedChunks().isEmpty()) {
            fail(d, ReasonCode.HASH_MISMATCH, "timed out after " + downloadTimeoutMs / 1000 + " s with "
                    + d.assembly.missing().size() + " chunks missing; chunks " + d.assembly.failedChunks()
                    + " only ever arrived damaged");
        } else {
            fail(d, ReasonCode.DOWNLOAD_TIMEOUT, "timed out after " + downloadTimeoutMs / 1000 + " s with "
                    + d.assembly.received() + " of " + d.assembly.total() + " chunks");
        }
    }

    /**
     * The fallback is whole: check its hash, keep it, check that it loads and runs, link it to its main artifact,
     * then fetch the main artifact. Any failure fails the deploy: the operator asked for a model with a fallback.
     */
    private void completeLight(Download d) throws IOException {
        String sha = d.assembly.finish();
        endDownload(d);
        ModelRef fb = d.model();
        io.edgefleet.agent.store.LightVariants lv = lights;
        if (!sha.equals(fb.sha256())) {
            java.nio.file.Files.deleteIfExists(d.assembly.file());
            failLight(d, ReasonCode.HASH_MISMATCH, "assembled file hashes to " + sha + ", expected " + fb.sha256());
            return;
        }
        lv.install(fb, d.assembly.file());
        try (LoadedModel probe = runner.load(lv.file(fb.sha256()))) {
            probe.smokeTest();
        } catch (ModelException e) {
            java.nio.file.Files.deleteIfExists(lv.file(fb.sha256()));
            failLight(d, e.reason() == ReasonCode.LOAD_FAILED ? ReasonCode.LOAD_FAILED : ReasonCode.SMOKE_TEST_FAILED,
                    e.getMessage());
            return;
        } catch (RuntimeException e) {
            java.nio.file.Files.deleteIfExists(lv.file(fb.sha256()));
            failLight(d, ReasonCode.SMOKE_TEST_FAILED, "smoke inference failed: " + e);
            return;
        }
        lv.link(d.mainModel().sha256(), fb, slo(d.command));
        events.event(DeviceEvent.of(deviceId, DeviceEvent.Type.DOWNLOAD_PROGRESS, d.deploymentId(), d.mainModel(),
                ReasonCode.NONE, "fallback " + fb.label() + " verified (signature key " + d.assembly.manifest().keyId()
                        + ", sha256 " + sha + ") and kept with the model").withProgress(0.0));
        startDownload(d.command, false, false);
    }

    private void failLight(Download d, ReasonCode reason, String detail) {
        event(DeviceEvent.Type.DEPLOY_FAILED, d.deploymentId(), d.mainModel(), reason, d.about(detail));
        events.statusChanged();
    }

    private void complete(Download d) throws IOException {
        if (d.light) {
            completeLight(d);
            return;
        }
        String sha = d.assembly.finish();
        endDownload(d);
        ModelRef m = d.model();
        if (!sha.equals(m.sha256())) {
            failFinished(d, ReasonCode.HASH_MISMATCH, "assembled file hashes to " + sha + ", expected " + m.sha256());
            return;
        }
        event(DeviceEvent.Type.DOWNLOADED, d.deploymentId(), m, ReasonCode.NONE, d.assembly.total() + " chunks, "
                + d.assembly.manifest().size() + " bytes");
        event(DeviceEvent.Type.VERIFIED, d.deploymentId(), m, ReasonCode.NONE, "signature key "
                + d.assembly.manifest().keyId() + ", sha256 " + sha);
        ArtifactExtras ex = extras;
        if (ex != null) {
            ArtifactManifest signed = d.assembly.manifest();
            try {
                ex.save(m.sha256(), signed.referenceProfile(), signed.power());
            } catch (IOException e) {
                // Not fatal: without its profile the model gets a self-reference, without the power model the local one.
                LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot keep the manifest's profile and power model: "
                        + e.getMessage());
            }
        }
        try {
            store.stage(m, d.deploymentId());
        } catch (IOException e) {
            failFinished(d, StorageErrors.reason(e), "cannot stage the download: " + StorageErrors.describe(e));
            return;
        }

        LoadedModel loaded;
        try {
            loaded = runner.load(store.stagedFile());
        } catch (ModelException e) {
            failFinished(d, e.reason(), e.getMessage());
            return;
        }
        try {
            loaded.smokeTest();
        } catch (ModelException e) {
            loaded.close();
            failFinished(d, ReasonCode.SMOKE_TEST_FAILED, e.getMessage());
            return;
        } catch (RuntimeException e) {
            loaded.close();
            failFinished(d, ReasonCode.SMOKE_TEST_FAILED, "smoke inference failed: " + e);
            return;
        }
        try {
            store.activateStaged();
        } catch (IOException e) {
            loaded.close();
            failFinished(d, StorageErrors.reason(e), "cannot activate: " + StorageErrors.describe(e));
            return;
        } catch (RuntimeException e) {
            loaded.close();
            failFinished(d, ReasonCode.UNKNOWN, "cannot activate: " + e);
            return;
        }
        modelSwitch.activate(loaded, m);
        openWatch(d.command, m, "");
    }

    // ---------------------------------------------------------------- health watch

    /** Every telemetry window, on the agent thread. Only windows of the candidate count. */
    public void onWindow(TelemetryWindow w) {
        if (discardPending && download == null) {
            discardPartial();
        }
        Watch wt = watch;
        if (wt == null || w.model() == null || !w.model().sha256().equals(wt.candidate().sha256())) {
            return;
        }
        HealthWatch.Verdict v = wt.rule().observe(w.inferences(), w.errors(), w.latency());
        if (v instanceof HealthWatch.Commit) {
            watch = null;
            try {
                store.commit();
                event(DeviceEvent.Type.COMMITTED, wt.deploymentId(), wt.candidate(), ReasonCode.NONE,
                        wt.rule().passed() + " healthy windows");
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot persist the commit: " + e.getMessage());
                event(DeviceEvent.Type.DEPLOY_FAILED, wt.deploymentId(), wt.candidate(), StorageErrors.reason(e),
                        "healthy, but the commit could not be written: " + StorageErrors.describe(e));
            }
            events.statusChanged();
            startQueued();
        } else if (v instanceof HealthWatch.Breach b) {
            watch = null;
            rollbackAfterBreach(wt, b.reason(), b.detail());
            startQueued();
        }
    }

    private void rollbackAfterBreach(Watch wt, ReasonCode reason, String detail) {
        ModelRef fallback = store.state().standby();
        if (fallback == null) {
            abandon(wt, reason, detail + "; no fallback model, keeping " + wt.candidate().label() + " uncommitted");
            return;
        }
        LoadedModel loaded;
        try {
            loaded = runner.load(store.standbyModelPath());
            loaded.smokeTest();
        } catch (ModelException e) {
            try {
                store.dropStandby();
            } catch (IOException io) {
                LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot drop the broken fallback: " + io.getMessage());
            }
            abandon(wt, reason, detail + "; the fallback " + fallback.label() + " failed to load (" + e.getMessage()
                    + "), keeping " + wt.candidate().label() + " uncommitted");
            return;
        }
        try {
            store.rollback(false);
        } catch (IOException e) {
            loaded.close();
            abandon(wt, reason, detail + "; the rollback could not be written (" + e.getMessage() + ")");
            return;
        }
        modelSwitch.activate(loaded, fallback);
        event(DeviceEvent.Type.ROLLED_BACK, wt.deploymentId(), fallback, reason, detail);
        events.statusChanged();
    }

    private void abandon(Watch wt, ReasonCode reason, String detail) {
        try {
            store.abandonWatch();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot persist: " + e.getMessage());
        }
        event(DeviceEvent.Type.DEPLOY_FAILED, wt.deploymentId(), wt.candidate(), reason, detail);
        events.statusChanged();
    }

    private void startQueued() {
        Command next = queued;
        queued = null;
        if (next != null) {
            onDeploy(next);
        }
    }

    // ---------------------------------------------------------------- ROLLBACK

    @Override
    public void onRollback(Command cmd) {
        StoreState st = store.state();
        String deployment = cmd.deploymentId() != null ? cmd.deploymentId() : st.deploymentId();
        String why = cmd.reason() == null || cmd.reason().isBlank() ? "operator request" : cmd.reason();
        if (st.standby() == null) {
            event(DeviceEvent.Type.COMMAND_REJECTED, deployment, st.active(), ReasonCode.NO_FALLBACK,
                    "no fallback model to roll back to (rollback reason: " + why + ")");
            return;
        }
        ModelRef target = st.standby();
        LoadedModel loaded;
        try {
            loaded = runner.load(store.standbyModelPath());
            loaded.smokeTest();
        } catch (ModelException e) {
            event(DeviceEvent.Type.COMMAND_REJECTED, deployment, target, ReasonCode.LOAD_FAILED,
                    "fallback " + target.label() + " cannot run: " + e.getMessage());
            return;
        }
        try {
            store.rollback(true);
        } catch (IOException e) {
            loaded.close();
            event(DeviceEvent.Type.COMMAND_REJECTED, deployment, target, StorageErrors.reason(e),
                    "rollback could not be written: " + StorageErrors.describe(e));
            return;
        }
        watch = null;
        modelSwitch.activate(loaded, target);
        event(DeviceEvent.Type.ROLLED_BACK, deployment, target, ReasonCode.OPERATOR_REQUEST, why);
        events.statusChanged();
        startQueued();
    }

    // ---------------------------------------------------------------- failure paths

    private void fail(Download d, ReasonCode reason, String detail) {
        if (download != d) {
            return;
        }
        abort(d);
        event(DeviceEvent.Type.DEPLOY_FAILED, d.deploymentId(), d.mainModel(), reason, d.about(detail));
        events.statusChanged();
    }

    /** A failure after the download finished (hash, load, smoke): drop the candidate, keep the running model. */
    private void failFinished(Download d, ReasonCode reason, String detail) {
        discardPartial();
        event(DeviceEvent.Type.DEPLOY_FAILED, d.deploymentId(), d.model(), reason, detail);
        events.statusChanged();
    }

    private void abort(Download d) {
        endDownload(d);
        try {
            if (d.assembly != null) {
                d.assembly.close();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, deviceId + ": closing the partial download: " + e.getMessage());
        }
        discardPartial();
    }

    /**
     * Removes a partial download. When the disk refuses even that (a permission change or read-only
     * remount), it is tried again with every telemetry window until it works, and at the next start.
     */
    private void discardPartial() {
        try {
            store.discardCandidate();
            discardPending = false;
        } catch (IOException e) {
            if (!discardPending) {
                LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot remove the partial download yet ("
                        + StorageErrors.describe(e) + "); retrying");
            }
            discardPending = true;
        }
    }

    /** True while a partial download could not be removed yet. */
    public boolean partialDownloadPending() {
        return discardPending;
    }

    private void endDownload(Download d) {
        forgetDownload();
        d.timeoutTick.cancel();
        if (d.stallCheck != null) {
            d.stallCheck.cancel();
        }
        List<String> topics = new java.util.ArrayList<>();
        topics.add(d.manifestTopic);
        if (d.assembly != null) {
            topics.addAll(chunkTopics(d, d.requested));
            topics.addAll(chunkTopics(d, d.stored));
        }
        link.unsubscribe(topics);
        d.early.clear();
        if (download == d) {
            download = null;
        }
    }

    private void event(DeviceEvent.Type type, String deploymentId, ModelRef model, ReasonCode reason, String detail) {
        if (type == DeviceEvent.Type.DEPLOY_FAILED || type == DeviceEvent.Type.ROLLED_BACK
                || type == DeviceEvent.Type.COMMAND_REJECTED) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": " + type + " " + reason + ": " + detail);
        } else {
            LOG.log(System.Logger.Level.INFO, deviceId + ": " + type + (detail == null ? "" : " (" + detail + ")"));
        }
        events.event(DeviceEvent.of(deviceId, type, deploymentId, model, reason, truncate(detail)));
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 4000) + "...";
    }

    /** Test hook: the phase the store is in. */
    Phase phase() {
        return store.state().phase();
    }

    List<Integer> missingChunks() {
        return download == null || download.assembly == null ? List.of() : download.assembly.missing();
    }
}
