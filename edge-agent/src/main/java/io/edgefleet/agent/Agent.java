package io.edgefleet.agent;

import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.drift.DriftMonitor;
import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.exec.AgentExecutors;
import io.edgefleet.agent.inference.InferenceLoop;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.inference.ModelRunner;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.mqtt.MqttSession;
import io.edgefleet.agent.store.ArtifactExtras;
import io.edgefleet.agent.serving.InferenceHttpServer;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.serving.ServedModel;
import io.edgefleet.agent.serving.ServedModels;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.ModelStores;
import io.edgefleet.agent.store.RecoveryNote;
import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.agent.store.StoreState;
import io.edgefleet.agent.telemetry.SeqCounter;
import io.edgefleet.agent.telemetry.TelemetryBuffer;
import io.edgefleet.agent.telemetry.TelemetryService;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.agent.update.CommandProcessor;
import io.edgefleet.agent.update.EventSink;
import io.edgefleet.agent.update.ModelUpdates;
import io.edgefleet.agent.update.Timers;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ModelStatus;
import io.edgefleet.protocol.PowerModel;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.drift.ReferenceProfile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One edge agent: MQTT session, and per deployed model an A/B store, update state machine, inference
 * API slot and inference loop; one telemetry stream with a window per model per period.
 * Usable as a library; many can run in one JVM (they share the ONNX Runtime environment).
 *
 * <pre>{@code
 * Agent agent = new Agent(AgentConfig.builder().deviceId("dev-1").classId("gw").mqttUrl("tcp://host:1883")
 *         .username("dev-1").password(pw).serverKeys(keys).dataDir(dir).build());
 * agent.start();   // returns at once; connects in the background
 * ...
 * agent.stop();    // OFFLINE status, disconnect, close sessions
 * }</pre>
 *
 * All state changes run on one serial executor per agent ("agent-{id}": one task at a time, on a small pool that
 * many agents may share, see {@link AgentExecutors}); MQTT callbacks only enqueue work there.
 */
public final class Agent implements AutoCloseable {
    public static final String VERSION = "0.1.0";
    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    static final int SEEN_COMMANDS = 256;

    private final AgentConfig config;
    private final AgentExecutors shared;
    /** This agent's own executors when none are shared; closed when it stops. */
    private AgentExecutors own;
    /** The executors this agent runs on: {@link #shared} or {@link #own}. */
    private AgentExecutors executors;
    /**
     * One codec for every agent of the JVM (it is thread-safe): Jackson builds its serializers per mapper, and a
     * mapper per agent made that introspection about a fifth of the simulator's CPU while ten thousand agents started.
     */
    private static final JsonCodec SHARED_CODEC = new JsonCodec();
    private final JsonCodec codec = SHARED_CODEC;
    private ModelRunner runner;

    private ScheduledExecutorService agentThread;
    private ModelStores stores;
    /** Counts the device's windows while it runs no model at all. */
    private WindowRecorder idleRecorder;
    private TelemetryService telemetry;
    private MqttSession session;
    private ModelUpdates updates;
    private io.edgefleet.agent.degrade.SwitchPolicy switchPolicy;
    private io.edgefleet.agent.degrade.ThermalProbe thermal;
    /** The operator's pinned modes on disk, so a pin survives a restart. */
    private io.edgefleet.agent.store.PinnedModes pins;
    private CommandProcessor commands;
    private java.util.concurrent.ExecutorService benchmarkThread;
    private io.edgefleet.agent.benchmark.BenchmarkManager benchmarks;
    private io.edgefleet.agent.capture.CaptureSampler capture;
    private ArtifactExtras extras;
    private EnergyMeter energy;
    private ManifestSigner.Verifier verifier;
    private EventSink sink;
    private volatile long intervalMs;
    private volatile boolean loopsStarted;
    /** Every model the device holds, by name. */
    private final Map<String, Unit> units = new ConcurrentSkipListMap<>();
    private final ServedModels servedModels = new ServedModels();
    private InferenceService inference;
    private InferenceHttpServer api;
    private List<RecoveryNote> pendingNotes = new ArrayList<>();
    private volatile boolean started;
    private volatile boolean stopped;

    /**
     * One deployed model: its A/B store and update state machine, the slot the inference API serves it
     * from (a lease keeps a model open while requests use it), its inference loop and the recorder of its
     * telemetry windows and drift.
     */
    private final class Unit {
        final String name;
        final ModelStore store;
        final WindowRecorder recorder = new WindowRecorder(System.currentTimeMillis());
        final InferenceLoop loop;
        final ServedModel served;
        final UpdateManager updates;
        final io.edgefleet.agent.store.LightVariants lights;
        volatile ModelRef running;
        /** The running model with its light fallback, if its deployment shipped one; null while nothing runs. */
        volatile io.edgefleet.agent.degrade.DegradableModel degradable;
        /** The p95 SLO the running model's deployment named (from its health policy), or null. */
        volatile Double sloMs;
        /** The operator's last mode command for this model; AUTO until one arrives. */
        volatile io.edgefleet.agent.degrade.SwitchPolicy.Command modeCommand = io.edgefleet.agent.degrade.SwitchPolicy.Command.AUTO;
        io.edgefleet.agent.degrade.SwitchPolicy.State policyState = io.edgefleet.agent.degrade.SwitchPolicy.State.INITIAL;

        Unit(String name, ModelStore store) {
            this.name = name;
            this.store = store;
            this.loop = new InferenceLoop("inference-" + deviceId() + "-" + name, recorder, config.speedFactor(), intervalMs,
                    executors.timer(), executors.cpu());
            this.served = new ServedModel(recorder);
            this.updates = new UpdateManager(deviceId(), config.classId(), config.downloadTimeoutSeconds() * 1000L, store,
                    runner, verifier, session, sink, (m, ref) -> switchModel(this, m, ref), Timers.on(agentThread));
            this.updates.setExtras(extras);
            this.lights = new io.edgefleet.agent.store.LightVariants(store.dataDir().resolve("light"));
            this.updates.setLightVariants(lights);
            // the opt-in capture samples this model's inputs under this model's name
            recorder.setCapture(o -> capture.observe(running, o));
        }
    }

    /** Registers a model's unit: its API slot, its telemetry windows and (once running) its inference loop. */
    private Unit addUnit(String name, ModelStore store) {
        Unit u = new Unit(name, store);
        u.modeCommand = pins.load().getOrDefault(name, io.edgefleet.agent.degrade.SwitchPolicy.Command.AUTO);
        units.put(name, u);
        servedModels.add(u.served);
        telemetry.addSource(name, u.recorder, null);
        if (loopsStarted) {
            u.loop.start();
        }
        return u;
    }

    /** An agent with the ONNX Runtime runner and the configured input source. */
    public Agent(AgentConfig config) {
        this(config, null);
    }

    /** An agent with a custom runner (tests use a fake one so the update logic runs without native code). */
    public Agent(AgentConfig config, ModelRunner runner) {
        this(config, runner, null);
    }

    /**
     * An agent on executors shared with other agents of this JVM (the simulator), or on a small set of its own
     * when {@code shared} is null. Shared executors are not closed by {@link #stop()}.
     */
    public Agent(AgentConfig config, ModelRunner runner, AgentExecutors shared) {
        this.config = config;
        this.runner = runner;
        this.shared = shared;
    }

    public AgentConfig config() {
        return config;
    }

    public String deviceId() {
        return config.deviceId();
    }

    /**
     * Opens the store (repairing whatever a crash left), loads the active model, starts inference and
     * telemetry, and starts connecting. Returns without waiting for the broker.
     *
     * @throws IOException when the data directory or the input folder cannot be used
     */
    public synchronized void start() throws IOException {
        if (started) {
            throw new IllegalStateException("agent " + deviceId() + " was already started");
        }
        started = true;
        Files.createDirectories(config.dataDir());
        if (runner == null) {
            runner = OrtModelRunner.forInput(config.intraOpThreads(), config.input());
        }
        stores = ModelStores.open(config.dataDir());
        pendingNotes = new ArrayList<>(stores.recoveryNotes());
        SeenCommands seen = new SeenCommands(config.dataDir().resolve("commands-seen.json"), SEEN_COMMANDS);
        TelemetryBuffer buffer = new TelemetryBuffer(config.dataDir().resolve("telemetry-buffer"),
                config.telemetryBufferMax(), codec);
        SeqCounter seq = new SeqCounter(config.dataDir().resolve("telemetry-seq"));

        if (shared == null) {
            own = AgentExecutors.standalone();
        }
        executors = shared != null ? shared : own;
        agentThread = executors.serialCpu("agent-" + deviceId());
        extras = new ArtifactExtras(config.dataDir().resolve("model-extras"));
        energy = EnergyMeter.detect(config.sysfsRoot(), new PowerModel(config.idleWatts(), config.activeWatts()),
                System::nanoTime);
        idleRecorder = new WindowRecorder(System.currentTimeMillis());
        intervalMs = config.inferenceIntervalMs();
        inference = new InferenceService(servedModels, idleRecorder, config.speedFactor());
        capture = new io.edgefleet.agent.capture.CaptureSampler(deviceId(), config.dataDir().resolve("capture.properties"),
                u -> session.publish(Topics.capture(deviceId()), codec.encode(u), false));
        session = new MqttSession(new MqttSession.Settings(config.mqttUrl(), deviceId(), config.username(),
                config.password(), config.sessionExpirySeconds(), Topics.status(deviceId()),
                this::willPayload, null, config.mqttCaFile()), new SessionHandler(),
                executors.transports(config.mqttClient()), executors.timer());
        sink = new Sink();
        verifier = new ManifestSigner.Verifier(config.pinnedKeys());
        switchPolicy = new io.edgefleet.agent.degrade.SwitchPolicy(config.degradation().calmWindows(),
                config.degradation().pressureMode());
        thermal = new io.edgefleet.agent.degrade.ThermalProbe(config.sysfsRoot());
        pins = new io.edgefleet.agent.store.PinnedModes(config.dataDir());
        telemetry = new TelemetryService(deviceId(), idleRecorder, buffer, seq, session, codec, config.activeWatts(),
                w -> {
                    updates.onWindow(w);
                    degradeOnWindow(w);
                }, agentThread, System::currentTimeMillis, executors.serialIo("telemetry-" + deviceId()));
        telemetry.setEnergyMeter(energy);
        updates = new ModelUpdates(deviceId(), name -> addUnit(name, stores.getOrCreate(name)).updates, sink);
        for (Map.Entry<String, ModelStore> e : stores.all().entrySet()) {
            updates.add(e.getKey(), addUnit(e.getKey(), e.getValue()).updates);
        }
        // hwmon integrates power between samples; RAPL only needs a sample per counter wrap
        agentThread.scheduleAtFixedRate(energy::tick, 1, 1, TimeUnit.SECONDS);
        commands = new CommandProcessor(deviceId(), codec, seen, verifier, System::currentTimeMillis, updates,
                new CommandProcessor.RuntimeConfig() {
            @Override
            public void telemetryWindowSeconds(int seconds) {
                telemetry.setWindowSeconds(seconds);
            }

            @Override
            public void inferenceIntervalMs(long millis) {
                intervalMs = millis;
                for (Unit u : units.values()) {
                    u.loop.setIntervalMs(millis);
                }
            }

            @Override
            public void capture(double rate, int maxSamples, long maxBytes) {
                capture.configure(new io.edgefleet.agent.capture.CaptureSampler.Settings(rate, maxSamples, maxBytes));
            }

            @Override
            public String degradationMode(String model, String mode) {
                return commandMode(model, mode);
            }
        }, sink);
        // captured samples go out at least once per telemetry window
        agentThread.scheduleAtFixedRate(capture::flush, config.telemetryWindowSeconds(), config.telemetryWindowSeconds(),
                TimeUnit.SECONDS);
        benchmarkThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "benchmark-" + deviceId());
            t.setDaemon(true);
            t.setPriority(Thread.NORM_PRIORITY - 1);
            return t;
        });
        ModelRunner benchRunner = runner;
        benchmarks = new io.edgefleet.agent.benchmark.BenchmarkManager(deviceId(), config.classId(),
                config.downloadTimeoutSeconds() * 1000L, config.dataDir().resolve("benchmark"),
                benchRunner, verifier, session,
                r -> session.publish(Topics.benchmark(deviceId()), codec.encode(r), false), Timers.on(agentThread),
                benchmarkThread, () -> updates.all().values().stream().anyMatch(m -> m.downloading() || m.watching()),
                () -> EnergyMeter.detect(config.sysfsRoot(), new PowerModel(config.idleWatts(), config.activeWatts()),
                        System::nanoTime), config.speedFactor(), () -> intervalMs,
                io.edgefleet.agent.benchmark.BenchmarkManager.Pacer.SYSTEM);
        commands.setBenchmarks(benchmarks::onBenchmark);

        try {
            agentThread.submit(() -> {
                for (Unit u : units.values()) {
                    loadActiveModel(u);
                    u.updates.resumeInterruptedDownload();
                }
                telemetry.start(config.telemetryWindowSeconds(), null);
            }).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("agent " + deviceId() + " failed to start: " + e.getMessage(), e);
        }
        loopsStarted = true;
        for (Unit u : units.values()) {
            u.loop.start();
        }
        if (config.servingEnabled()) {
            try {
                api = InferenceHttpServer.start(inference, new InferenceHttpServer.Settings(config.servingHost(),
                        config.servingPort(), config.servingMaxBodyBytes(), config.servingThreads()), "edgefleet-agent", VERSION);
            } catch (IOException | RuntimeException e) {
                throw new IOException("the inference API cannot listen on " + config.servingHost() + ":" + config.servingPort()
                        + ": " + e.getMessage() + " (set servingPort, or servingEnabled=false)", e);
            }
        }
        session.subscribe(Topics.cmd(deviceId()));
        session.subscribe(Topics.ack(deviceId()));
        session.start();
        LOG.log(System.Logger.Level.INFO, deviceId() + ": started (" + config + ", energy source " + energy.source()
                + ", active "
                + (units.isEmpty() ? "none" : units.values().stream().map(u -> u.running == null ? u.name + ":none"
                        : u.running.label()).toList()) + ")");
    }

    /** At start: a model's active version, else its fallback, else nothing (the agent still connects and takes deploys). */
    private void loadActiveModel(Unit u) {
        ModelStore store = u.store;
        StoreState st = store.state();
        if (st.active() == null) {
            return;
        }
        try {
            switchModel(u, runner.load(store.activeModelPath()), st.active());
            return;
        } catch (ModelException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId() + ": active model " + st.active().label() + " does not load: "
                    + e.getMessage());
        }
        if (st.standby() != null) {
            try {
                LoadedModel fallback = runner.load(store.standbyModelPath());
                store.rollback(false);
                switchModel(u, fallback, st.standby());
                pendingNotes.add(new RecoveryNote(DeviceEvent.Type.ROLLED_BACK, st.deploymentId(), st.standby(),
                        ReasonCode.LOAD_FAILED, "active model " + st.active().label() + " failed to load at start; fell back to "
                        + st.standby().label()));
                return;
            } catch (ModelException | IOException e) {
                LOG.log(System.Logger.Level.ERROR, deviceId() + ": fallback does not load either: " + e.getMessage());
            }
        }
        pendingNotes.add(new RecoveryNote(DeviceEvent.Type.DEPLOY_FAILED, st.deploymentId(), st.active(),
                ReasonCode.LOAD_FAILED, "active model " + st.active().label() + " failed to load at start and no fallback"
                + " loads; running without a model"));
        u.served.unavailable(st.active(), st.active().label() + " failed to load at start and no fallback loads;"
                + " waiting for a deploy", null);
    }

    /** Puts a version of one model into service: its old version's window is closed while no inference is in flight. */
    private void switchModel(Unit u, LoadedModel loaded, ModelRef ref) {
        ModelRef previous = u.running;
        io.edgefleet.agent.degrade.Mode modeBefore = u.degradable == null ? null : u.degradable.mode();
        WindowRecorder.Window[] closed = new WindowRecorder.Window[1];
        DriftMonitor monitor = driftMonitorFor(ref);
        io.edgefleet.agent.degrade.DegradableModel dm = withFallback(u, loaded, ref);
        LoadedModel model = dm != null ? dm : loaded;
        // The API's slot and the loop let go of the old model together; the slot closes it once both have.
        u.served.swap(model, ref, () -> u.loop.replace(model, () -> {
            closed[0] = u.recorder.cut(System.currentTimeMillis());
            u.recorder.setDriftMonitor(monitor);
            u.recorder.setModes(dm == null ? null : dm::cut);
        }));
        u.degradable = dm;
        u.policyState = new io.edgefleet.agent.degrade.SwitchPolicy.State(dm == null ? io.edgefleet.agent.degrade.Mode.FULL
                : dm.mode(), 0);
        u.running = ref;
        if (telemetry != null) {
            telemetry.modelChanged(u.name, closed[0], previous, ref);
        }
        if (dm != null && modeBefore != null && modeBefore != dm.mode()) {
            boolean trial = onTrial(u, ref);
            modeChanged(u, modeBefore, dm.mode(), trial ? ReasonCode.HEALTH_WATCH : ReasonCode.OPERATOR_REQUEST,
                    trial ? ref.label() + " is on trial: its health watch judges the full model"
                            : "the operator's pinned mode " + u.modeCommand.name().toLowerCase(java.util.Locale.ROOT));
        }
        // after the previous model's last window was charged with the previous power model
        ArtifactExtras.Extras ex = ref == null ? null : extras.get(ref.sha256());
        energy.setClassPower(ex == null ? null : ex.power());
        List<String> keep = new ArrayList<>();
        for (Unit other : units.values()) {
            StoreState st = other.store.state();
            for (ModelRef r : new ModelRef[] {other.running, st.active(), st.standby()}) {
                if (r != null) {
                    keep.add(r.sha256());
                }
            }
        }
        if (ref != null) {
            keep.add(ref.sha256());
        }
        extras.retainOnly(keep);
        List<String> mains = new ArrayList<>();
        StoreState own = u.store.state();
        for (ModelRef r : new ModelRef[] {ref, own.active(), own.standby(), u.updates.downloadingFor()}) {
            if (r != null) {
                mains.add(r.sha256());
            }
        }
        u.lights.retainOnly(mains);
    }

    // ---------------------------------------------------------------- graceful degradation (issue 12 part 5)

    /**
     * The model with the light fallback its deployment shipped beside it, in the mode the operator pinned (full
     * otherwise); null without a usable fallback (the model then runs alone, as before).
     */
    private io.edgefleet.agent.degrade.DegradableModel withFallback(Unit u, LoadedModel loaded, ModelRef ref) {
        if (loaded == null || ref == null) {
            return null;
        }
        io.edgefleet.agent.store.LightVariants.Link link = u.lights.linkOf(ref.sha256());
        u.sloMs = link == null ? null : link.p95SloMs();
        LoadedModel light = null;
        if (link != null) {
            try {
                light = runner.load(u.lights.file(link.fallback().sha256()));
                String why = io.edgefleet.agent.degrade.DegradableModel.incompatibility(loaded, light);
                if (why != null) {
                    LOG.log(System.Logger.Level.WARNING, deviceId() + ": fallback " + link.fallback().label()
                            + " cannot stand in for " + ref.label() + ": " + why + "; running without it");
                    light.close();
                    light = null;
                }
            } catch (ModelException e) {
                LOG.log(System.Logger.Level.WARNING, deviceId() + ": fallback " + link.fallback().label()
                        + " does not load (" + e.getMessage() + "); running " + ref.label() + " without it");
            }
        }
        if (light == null) {
            return null;
        }
        io.edgefleet.agent.degrade.DegradableModel dm = new io.edgefleet.agent.degrade.DegradableModel(loaded, light,
                link.fallback(), config.degradation().cascadeThreshold(), System::nanoTime);
        io.edgefleet.agent.degrade.Mode pinned = pinnedMode(u.modeCommand);
        if (pinned != null && !onTrial(u, ref) && (pinned != io.edgefleet.agent.degrade.Mode.CASCADE || dm.canCascade())) {
            dm.setMode(pinned);
        }
        return dm;
    }

    /**
     * Whether this version of the model was just activated by an update whose health watch is (or is about to be)
     * open: it must answer full, so the watch judges the model that was deployed ({@link
     * io.edgefleet.agent.degrade.SwitchPolicy}).
     */
    private static boolean onTrial(Unit u, ModelRef ref) {
        StoreState st = u.store.state();
        return u.updates.watching() || st.phase() == io.edgefleet.agent.store.Phase.ACTIVATED_UNCOMMITTED
                && ref != null && ref.equals(st.active());
    }

    /** Tells the server (a MODE_CHANGED event, stored and shown on the device) and the log that a model switched. */
    private void modeChanged(Unit u, io.edgefleet.agent.degrade.Mode from, io.edgefleet.agent.degrade.Mode to,
                             ReasonCode reason, String why) {
        String detail = from.id() + " -> " + to.id() + ": " + why;
        LOG.log(System.Logger.Level.INFO, deviceId() + ": " + u.name + " switches " + detail);
        if (sink != null) {
            sink.event(DeviceEvent.of(deviceId(), DeviceEvent.Type.MODE_CHANGED, null, u.running, reason,
                    detail.length() > 4000 ? detail.substring(0, 4000) : detail));
        }
    }

    private static io.edgefleet.agent.degrade.Mode pinnedMode(io.edgefleet.agent.degrade.SwitchPolicy.Command c) {
        return switch (c) {
            case FULL -> io.edgefleet.agent.degrade.Mode.FULL;
            case LIGHT -> io.edgefleet.agent.degrade.Mode.LIGHT;
            case CASCADE -> io.edgefleet.agent.degrade.Mode.CASCADE;
            case AUTO -> null;
        };
    }

    /** After each telemetry window, on the agent thread: the switch policy decides the model's next mode. */
    private void degradeOnWindow(TelemetryWindow w) {
        if (w.model() == null) {
            return;
        }
        Unit u = units.get(w.model().model());
        io.edgefleet.agent.degrade.DegradableModel dm = u == null ? null : u.degradable;
        if (dm == null || !dm.hasLight() || u.running == null || !u.running.sha256().equals(w.model().sha256())) {
            return;
        }
        Double slo = config.degradation().p95SloMs() != null ? config.degradation().p95SloMs() : u.sloMs;
        Boolean over = slo == null || w.latency() == null || w.inferences() == 0 ? null : w.latency().p95() > slo;
        io.edgefleet.agent.degrade.ThermalProbe.Reading heat = config.degradation().thermal() ? thermal.read()
                : new io.edgefleet.agent.degrade.ThermalProbe.Reading(false, null);
        boolean trial = u.updates.watching();
        io.edgefleet.agent.degrade.SwitchPolicy.State next = switchPolicy.next(u.policyState, u.modeCommand,
                new io.edgefleet.agent.degrade.SwitchPolicy.Signals(over, heat.throttled(), trial));
        io.edgefleet.agent.degrade.Mode mode = next.mode();
        if (mode == io.edgefleet.agent.degrade.Mode.CASCADE && !dm.canCascade()) {
            mode = io.edgefleet.agent.degrade.Mode.LIGHT; // configured pressure mode cascade, but not a classifier
            next = new io.edgefleet.agent.degrade.SwitchPolicy.State(mode, next.calmWindows());
        }
        u.policyState = next;
        if (mode != dm.mode()) {
            ReasonCode reason;
            String why;
            if (trial) {
                reason = ReasonCode.HEALTH_WATCH;
                why = u.running.label() + " is on trial: its health watch judges the full model";
            } else if (u.modeCommand != io.edgefleet.agent.degrade.SwitchPolicy.Command.AUTO) {
                reason = ReasonCode.OPERATOR_REQUEST;
                why = "the operator's pinned mode " + u.modeCommand.name().toLowerCase(java.util.Locale.ROOT);
            } else if (mode == io.edgefleet.agent.degrade.Mode.FULL) {
                reason = ReasonCode.PRESSURE_ENDED;
                why = config.degradation().calmWindows() + " calm windows";
            } else if (heat.throttled()) {
                reason = ReasonCode.THERMAL_THROTTLING;
                why = "thermal throttling (" + heat.detail() + ")";
            } else {
                reason = ReasonCode.LATENCY_SLO_BREACH;
                why = String.format(java.util.Locale.ROOT, "p95 %.2f ms over the SLO %.2f ms", w.latency().p95(), slo);
            }
            io.edgefleet.agent.degrade.Mode from = dm.mode();
            dm.setMode(mode);
            modeChanged(u, from, mode, reason, why);
        }
    }

    /**
     * A CONFIG command's {@code mode} ({@code full|light|cascade|auto}) for one model or, without a name, every
     * model that has a light variant. Returns why it cannot be applied, or null once applied.
     */
    private String commandMode(String model, String mode) {
        io.edgefleet.agent.degrade.SwitchPolicy.Command cmd;
        try {
            cmd = io.edgefleet.agent.degrade.SwitchPolicy.Command.valueOf(mode.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return "mode '" + mode + "' must be one of full, light, cascade, auto";
        }
        List<Unit> targets = new ArrayList<>();
        if (model != null) {
            Unit u = units.get(model);
            if (u == null || u.running == null) {
                return "model '" + model + "' does not run on this device";
            }
            if (u.degradable == null && cmd != io.edgefleet.agent.degrade.SwitchPolicy.Command.AUTO
                    && cmd != io.edgefleet.agent.degrade.SwitchPolicy.Command.FULL) {
                return "model '" + model + "' has no light variant (its deployment shipped no fallback)";
            }
            if (u.degradable != null) {
                targets.add(u);
            } else {
                u.modeCommand = cmd; // full or auto: what a model without a light variant does anyway
                persistPin(u.name, cmd);
            }
        } else {
            for (Unit u : units.values()) {
                if (u.degradable != null && u.degradable.hasLight()) {
                    targets.add(u);
                }
            }
            if (targets.isEmpty() && cmd != io.edgefleet.agent.degrade.SwitchPolicy.Command.AUTO
                    && cmd != io.edgefleet.agent.degrade.SwitchPolicy.Command.FULL) {
                return "no model on this device has a light variant";
            }
        }
        if (cmd == io.edgefleet.agent.degrade.SwitchPolicy.Command.CASCADE) {
            for (Unit u : targets) {
                if (!u.degradable.canCascade()) {
                    return "cascade refused for model '" + u.name + "': it needs a classification output ([N, C] floats,"
                            + " C > 1) to judge the light variant's confidence";
                }
            }
        }
        for (Unit u : targets) {
            u.modeCommand = cmd;
            persistPin(u.name, cmd);
            io.edgefleet.agent.degrade.Mode pinned = pinnedMode(cmd);
            io.edgefleet.agent.degrade.Mode from = u.degradable.mode();
            if (pinned != null && u.degradable.hasLight() && !u.updates.watching()) {
                u.degradable.setMode(pinned);
            }
            u.policyState = new io.edgefleet.agent.degrade.SwitchPolicy.State(u.degradable.mode(), 0);
            LOG.log(System.Logger.Level.INFO, deviceId() + ": " + u.name + " mode " + cmd.name().toLowerCase(
                    java.util.Locale.ROOT) + " by operator command (now " + u.degradable.mode().id()
                    + (u.updates.watching() ? "; full until the update on trial is decided" : "") + ")");
            if (from != u.degradable.mode()) {
                modeChanged(u, from, u.degradable.mode(), ReasonCode.OPERATOR_REQUEST, "operator command "
                        + cmd.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return null;
    }

    /** Keeps an operator's pin across restarts; a disk that refuses it leaves the pin in force until the next start. */
    private void persistPin(String model, io.edgefleet.agent.degrade.SwitchPolicy.Command cmd) {
        try {
            pins.set(model, cmd);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId() + ": the pinned mode of " + model + " holds only until the"
                    + " next restart: " + io.edgefleet.agent.store.StorageErrors.describe(e));
        }
    }

    /** The mode a model answers in right now ({@code full}, {@code light}, {@code cascade}), or null when it does not run. */
    public String degradationMode(String model) {
        Unit u = units.get(model);
        io.edgefleet.agent.degrade.DegradableModel dm = u == null ? null : u.degradable;
        return dm == null ? null : dm.mode().id();
    }

    /** The light fallback the running version of a model holds, or null. */
    public ModelRef lightVariant(String model) {
        Unit u = units.get(model);
        io.edgefleet.agent.degrade.DegradableModel dm = u == null ? null : u.degradable;
        return dm == null ? null : dm.lightRef();
    }

    /** The signed profile of the model, else a self-reference built earlier, else one to build from its first inferences. */
    private DriftMonitor driftMonitorFor(ModelRef ref) {
        if (ref == null) {
            return null;
        }
        ArtifactExtras.Extras ex = extras.get(ref.sha256());
        ReferenceProfile profile = ex == null ? null : ex.referenceProfile();
        if (profile == null) {
            profile = extras.selfReference(ref.sha256());
        }
        return new DriftMonitor(profile, config.driftSelfReferenceSamples(), config.driftMinWindowSamples(),
                self -> onAgentThread(() -> {
                    try {
                        extras.saveSelfReference(ref.sha256(), self);
                        LOG.log(System.Logger.Level.INFO, deviceId() + ": drift self-reference of " + ref.label()
                                + " built from " + self.samples() + " inferences");
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.WARNING, deviceId() + ": cannot keep the drift self-reference: "
                                + e.getMessage());
                    }
                }));
    }

    /** Where this agent's energy figures come from: rapl, hwmon, model or model-local. */
    public String energySource() {
        return energy == null ? null : energy.source();
    }

    /**
     * The status names every model with its own slots and update state; {@code active}/{@code standby} carry
     * the first model by name that runs, for servers that predate the list.
     */
    private byte[] statusPayload(DeviceStatus.State state) {
        List<ModelStatus> models = modelStatuses();
        ModelStatus first = models.stream().filter(m -> m.active() != null).findFirst().orElse(null);
        return codec.encode(DeviceStatus.of(deviceId(), state, first == null ? null : first.active(),
                first == null ? null : first.standby(), VERSION, session.connectionId()).withModels(models));
    }

    /** Each model the device holds (a model whose only deploy failed holds nothing and is left out). */
    public List<ModelStatus> modelStatuses() {
        List<ModelStatus> out = new ArrayList<>();
        for (Unit u : units.values()) {
            StoreState st = u.store.state();
            boolean downloading = u.updates.downloading();
            if (st.active() == null && st.standby() == null && st.phase() == io.edgefleet.agent.store.Phase.IDLE
                    && !downloading) {
                continue;
            }
            ModelStatus.UpdateState us = downloading ? ModelStatus.UpdateState.DOWNLOADING
                    : ModelStatus.UpdateState.valueOf(st.phase().name());
            out.add(new ModelStatus(u.name, st.active(), st.standby(), us));
        }
        return out;
    }

    /**
     * The Last Will is fixed when the connection is made, and the models may change while it lasts, so
     * the will names none rather than possibly wrong ones: the last ONLINE status is authoritative for
     * models, the will only says the device is gone. It names its connection, so the server applies it even
     * though it is older than that connection's ONLINE status.
     */
    private byte[] willPayload(String connectionId) {
        return codec.encode(DeviceStatus.of(deviceId(), DeviceStatus.State.OFFLINE, null, null, VERSION, connectionId));
    }

    private void publishStatus() {
        session.publish(Topics.status(deviceId()), statusPayload(DeviceStatus.State.ONLINE), true);
    }

    public boolean isConnected() {
        return session != null && session.isConnected();
    }

    /**
     * The persisted slot state (active and standby model, phase) of the first model by name, the only one
     * on a single-model device; see {@link #state(String)}.
     */
    public StoreState state() {
        Unit u = firstUnit();
        return u == null ? StoreState.empty() : u.store.state();
    }

    /** The persisted slot state of one model; empty when the device does not hold it. */
    public StoreState state(String model) {
        Unit u = units.get(model);
        return u == null ? StoreState.empty() : u.store.state();
    }

    /** The version of the first model by name that runs right now, or null; see {@link #runningModels()}. */
    public ModelRef runningModel() {
        for (Unit u : units.values()) {
            if (u.running != null) {
                return u.running;
            }
        }
        return null;
    }

    /** The version each model runs right now, by model name (models that run nothing are left out). */
    public Map<String, ModelRef> runningModels() {
        Map<String, ModelRef> out = new java.util.TreeMap<>();
        for (Unit u : units.values()) {
            if (u.running != null) {
                out.put(u.name, u.running);
            }
        }
        return out;
    }

    private Unit firstUnit() {
        for (Unit u : units.values()) {
            if (u.store.state().active() != null) {
                return u;
            }
        }
        return units.isEmpty() ? null : units.values().iterator().next();
    }

    public TelemetryWindow lastTelemetry() {
        return telemetry == null ? null : telemetry.lastWindow();
    }

    public int bufferedTelemetry() {
        return telemetry == null ? 0 : telemetry.buffered();
    }

    /** Runs a task on the agent thread and waits; lets tests observe state between two queued messages. */
    public void sync() {
        try {
            CompletableFuture.runAsync(() -> { }, agentThread).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("agent thread did not respond", e);
        }
    }

    /** Orderly stop: retained OFFLINE status, normal disconnect (no will), sessions closed. */
    public synchronized void stop() {
        if (!started || stopped) {
            return;
        }
        stopped = true;
        agentThread.shutdown();
        try {
            agentThread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        agentThread.shutdownNow();
        benchmarkThread.shutdownNow();
        stopServing();
        telemetry.close();
        if (session.isConnected()) {
            session.publishAndWait(Topics.status(deviceId()), statusPayload(DeviceStatus.State.OFFLINE), true, 5000);
        }
        session.close();
        closeOwnExecutors();
        LOG.log(System.Logger.Level.INFO, deviceId() + ": stopped");
    }

    /**
     * Emulates a power cut for tests and fault injection: the connection drops without DISCONNECT (the
     * broker publishes the will), nothing is flushed or announced. Files already written stay.
     */
    public synchronized void kill() {
        if (!started || stopped) {
            return;
        }
        stopped = true;
        session.kill();
        agentThread.shutdownNow();
        benchmarkThread.shutdownNow();
        stopServing();
        telemetry.close();
        closeOwnExecutors();
    }

    private void closeOwnExecutors() {
        if (own != null) {
            own.close();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Stops the API, then takes the model out of service once the requests in flight are done. */
    private void stopServing() {
        if (api != null) {
            api.close();
        }
        if (inference != null) {
            inference.stop();
        }
        for (Unit u : units.values()) {
            u.served.swap(null, null, () -> u.loop.replace(null, null));
            u.loop.close();
        }
    }

    /**
     * The in-process inference API (Open Inference Protocol semantics) for JVM applications that embed
     * the agent; null before {@link #start()}.
     */
    public InferenceService inference() {
        return inference;
    }

    /** Where the HTTP inference API listens, or null when it is off. */
    public InetSocketAddress inferenceAddress() {
        return api == null ? null : api.address();
    }

    private void onAgentThread(Runnable task) {
        if (stopped) {
            return;
        }
        try {
            agentThread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // One bad message must never stop the agent.
                    LOG.log(System.Logger.Level.ERROR, deviceId() + ": unexpected error: " + e, e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    private final class Sink implements EventSink {
        @Override
        public void event(DeviceEvent event) {
            session.publish(Topics.events(deviceId()), codec.encode(event), false);
        }

        @Override
        public void statusChanged() {
            publishStatus();
        }
    }

    private void onAck(byte[] payload) {
        try {
            telemetry.onAck(codec.decode(payload, io.edgefleet.protocol.TelemetryAck.class));
        } catch (io.edgefleet.protocol.ProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId() + ": ignoring a malformed telemetry ack: " + e.getMessage());
        }
    }

    private final class SessionHandler implements MqttSession.Handler {
        @Override
        public void onMessage(String topic, byte[] payload) {
            Topics.Parsed p = Topics.parse(topic).orElse(null);
            if (p == null) {
                LOG.log(System.Logger.Level.DEBUG, deviceId() + ": ignoring message on " + topic);
                return;
            }
            switch (p.kind()) {
                case CMD -> {
                    if (deviceId().equals(p.deviceId())) {
                        onAgentThread(() -> commands.onCommand(payload));
                    }
                }
                case MANIFEST, CHUNK -> onAgentThread(() -> {
                    updates.onArtifactMessage(topic, payload);
                    benchmarks.onArtifactMessage(topic, payload);
                });
                case ACK -> {
                    if (deviceId().equals(p.deviceId())) {
                        onAck(payload);
                    }
                }
                default -> LOG.log(System.Logger.Level.DEBUG, deviceId() + ": ignoring message on " + topic);
            }
        }

        @Override
        public void onConnected(boolean reconnect) {
            onAgentThread(() -> {
                publishStatus();
                List<RecoveryNote> notes = pendingNotes;
                pendingNotes = new ArrayList<>();
                for (RecoveryNote n : notes) {
                    session.publish(Topics.events(deviceId()), codec.encode(DeviceEvent.of(deviceId(), n.type(),
                            n.deploymentId(), n.model(), n.reason(), n.detail())), false);
                }
                telemetry.onConnected();
            });
        }

        @Override
        public void onConnectionLost(String reason) {
            // Paho reconnects by itself; telemetry goes to the disk buffer meanwhile.
        }
    }
}
