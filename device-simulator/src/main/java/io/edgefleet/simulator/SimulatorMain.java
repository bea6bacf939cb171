package io.edgefleet.simulator;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.config.ConfigException;
import io.edgefleet.agent.exec.AgentExecutors;
import io.edgefleet.agent.inference.ClassMix;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.protocol.Topics;
import io.edgefleet.simulator.fault.FaultPlan;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code run}: many agents against a running server. {@code quickstart}: starts the server jar
 * with demo data, 20 agents and a deployment, and narrates it. Exit codes: 0 done, 1 failed at run
 * time (server unreachable, API error), 2 bad arguments.
 */
@Command(name = "edgefleet-sim", mixinStandardHelpOptions = true, version = "edgefleet-sim 0.1.0",
        description = "Simulated edge devices: many edgefleet agents in one JVM.",
        subcommands = {SimulatorMain.Run.class, SimulatorMain.Quickstart.class})
public final class SimulatorMain implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Twenty agents logging every step would bury the progress lines; --verbose brings them back.
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        io.edgefleet.agent.Logs.configure(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new SimulatorMain());
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options both subcommands share: how the simulated agents behave. */
    static final class AgentOptions {
        @Option(names = "--data-dir", description = "where agents keep slots, buffers and saved credentials")
        Path dataDir;

        @Option(names = "--speed-factors", defaultValue = "1.0",
                description = "comma-separated slow-down factors, assigned round-robin (default ${DEFAULT-VALUE})")
        String speedFactors;

        @Option(names = "--telemetry-window", defaultValue = "10", description = "seconds per telemetry window (default ${DEFAULT-VALUE})")
        int telemetryWindow;

        @Option(names = "--inference-interval-ms", defaultValue = "50", description = "default ${DEFAULT-VALUE}")
        long inferenceIntervalMs;

        @Option(names = "--input", defaultValue = "synthetic", description = "'synthetic' (a few variants, cycled), "
                + "'synthetic-stream' (a fresh draw per inference, for drift scenarios) or a folder of .npz files")
        String input;

        @Option(names = "--prefix", defaultValue = "sim", description = "device ids are <prefix>-0001, ... (default ${DEFAULT-VALUE})")
        String prefix;

        @Option(names = "--duration", defaultValue = "0", description = "stop after this many seconds (0 = until Ctrl-C)")
        long durationSeconds;

        @Option(names = "--verbose", description = "log every agent's steps (INFO)")
        boolean verbose;

        @Option(names = "--mqtt-client", defaultValue = "hivemq",
                description = "MQTT client of the simulated agents: hivemq (one event loop shared by all agents) or paho"
                        + " (about four threads per agent) (default ${DEFAULT-VALUE})")
        String mqttClient;

        @Option(names = "--work-threads", description = "threads shared by all agents for their logic and inference"
                + " (default: the cores, at least 2)")
        Integer workThreads;

        @Option(names = "--send-threads", description = "threads shared by all agents for telemetry sends, which wait for"
                + " the broker's PUBACK (default " + Fleet.DEFAULT_SEND_THREADS + ")")
        Integer sendThreads;

        @Option(names = "--start-threads", defaultValue = "8", description = "agents started at once (each creates its"
                + " data directory and files); registrations run 8 at a time beside them (default ${DEFAULT-VALUE})")
        int startThreads = 8;

        @Option(names = "--fsync", description = "simulated agents fsync every file write as a device's agent does;"
                + " off by default: they share one disk and a simulated power cut loses no page cache, and four fsyncs"
                + " per telemetry window for thousands of agents were what limited the fleet size on one machine")
        boolean fsync;

        int startThreads() {
            if (startThreads < 1 || startThreads > 256) {
                throw new IllegalArgumentException("--start-threads must be in [1, 256]");
            }
            return startThreads;
        }

        MqttTransport.Kind client() {
            return MqttTransport.Kind.parse(mqttClient);
        }

        AgentExecutors executors() {
            int work = workThreads == null ? Fleet.DEFAULT_WORK_THREADS : workThreads;
            int send = sendThreads == null ? Fleet.DEFAULT_SEND_THREADS : sendThreads;
            if (work < 1 || work > 256 || send < 1 || send > 1024) {
                throw new IllegalArgumentException("--work-threads must be in [1, 256] and --send-threads in [1, 1024]");
            }
            return AgentExecutors.shared(work, send);
        }
    }

    /** Shared machinery of both subcommands. */
    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        AgentOptions agentOptions = new AgentOptions();

        /** Created once the options are known (its executors follow them). */
        Fleet fleet;
        final CountDownLatch stopped = new CountDownLatch(1);

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        abstract Path defaultDataDir();

        Path dataDir() {
            return agentOptions.dataDir != null ? agentOptions.dataDir : defaultDataDir();
        }

        List<Double> factors() {
            return SpeedFactors.parse(agentOptions.speedFactors);
        }

        void checkCommon(int agents) {
            if (agents < 1 || agents > 10_000) {
                throw new IllegalArgumentException("--agents must be in [1, 10000]");
            }
            agentOptions.client();
            agentOptions.startThreads();
            io.edgefleet.agent.store.AtomicFiles.durable(agentOptions.fsync);
            if (agentOptions.inferenceIntervalMs < 1) {
                throw new IllegalArgumentException("--inference-interval-ms must be >= 1");
            }
            if (!Topics.isId(agentOptions.prefix + "-0001")) {
                throw new IllegalArgumentException("--prefix '" + agentOptions.prefix + "' does not make valid device ids");
            }
            factors();
        }

        /** Registers (or re-uses) and starts {@code n} agents of the class. */
        void startAgents(ServerApi api, String classId, int n, String mqttUrlOverride) throws IOException {
            startAgents(api, classId, n, mqttUrlOverride, agentOptions.prefix, fleet);
        }

        /**
         * Registers (or re-uses) and starts {@code n} agents of the class, ids {@code <prefix>-0001...}, in {@code into}.
         * Devices are registered {@link #REGISTER_BATCH} per request on a pool of {@link #REGISTER_THREADS} (each
         * request waits for the server's commit) and each agent started on a pool of {@code --start-threads} as soon as
         * its registration is back, so
         * starts overlap registrations and each other (one after the other, a loaded machine started about 12 agents
         * a second). Prints a progress line every {@link #START_REPORT_MS} while it lasts; fails with the first error.
         */
        void startAgents(ServerApi api, String classId, int n, String mqttUrlOverride, String prefix, Fleet into)
                throws IOException {
            Path dir = dataDir();
            if (into == null) { // the command's own fleet, created once the options are known
                if (fleet == null) {
                    fleet = new Fleet(FaultPlan.NONE, agentOptions.executors());
                }
                into = fleet;
            }
            Fleet target = into;
            Registrar registrar = new Registrar(api, new CredentialStore(dir));
            List<Double> factors = factors();
            StartTimes times = new StartTimes();
            long t0 = System.nanoTime();
            java.util.concurrent.ExecutorService registerPool = pool(Math.min(REGISTER_THREADS, n), "sim-register");
            java.util.concurrent.ExecutorService startPool = pool(Math.min(agentOptions.startThreads(), n), "sim-start");
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(n);
            try {
                for (int from = 1; from <= n; from += REGISTER_BATCH) {
                    int first = from;
                    List<String> ids = new java.util.ArrayList<>();
                    for (int i = from; i <= Math.min(n, from + REGISTER_BATCH - 1); i++) {
                        ids.add(SpeedFactors.deviceId(prefix, i));
                    }
                    java.util.concurrent.CompletableFuture
                            .supplyAsync(() -> times.register(() -> registrar.registerAll(ids, classId), ids.size()), registerPool)
                            .whenComplete((regs, err) -> {
                                if (err != null) {
                                    failure.compareAndSet(null, err instanceof java.util.concurrent.CompletionException
                                            && err.getCause() != null ? err.getCause() : err);
                                    ids.forEach(x -> done.countDown());
                                    return;
                                }
                                for (int k = 0; k < regs.size(); k++) {
                                    int number = first + k;
                                    ServerApi.Registration reg = regs.get(k);
                                    String id = reg.deviceId();
                                    java.util.concurrent.CompletableFuture
                                            .runAsync(() -> times.start(() -> target.start(number - 1, AgentConfig.builder()
                                                    .deviceId(id).classId(classId)
                                                    .mqttUrl(mqttUrlOverride != null ? mqttUrlOverride : reg.mqttUrl())
                                                    .username(reg.username()).password(reg.password()).serverKeys(reg.serverKeys())
                                                    .dataDir(dir.resolve(id).resolve("agent"))
                                                    .telemetryWindowSeconds(agentOptions.telemetryWindow)
                                                    .inferenceIntervalMs(agentOptions.inferenceIntervalMs)
                                                    .speedFactor(SpeedFactors.forAgent(factors, number - 1))
                                                    .input(agentOptions.input)
                                                    .mqttClient(agentOptions.client())
                                                    .build())), startPool)
                                            .whenComplete((ok, e) -> {
                                                if (e != null) {
                                                    failure.compareAndSet(null, e instanceof java.util.concurrent.CompletionException
                                                            && e.getCause() != null ? e.getCause() : e);
                                                }
                                                done.countDown();
                                            });
                                }
                            });
                }
                while (!done.await(START_REPORT_MS, TimeUnit.MILLISECONDS) && failure.get() == null) {
                    out().printf("[%4ds] starting agents: %d/%d registered, %d started, agents connected %d/%d%n",
                            (System.nanoTime() - t0) / 1_000_000_000L, times.registered.sum(), n, target.size(),
                            target.connected(), target.size());
                    out().flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting agents", e);
            } finally {
                registerPool.shutdownNow();
                startPool.shutdownNow();
            }
            Throwable e = failure.get();
            if (e instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e != null) {
                throw new IOException(e);
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            out().printf(java.util.Locale.ROOT, "started %d agents (%s-0001..%s) in class %s in %.1f s (registration %.1f s and"
                    + " agent start %.1f s of thread time, %d and %d threads), data in %s; MQTT client %s, executors %s%n", n,
                    prefix, SpeedFactors.deviceId(prefix, n), classId, wall, times.registerNanos.sum() / 1e9,
                    times.startNanos.sum() / 1e9, Math.min(REGISTER_THREADS, n), Math.min(agentOptions.startThreads(), n),
                    dir.toAbsolutePath(), agentOptions.client().id(), into.executors());
        }

        /** Where start time goes, summed over the threads: registration requests and agent starts. */
        static final class StartTimes {
            final java.util.concurrent.atomic.LongAdder registered = new java.util.concurrent.atomic.LongAdder();
            final java.util.concurrent.atomic.LongAdder registerNanos = new java.util.concurrent.atomic.LongAdder();
            final java.util.concurrent.atomic.LongAdder startNanos = new java.util.concurrent.atomic.LongAdder();

            interface IoSupplier<T> {
                T get() throws IOException;
            }

            interface IoRunnable {
                void run() throws IOException;
            }

            <T> T register(IoSupplier<T> call, int devices) {
                long t = System.nanoTime();
                try {
                    T r = call.get();
                    registered.add(devices);
                    return r;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    registerNanos.add(System.nanoTime() - t);
                }
            }

            void start(IoRunnable call) {
                long t = System.nanoTime();
                try {
                    call.run();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    startNanos.add(System.nanoTime() - t);
                }
            }
        }

        static java.util.concurrent.ExecutorService pool(int threads, String name) {
            java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
            return java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, threads), r -> {
                Thread t = new Thread(r, name + "-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }

        static final int REGISTER_THREADS = 8;
        /**
         * Devices per registration request ({@code POST /api/v1/device-registrations}): one transaction on the server
         * for all of them. One at a time, five database round trips each limited registration to 20-30 a second on
         * the loaded machine (docs/scale.md).
         */
        static final int REGISTER_BATCH = 100;
        /** Progress lines while agents start. */
        static final long START_REPORT_MS = 10_000;

        void onShutdown(Runnable extra) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                closeFleet();
                if (extra != null) {
                    extra.run();
                }
                stopped.countDown();
            }, "simulator-shutdown"));
        }

        /** Sleeps until the next report, or returns false when the run is over (duration or Ctrl-C). */
        boolean pause(long millis, long startedAt) throws InterruptedException {
            long limit = agentOptions.durationSeconds > 0
                    ? startedAt + TimeUnit.SECONDS.toMillis(agentOptions.durationSeconds) - System.currentTimeMillis()
                    : Long.MAX_VALUE;
            if (limit <= 0) {
                return false;
            }
            return !stopped.await(Math.min(millis, limit), TimeUnit.MILLISECONDS);
        }

        @Override
        public final Integer call() {
            try {
                return execute();
            } catch (IllegalArgumentException | ConfigException e) {
                err().println("edgefleet-sim: " + e.getMessage());
                closeFleet();
                return EXIT_USAGE;
            } catch (ApiException e) {
                err().println("edgefleet-sim: " + e.getMessage());
                closeFleet();
                return EXIT_FAILED;
            } catch (IOException e) {
                err().println("edgefleet-sim: " + e.getMessage());
                closeFleet();
                return EXIT_FAILED;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeFleet();
                return EXIT_OK;
            }
        }

        abstract int execute() throws IOException, InterruptedException;

        void closeFleet() {
            if (fleet != null) {
                fleet.close();
            }
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Registers N devices with a running server and runs an agent for each until Ctrl-C.")
    static final class Run extends Base {
        @Option(names = "--server", required = true, description = "server base URL, e.g. http://localhost:8080")
        URI server;

        @Option(names = "--token", description = "API token (or EDGEFLEET_API_TOKEN)")
        String token;

        @Option(names = "--agents", defaultValue = "10", description = "default ${DEFAULT-VALUE}")
        int agents;

        @Option(names = "--class-id", required = true)
        String classId;

        @Option(names = "--create-class", description = "create the device class first (an existing one is kept)")
        boolean createClass;

        @Option(names = "--class-p95-ms", defaultValue = "50", description = "p95 SLO of a class created with --create-class")
        double classP95Ms;

        @Option(names = "--mqtt-url", description = "broker URL for the agents instead of the one the server advertises")
        String mqttUrl;

        @Option(names = "--report-seconds", defaultValue = "10", description = "status line period (default ${DEFAULT-VALUE})")
        int reportSeconds;

        @Mixin
        FaultOptions faultOptions = new FaultOptions();

        final Map<String, String> env;

        Run() {
            this(System.getenv());
        }

        Run(Map<String, String> env) {
            this.env = env;
        }

        @Override
        Path defaultDataDir() {
            return Path.of("data", "sim");
        }

        String token() {
            String t = token != null ? token : env.get("EDGEFLEET_API_TOKEN");
            if (t == null || t.isBlank()) {
                throw new IllegalArgumentException("--token (or EDGEFLEET_API_TOKEN) is required");
            }
            return t;
        }

        @Override
        int execute() throws IOException, InterruptedException {
            checkCommon(agents);
            if (!Topics.isId(classId)) {
                throw new IllegalArgumentException("--class-id '" + classId + "' is not a valid id");
            }
            if (reportSeconds < 1) {
                throw new IllegalArgumentException("--report-seconds must be >= 1");
            }
            FaultPlan plan = faultOptions.plan();
            fleet = new Fleet(plan, agentOptions.executors());
            if (plan != FaultPlan.NONE) {
                out().println("faults: " + faultOptions.describe());
            }
            ServerApi api = new ServerApi(server, token());
            if (createClass) {
                boolean created = api.createDeviceClass(deviceClass(classId, classP95Ms));
                out().println(created ? "created device class " + classId : "device class " + classId + " exists; kept it");
            }
            onShutdown(null);
            long start = System.currentTimeMillis();
            startAgents(api, classId, agents, mqttUrl);
            boolean reported = false;
            // At least one line, also when starting the agents took longer than --duration.
            while (pause(TimeUnit.SECONDS.toMillis(reportSeconds), start) || !reported) {
                reported = true;
                List<ServerApi.Device> devices = null;
                try {
                    devices = api.devices(classId);
                } catch (ApiException e) {
                    err().println("(server: " + e.getMessage() + ")");
                }
                out().println(Progress.line((System.currentTimeMillis() - start) / 1000, fleet.connected(), fleet.size(),
                        devices, null) + " | running " + fleet.running() + " | threads "
                        + java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
                out().flush();
            }
            closeFleet();
            return EXIT_OK;
        }
    }

    /** Faults for {@code run}: drifting inputs, slowdowns, error bursts and power cuts on a share of the devices. */
    static final class FaultOptions {
        @Option(names = "--drift-share", defaultValue = "0", description = "share of devices whose inputs drift (0..1)")
        double driftShare;

        @Option(names = "--drift-from", defaultValue = "0", description = "seconds after start when the drift begins")
        double driftFrom;

        @Option(names = "--drift-shift", description = "added to every float input (default 1.0; 0 with --drift-class-mix)")
        Double driftShift;

        @Option(names = "--drift-scale", defaultValue = "1.0", description = "float inputs multiplied by this (default ${DEFAULT-VALUE})")
        double driftScale;

        @Option(names = "--drift-class-mix", paramLabel = "CLASS=SHARE,...",
                description = "sample a labelled .npz --input by this class mix while drifting, e.g. 0=0.7 (class 0 gets"
                        + " 70%%, the other classes share the rest evenly)")
        String driftClassMix;

        @Option(names = "--slow-share", defaultValue = "0", description = "share of devices that slow down (0..1)")
        double slowShare;

        @Option(names = "--slow-from", defaultValue = "0", description = "seconds after start when they slow down")
        double slowFrom;

        @Option(names = "--slow-factor", defaultValue = "3.0", description = "how many times slower (default ${DEFAULT-VALUE})")
        double slowFactor;

        @Option(names = "--error-share", defaultValue = "0", description = "share of devices with an error burst (0..1)")
        double errorShare;

        @Option(names = "--error-from", defaultValue = "0", description = "seconds after start when the burst begins")
        double errorFrom;

        @Option(names = "--error-seconds", defaultValue = "30", description = "length of the burst (default ${DEFAULT-VALUE})")
        double errorSeconds;

        @Option(names = "--error-rate", defaultValue = "0.5", description = "share of inferences failing in the burst (default ${DEFAULT-VALUE})")
        double errorRate;

        @Option(names = "--power-cut-share", defaultValue = "0", description = "share of devices whose power is cut (0..1)")
        double powerCutShare;

        @Option(names = "--power-cut-at", defaultValue = "60", description = "seconds after start of the cut (default ${DEFAULT-VALUE})")
        double powerCutAt;

        @Option(names = "--power-cut-restart-after", defaultValue = "0",
                description = "seconds until power returns; 0 = stays off (default ${DEFAULT-VALUE})")
        double powerCutRestartAfter;

        @Option(names = "--thermal-share", defaultValue = "0",
                description = "share of devices whose CPU is thermally throttled (0..1), through a fake sysfs tree in"
                        + " their data directory: their models switch to a shipped light fallback")
        double thermalShare;

        @Option(names = "--thermal-from", defaultValue = "0", description = "seconds after start when the heat begins")
        double thermalFrom;

        @Option(names = "--thermal-seconds", defaultValue = "0",
                description = "how long the heat lasts; 0 = until the end (default ${DEFAULT-VALUE})")
        double thermalSeconds;

        FaultPlan plan() {
            ClassMix mix = driftClassMix == null ? null : ClassMix.parse(driftClassMix);
            FaultPlan.Drift drift = driftShare > 0 ? new FaultPlan.Drift(driftShare, driftFrom, shift(), driftScale, mix) : null;
            FaultPlan.Slowdown slow = slowShare > 0 ? new FaultPlan.Slowdown(slowShare, slowFrom, slowFactor) : null;
            FaultPlan.Errors errors = errorShare > 0 ? new FaultPlan.Errors(errorShare, errorFrom, errorSeconds, errorRate) : null;
            FaultPlan.PowerCut cut = powerCutShare > 0 ? new FaultPlan.PowerCut(powerCutShare, powerCutAt, powerCutRestartAfter) : null;
            FaultPlan.Thermal thermal = thermalShare > 0 ? new FaultPlan.Thermal(thermalShare, thermalFrom, thermalSeconds)
                    : null;
            if (drift == null && slow == null && errors == null && cut == null && thermal == null) {
                return FaultPlan.NONE;
            }
            return new FaultPlan(drift, slow, errors, cut, thermal);
        }

        /** The mean shift: as given, else 1.0, or none when the drift is a class mix. */
        double shift() {
            return driftShift != null ? driftShift : driftClassMix != null ? 0 : 1.0;
        }

        String describe() {
            FaultPlan p = plan();
            StringBuilder sb = new StringBuilder();
            if (p.drift() != null) {
                sb.append(String.format("drift x*%.2f%+.2f%s on %.0f%% from %.0fs; ", driftScale, shift(),
                        p.drift().classMix() == null ? "" : ", class mix " + p.drift().classMix(), driftShare * 100, driftFrom));
            }
            if (p.slowdown() != null) {
                sb.append(String.format("%.1fx slower on %.0f%% from %.0fs; ", slowFactor, slowShare * 100, slowFrom));
            }
            if (p.errors() != null) {
                sb.append(String.format("%.0f%% errors on %.0f%% from %.0fs for %.0fs; ", errorRate * 100, errorShare * 100,
                        errorFrom, errorSeconds));
            }
            if (p.powerCut() != null) {
                sb.append(String.format("power cut on %.0f%% at %.0fs%s", powerCutShare * 100, powerCutAt,
                        powerCutRestartAfter > 0 ? String.format(", back after %.0fs", powerCutRestartAfter) : ""));
            }
            if (p.thermal() != null) {
                if (sb.length() > 0 && !sb.toString().endsWith("; ")) {
                    sb.append("; ");
                }
                sb.append(String.format("thermal throttling on %.0f%% from %.0fs%s", thermalShare * 100, thermalFrom,
                        thermalSeconds > 0 ? String.format(" for %.0fs", thermalSeconds) : ""));
            }
            return sb.toString().trim();
        }
    }

    /** Body of {@code POST /api/v1/device-classes} for a simulated x86_64 gateway. */
    static ObjectNode deviceClass(String id, double p95Ms) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode c = m.createObjectNode().put("id", id).put("name", "Simulated gateway " + id).put("arch", "x86_64")
                .put("cores", 2).put("ramMb", 2048).put("storageMb", 8192);
        c.putArray("precisions").add("fp32").add("fp16").add("int8");
        c.putObject("power").put("idleWatts", 2.0).put("activeWatts", 6.0);
        c.putObject("slo").put("p95LatencyMs", p95Ms).put("maxModelBytes", 50_000_000L);
        c.putObject("accuracyBudget").put("overallPoints", 1.0).put("cohortPoints", 2.0);
        return c;
    }

    @Command(name = "quickstart", mixinStandardHelpOptions = true,
            description = "Starts the server (demo data, embedded broker, H2) and 20 agents in two device classes, rolls"
                    + " the demo model out to each class in waves, drifts one class's inputs after about a minute so"
                    + " that a drift alert fires and opens a closed loop (re-plan, canary, promotion), and reports until"
                    + " Ctrl-C.")
    static final class Quickstart extends Base {
        static final String CLASS_ID = "demo-gateway";
        static final String BOARD_CLASS_ID = "demo-board";
        static final String MODEL = "demo-classifier";
        /** The float model, for the gateways. */
        static final long GATEWAY_VERSION = 1;
        /** Samples in the boards' fresh dataset. */
        static final int FRESH_SAMPLES = 512;
        /** The demo model's input: {@code input} float [N, 64]. */
        static final int MODEL_INPUTS = 64;
        /** Quickstart agents send a window every 5 s (unless --telemetry-window says otherwise): waves show sooner. */
        static final int QUICKSTART_TELEMETRY_WINDOW = 5;

        @Option(names = "--agents", defaultValue = "20", description = "default ${DEFAULT-VALUE}")
        int agents;

        @Option(names = "--boards", defaultValue = "6",
                description = "how many of the agents are demo-board devices, the rest demo-gateway (default ${DEFAULT-VALUE})")
        int boards;

        @Option(names = "--soak", defaultValue = "10", description = "soak seconds of each wave (default ${DEFAULT-VALUE})")
        int soakSeconds;

        @Option(names = "--drift-after", defaultValue = "75",
                description = "seconds after the agents start when the boards' inputs drift; 0: never (default ${DEFAULT-VALUE})")
        double driftAfter;

        @Option(names = "--drift-shift", defaultValue = "1.0",
                description = "added to every float input of a drifting board (default ${DEFAULT-VALUE})")
        double driftShift;

        @Option(names = "--loop-mode", defaultValue = "automatic",
                description = "the boards' closed-loop switch: automatic (the drift alert's loop re-plans, canaries and"
                        + " promotes on its own), approve (it waits for Approve on the console's Loops page) or off"
                        + " (default ${DEFAULT-VALUE})")
        String loopMode;

        @Option(names = "--server-jar", defaultValue = "server/app/target/quarkus-app/quarkus-run.jar",
                description = "default ${DEFAULT-VALUE}")
        Path serverJar;

        @Option(names = "--port", defaultValue = "8080", description = "HTTP port of the server (default ${DEFAULT-VALUE})")
        int port;

        /** The demo-board agents: their own fleet, because the drift fault is theirs alone. */
        Fleet boardFleet;

        @Override
        Path defaultDataDir() {
            return Path.of("data", "quickstart");
        }

        /** The boards' fault plan: every board's float inputs shift by {@code driftShift} from {@code driftAfter} s. */
        FaultPlan boardFaults() {
            return driftAfter > 0 ? new FaultPlan(new FaultPlan.Drift(1.0, driftAfter, driftShift, 1.0), null, null, null)
                    : FaultPlan.NONE;
        }

        /** The demo's wave policy: a canary of one, then half of the class per wave, a short soak, latency gate on. */
        ObjectNode wavePolicy() {
            ObjectNode p = new ObjectMapper().createObjectNode();
            p.putObject("canary").put("count", 1);
            p.putObject("batches").put("percent", 50);
            p.put("soakSeconds", soakSeconds);
            p.putObject("gates").put("latency", true).put("minWindows", 1);
            p.put("targetTimeoutSeconds", 300);
            return p;
        }

        /** The agents' own health window: one telemetry window before they commit. */
        static ObjectNode healthWindow() {
            return new ObjectMapper().createObjectNode().put("windows", 1);
        }

        @Override
        int execute() throws IOException, InterruptedException {
            checkCommon(agents);
            if (boards < 0 || boards >= agents) {
                throw new IllegalArgumentException("--boards must be in [0, --agents - 1] (got " + boards + ")");
            }
            if (soakSeconds < 0 || driftAfter < 0) {
                throw new IllegalArgumentException("--soak and --drift-after must be >= 0");
            }
            if (!List.of("automatic", "approve", "off").contains(loopMode)) {
                throw new IllegalArgumentException("--loop-mode must be automatic, approve or off (got " + loopMode + ")");
            }
            if (!Files.isRegularFile(serverJar)) {
                throw new IllegalArgumentException("server jar " + serverJar + " not found; build it first with"
                        + " ./mvnw -B -pl server/app -am package -DskipTests, or pass --server-jar");
            }
            if (port < 1 || port > 65535 || !portFree(port)) {
                throw new IllegalArgumentException("port " + port + " is not free; pass --port with a free one");
            }
            if (!spec.commandLine().getParseResult().hasMatchedOption("--telemetry-window")) {
                agentOptions.telemetryWindow = QUICKSTART_TELEMETRY_WINDOW;
            }
            if (!spec.commandLine().getParseResult().hasMatchedOption("--input")) {
                // A fresh standard-normal draw per inference, the distribution of the demo's validation data: drift
                // scores stay low until the boards' inputs shift (four cycled inputs scored PSI ~10 with no drift).
                agentOptions.input = AgentConfig.SYNTHETIC_STREAM;
            }
            String token = newToken();
            Path base = dataDir();
            Path serverData = base.resolve("server");
            ServerProcess server = ServerProcess.start(ServerProcess.command(serverJar, serverData, token, port),
                    base.resolve("server.log"));
            onShutdown(() -> {
                if (boardFleet != null) {
                    boardFleet.close();
                }
                server.close();
            });
            long start = System.currentTimeMillis();
            out().printf("starting the edgefleet server (pid %d, log %s) ...%n", server.pid(), server.log());
            out().flush();
            URI url = URI.create("http://localhost:" + port);
            ServerApi api = new ServerApi(url, token);
            server.awaitReady(api, 180_000);
            ServerApi.Broker broker = api.broker();
            out().printf("server ready after %d s; MQTT broker %s (%s)%n", (System.currentTimeMillis() - start) / 1000,
                    broker.url(), broker.embedded() ? "embedded" : "external");
            banner(url, token);

            agentOptionsForAgents(base);
            int gateways = agents - boards;
            startAgents(api, CLASS_ID, gateways, null, agentOptions.prefix, fleet);
            if (boards > 0) {
                boardFleet = new Fleet(boardFaults(), agentOptions.executors());
                startAgents(api, BOARD_CLASS_ID, boards, null, agentOptions.prefix + "-board", boardFleet);
                if (driftAfter > 0) {
                    out().printf("the %d demo-board agents' inputs will drift (+%.1f) %.0f s from now%n", boards,
                            driftShift, driftAfter);
                }
            }

            if (latestVersion(api) < GATEWAY_VERSION) {
                throw new ApiException(0, null, "the server has no " + MODEL + " v" + GATEWAY_VERSION
                        + "; start from an empty --data-dir");
            }
            List<ServerApi.Deployment> deps = new java.util.ArrayList<>();
            deps.add(createDeployment(api, GATEWAY_VERSION, CLASS_ID));
            if (boards > 0) {
                long boardVersion = boardVariant(api);
                // the loop: the boards' switch, and the fresh data a drift loop recalibrates on
                String fresh = freshDatasetName();
                api.uploadDataset(fresh, driftedInputs(driftShift));
                api.setLoop(BOARD_CLASS_ID, loopMode, fresh);
                out().printf("closed loop on %s: %s; a drift loop recalibrates on dataset %s (inputs as the boards"
                        + " see them after the drift)%n", BOARD_CLASS_ID, loopMode, fresh);
                deps.add(createDeployment(api, boardVersion, BOARD_CLASS_ID));
            }
            for (ServerApi.Deployment d : deps) {
                out().printf("deployment %s: %s v%d, %d targets, in %d wave(s) (canary 1, then 50%% per wave, %d s soak)%n",
                        d.id(), MODEL, d.version(), d.targets(), d.waveCount(), soakSeconds);
            }
            out().flush();
            long deployStart = System.currentTimeMillis();
            boolean announced = false;
            java.util.Set<Long> alertsSeen = new java.util.HashSet<>();
            java.util.Map<String, String> loopsSeen = new java.util.HashMap<>();
            long period = 3000;
            while (pause(period, start)) {
                long now = System.currentTimeMillis();
                try {
                    for (int i = 0; i < deps.size(); i++) {
                        deps.set(i, api.deployment(deps.get(i).id()));
                    }
                    List<ServerApi.Device> gw = api.devices(CLASS_ID);
                    out().println(Progress.line((now - start) / 1000, fleet.connected(), fleet.size(), gw, deps.get(0)));
                    List<ServerApi.Loop> boardLoops = boards > 0 ? api.loops(BOARD_CLASS_ID) : List.of();
                    if (boards > 0) {
                        List<ServerApi.Device> bd = api.devices(BOARD_CLASS_ID);
                        String follow = followedDeployment(deps.get(1).id(), boardLoops);
                        ServerApi.Deployment shown = follow.equals(deps.get(1).id()) ? deps.get(1) : api.deployment(follow);
                        out().println(Progress.line((now - start) / 1000, boardFleet.connected(), boardFleet.size(), bd,
                                shown));
                    }
                    for (ServerApi.Alert a : api.firingAlerts()) {
                        if (alertsSeen.add(a.id())) {
                            out().println(alertLine(a, (now - start) / 1000, url));
                        }
                    }
                    if (boards > 0) {
                        for (ServerApi.Loop l : boardLoops) {
                            if (!l.state().equals(loopsSeen.put(l.id(), l.state()))) {
                                out().println(loopLine(l, (now - start) / 1000, url));
                            }
                        }
                    }
                } catch (ApiException e) {
                    err().println("(server: " + e.getMessage() + ")");
                }
                // every target finished and every deployment ended (the last wave's soak and gates are part of it)
                if (!announced && deps.stream().allMatch(d -> d.summary().finished() && !"IN_PROGRESS".equals(d.status())
                        && !"PAUSED".equals(d.status()))) {
                    announced = true;
                    int total = deps.stream().mapToInt(d -> d.summary().total()).sum();
                    int committed = deps.stream().mapToInt(d -> d.summary().committed()).sum();
                    long secs = (now - deployStart) / 1000;
                    if (committed == total) {
                        out().printf("==> all %d devices committed, deployments %s, %d s after they started"
                                + " (%d s after launch). Telemetry until Ctrl-C.%n", total, deps.stream()
                                .map(d -> d.model() + " v" + d.version() + " " + d.status()).toList(), secs, (now - start) / 1000);
                    } else {
                        out().printf("==> deployments finished with %d of %d committed; see GET /api/v1/deployments/ID"
                                + " for the reasons (%s)%n", committed, total, deps.stream().map(ServerApi.Deployment::id).toList());
                    }
                    period = 5_000;
                }
                out().flush();
            }
            closeFleet();
            if (boardFleet != null) {
                boardFleet.close();
            }
            server.close();
            return EXIT_OK;
        }

        static String alertLine(ServerApi.Alert a, long elapsedSeconds, URI url) {
            StringBuilder labels = new StringBuilder();
            for (String k : List.of("class", "model", "version", "device")) {
                if (a.labels().containsKey(k)) {
                    labels.append(labels.length() == 0 ? "" : " ").append(k).append('=').append(a.labels().get(k));
                }
            }
            return String.format(java.util.Locale.ROOT, "==> ALERT %s (%s) firing for %s: value %s over threshold %s"
                    + " (rule %s), %d s after launch; see %s/console and GET /api/v1/alerts", a.name(), a.severity(),
                    labels, a.value() == null ? "-" : String.format(java.util.Locale.ROOT, "%.2f", a.value()),
                    a.threshold() == null ? "-" : String.format(java.util.Locale.ROOT, "%.2f", a.threshold()), a.rule(),
                    elapsedSeconds, url);
        }

        String freshDatasetName() {
            return String.format(java.util.Locale.ROOT, "demo-board-drifted-%.2f", driftShift);
        }

        /**
         * The class's fresh data for a drift loop: what the boards' synthetic stream looks like once the drift fault
         * shifts it (standard Gaussian plus {@code shift}), {@value #FRESH_SAMPLES} samples from a fixed seed. It stands
         * in for field data an operator collects after a drift. The devices' own capture is what a fleet would use;
         * when the agents still cycled four generated inputs, a re-plan calibrated on those captured few dropped 32
         * points on the validation set (NO_CHOICE); the demo names this dataset so that its loop does not depend on
         * how many samples a board's capture has sent by the time the alert fires.
         */
        static byte[] driftedInputs(double shift) throws IOException {
            java.util.Random rnd = new java.util.Random(20261206L);
            float[] x = new float[FRESH_SAMPLES * MODEL_INPUTS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() + shift);
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            io.edgefleet.protocol.data.Npz.write(out, java.util.Map.of("input",
                    io.edgefleet.protocol.data.NpyArray.ofFloats(x, FRESH_SAMPLES, MODEL_INPUTS)));
            return out.toByteArray();
        }

        /**
         * The deployment the boards' progress line follows: the newest loop's canary deployment once a loop has one
         * (it takes the boards over and, promoted, is what they run), else the quickstart's own board deployment.
         * {@code loops} are newest first, as the server lists them.
         */
        static String followedDeployment(String first, List<ServerApi.Loop> loops) {
            return loops.stream().map(ServerApi.Loop::deploymentId).filter(java.util.Objects::nonNull).findFirst()
                    .orElse(first);
        }

        static String loopLine(ServerApi.Loop l, long elapsedSeconds, URI url) {
            return String.format(java.util.Locale.ROOT, "==> LOOP %s %s%s%s, %d s after launch; see %s/console/loops/%s",
                    l.id(), l.state(), l.strategy() == null ? "" : " (" + l.strategy() + ")",
                    l.note() == null ? "" : ": " + l.note(), elapsedSeconds, url, l.id());
        }

        /**
         * The board's variant: the version the server's demo plan registered for the class (planned at the server's
         * first start, over the demo datasets); waits for the plan, fails with its reason when it chose nothing.
         */
        private long boardVariant(ServerApi api) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 180_000;
            boolean told = false;
            while (true) {
                Long v = api.classVariant(BOARD_CLASS_ID, MODEL);
                if (v != null) {
                    out().printf("the boards' variant: %s v%d (planned for %s)%n", MODEL, v, BOARD_CLASS_ID);
                    return v;
                }
                ServerApi.Plan last = api.plans(MODEL).stream().filter(p -> BOARD_CLASS_ID.equals(p.classId()))
                        .findFirst().orElse(null);
                if (last != null && List.of("NO_CHOICE", "FAILED", "CANCELLED").contains(last.status())) {
                    throw new ApiException(0, null, "the demo plan for " + BOARD_CLASS_ID + " ended " + last.status()
                            + ": " + last.message() + " (GET /api/v1/plans/" + last.id() + ")");
                }
                if (!told) {
                    out().printf("waiting for the demo plan of %s's variant (%s) ...%n", BOARD_CLASS_ID,
                            last == null ? "not submitted yet" : "plan " + last.id() + " " + last.status());
                    out().flush();
                    told = true;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new ApiException(0, null, "no variant of " + MODEL + " registered for " + BOARD_CLASS_ID
                            + " after 180 s; see GET /api/v1/plans?model=" + MODEL);
                }
                Thread.sleep(1000);
            }
        }

        /** Quickstart keeps agents under {@code <data-dir>/agents}, next to the server's own data. */
        private void agentOptionsForAgents(Path base) {
            agentOptions.dataDir = base.resolve("agents");
        }

        private void banner(URI url, String token) {
            PrintWriter o = out();
            o.println();
            o.println("  console    " + url + "/console   (log in with the token)");
            o.println("             " + url + "/console/loops   (the closed loop the boards' drift alert opens)");
            o.println("  API docs   " + url + "/q/swagger-ui   (OpenAPI: " + url + "/q/openapi)");
            o.println("  REST API   " + url + "/api/v1   (token: " + token + ")");
            o.println("  try        export T=" + token);
            o.println("             curl -s -H \"Authorization: Bearer $T\" " + url + "/api/v1/deployments");
            o.println("             curl -s -H \"Authorization: Bearer $T\" '" + url + "/api/v1/alerts?state=FIRING'");
            o.println("             curl -s -H \"Authorization: Bearer $T\" " + url + "/api/v1/models/" + MODEL + "/versions");
            o.println("  CLI        edgefleet login --server " + url + " --token $T");
            o.println("             edgefleet rollouts list; edgefleet rollouts watch <id>; edgefleet alerts list --state firing");
            o.println("  stop       Ctrl-C (stops the agents and the server)");
            o.println();
            o.flush();
        }

        private long latestVersion(ServerApi api) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 60_000;
            while (true) {
                List<Long> versions = api.modelVersions(MODEL);
                if (!versions.isEmpty()) {
                    return versions.get(versions.size() - 1);
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new ApiException(0, null, "the server has no versions of " + MODEL
                            + " after 60 s; is edgefleet.demo.enabled honoured?");
                }
                Thread.sleep(1000);
            }
        }

        /** Retries while the server is still settling (e.g. the demo model being registered). */
        private ServerApi.Deployment createDeployment(ServerApi api, long version, String classId) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 60_000;
            while (true) {
                try {
                    return api.createDeployment(MODEL, version, classId, wavePolicy(), healthWindow());
                } catch (ApiException e) {
                    boolean retry = e.status() == 409 || e.status() >= 500 || e.status() == 0;
                    if (!retry || System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    err().println("(deployment not accepted yet: " + e.getMessage() + "; retrying)");
                    Thread.sleep(2000);
                }
            }
        }

        static boolean portFree(int port) {
            try (ServerSocket s = new ServerSocket(port)) {
                s.setReuseAddress(true);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        static String newToken() {
            byte[] b = new byte[24];
            new SecureRandom().nextBytes(b);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        }
    }
}
