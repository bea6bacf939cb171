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
import io.edgefleet.agent.store.RecoveryNote;
import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.agent.store.StoreState;
import io.edgefleet.agent.telemetry.SeqCounter;
import io.edgefleet.agent.telemetry.TelemetryBuffer;
import io.edgefleet.agent.telemetry.TelemetryService;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.agent.update.CommandProcessor;
import io.edgefleet.agent.update.EventSink;
import io.edgefleet.agent.update.Timers;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One edge agent: MQTT session, A/B model store, update state machine, inference loop, telemetry.
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
    private final JsonCodec codec = new JsonCodec();
    private ModelRunner runner;

    private ScheduledExecutorService agentThread;
    private ModelStore store;
    private InferenceLoop loop;
    private WindowRecorder recorder;
    private TelemetryService telemetry;
    private MqttSession session;
    private UpdateManager updates;
    private CommandProcessor commands;
    private ArtifactExtras extras;
    private EnergyMeter energy;
    private volatile ModelRef running;
    /** The active model as the inference API sees it; its lease keeps a model open while requests use it. */
    private final ServedModel served = new ServedModel();
    private InferenceService inference;
    private InferenceHttpServer api;
    private List<RecoveryNote> pendingNotes = new ArrayList<>();
    private volatile boolean started;
    private volatile boolean stopped;

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
        store = ModelStore.open(config.dataDir());
        pendingNotes = new ArrayList<>(store.recoveryNotes());
        SeenCommands seen = new SeenCommands(config.dataDir().resolve("commands-seen.json"), SEEN_COMMANDS);
        TelemetryBuffer buffer = new TelemetryBuffer(config.dataDir().resolve("telemetry-buffer"),
                config.telemetryBufferMax(), codec);
        SeqCounter seq = new SeqCounter(config.dataDir().resolve("telemetry-seq"));

        if (shared == null) {
            own = AgentExecutors.standalone();
        }
        AgentExecutors executors = shared != null ? shared : own;
        agentThread = executors.serialCpu("agent-" + deviceId());
        extras = new ArtifactExtras(config.dataDir().resolve("model-extras"));
        energy = EnergyMeter.detect(config.sysfsRoot(), new PowerModel(config.idleWatts(), config.activeWatts()),
                System::nanoTime);
        recorder = new WindowRecorder(System.currentTimeMillis());
        loop = new InferenceLoop("inference-" + deviceId(), recorder, config.speedFactor(), config.inferenceIntervalMs(),
                executors.timer(), executors.cpu());
        ServedModels models = new ServedModels();
        models.add(served);
        inference = new InferenceService(models, recorder, config.speedFactor());
        session = new MqttSession(new MqttSession.Settings(config.mqttUrl(), deviceId(), config.username(),
                config.password(), config.sessionExpirySeconds(), Topics.status(deviceId()),
                this::willPayload, null, config.mqttCaFile()), new SessionHandler(),
                executors.transports(config.mqttClient()), executors.timer());
        EventSink sink = new Sink();
        ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(config.pinnedKeys());
        updates = new UpdateManager(deviceId(), config.classId(), config.downloadTimeoutSeconds() * 1000L, store, runner,
                verifier, session, sink, this::switchModel, Timers.on(agentThread));
        telemetry = new TelemetryService(deviceId(), recorder, buffer, seq, session, codec, config.activeWatts(),
                w -> updates.onWindow(w), agentThread, System::currentTimeMillis, executors.serialIo("telemetry-" + deviceId()));
        telemetry.setEnergyMeter(energy);
        updates.setExtras(extras);
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
                loop.setIntervalMs(millis);
            }
        }, sink);

        try {
            agentThread.submit(() -> {
                loadActiveModel();
                telemetry.start(config.telemetryWindowSeconds(), running);
            }).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("agent " + deviceId() + " failed to start: " + e.getMessage(), e);
        }
        loop.start();
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
                + (running == null ? "none" : running.label()) + ")");
    }

    /** At start: the active model, else the fallback, else nothing (the agent still connects and takes deploys). */
    private void loadActiveModel() {
        StoreState st = store.state();
        if (st.active() == null) {
            return;
        }
        try {
            switchModel(runner.load(store.activeModelPath()), st.active());
            return;
        } catch (ModelException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId() + ": active model " + st.active().label() + " does not load: "
                    + e.getMessage());
        }
        if (st.standby() != null) {
            try {
                LoadedModel fallback = runner.load(store.standbyModelPath());
                store.rollback(false);
                switchModel(fallback, st.standby());
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
        served.unavailable(st.active(), st.active().label() + " failed to load at start and no fallback loads;"
                + " waiting for a deploy", null);
    }

    /** Puts a model into service: the old model's window is closed while no inference is in flight. */
    private void switchModel(LoadedModel model, ModelRef ref) {
        ModelRef previous = running;
        WindowRecorder.Window[] closed = new WindowRecorder.Window[1];
        DriftMonitor monitor = driftMonitorFor(ref);
        // The API's slot and the loop let go of the old model together; the slot closes it once both have.
        served.swap(model, ref, () -> loop.replace(model, () -> {
            closed[0] = recorder.cut(System.currentTimeMillis());
            recorder.setDriftMonitor(monitor);
        }));
        running = ref;
        if (telemetry != null) {
            telemetry.modelChanged(closed[0], previous, ref);
        }
        // after the previous model's last window was charged with the previous power model
        ArtifactExtras.Extras ex = ref == null ? null : extras.get(ref.sha256());
        energy.setClassPower(ex == null ? null : ex.power());
        List<String> keep = new ArrayList<>();
        StoreState st = store.state();
        for (ModelRef r : new ModelRef[] {ref, st.active(), st.standby()}) {
            if (r != null) {
                keep.add(r.sha256());
            }
        }
        extras.retainOnly(keep);
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

    private byte[] statusPayload(DeviceStatus.State state) {
        StoreState st = store.state();
        return codec.encode(DeviceStatus.of(deviceId(), state, st.active(), st.standby(), VERSION, session.connectionId()));
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

    /** The persisted slot state (active and standby model, phase). */
    public StoreState state() {
        return store == null ? StoreState.empty() : store.state();
    }

    /** The model the inference loop runs right now, or null. */
    public ModelRef runningModel() {
        return running;
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
        stopServing();
        loop.close();
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
        stopServing();
        loop.close();
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
        if (loop != null) {
            served.swap(null, null, () -> loop.replace(null, null));
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
                case MANIFEST, CHUNK -> onAgentThread(() -> updates.onArtifactMessage(topic, payload));
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
