package io.edgefleet.agent.bench;

import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.ModelStores;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Agent footprint, one command:
 * <pre>./mvnw -B -q -pl edge-agent -am package -DskipTests
 * ./mvnw -B -q -pl edge-agent -am -Pbench test -DskipTests -Dbench.main=io.edgefleet.agent.bench.ServingFootprint</pre>
 * The agent runs from its shaded jar, as on a device; the bare process from the ONNX Runtime jar alone.
 * Starts, one after the other, each in its own JVM with the same flags ({@code -Dbench.jvm}, default
 * {@code -Xmx128m -XX:+UseSerialGC}): an agent with digits-mlp installed serving the inference API (its own loop
 * idle; a client posts one request every 50 ms), the same agent without the API running its built-in loop every
 * 50 ms, and a bare ONNX Runtime process running digits-mlp every 50 ms; then the same with two models
 * (digits-mlp and digits-resnet, when both fixtures exist): the agent holding both and serving both (requests
 * alternate), against a bare process with a session of each. Reports VmRSS (median over
 * {@code -Dbench.steady-seconds=15} samples, after 5 s of settling) and the time from process start to the first
 * answered request (agent) or first inference (bare). The agents get no broker (a closed port): they keep trying
 * to connect in the background, which is what an agent does while its network is down.
 * <p>
 * Each row also splits the RSS at its last sample by {@code /proc/PID/smaps}: the Java heap (the largest anonymous
 * mapping, the reserved {@code -Xmx} range, counted as far as it has been touched), the rest of the anonymous
 * memory (metaspace, code cache, thread stacks, malloc arenas of the JVM and of ONNX Runtime) and file-backed
 * pages (libjvm, libonnxruntime, the CDS archive, jars). Then, unless {@code -Dbench.jvm2=} is empty, the API
 * agent and the bare process run again with a second flag set, the same on both sides ({@link #JVM2}: the heap
 * flags of {@code deploy/systemd/edgefleet-agent.service} before session 10), so the ratio under it is fair.
 * <p>
 * Then, unless {@code -Dbench.launcher=false}, the agent started the way it ships: through
 * {@code deploy/systemd/edgefleet-agent.sh} with its default JVM flags and {@code MALLOC_ARENA_MAX}: its first run
 * (copying ONNX Runtime's libraries out of the jar and recording the AppCDS archive, not measured), then without the
 * archive and with it (both loading the copied libraries), against the bare process with the same flags
 * and environment, for one and for two models. Every row also gives the CPU time the process had used at its first
 * answer ({@code utime + stime} of {@code /proc/PID/stat}): on a loaded machine the wall time mostly measures the
 * other processes, the CPU time what the process itself needed.
 */
public final class ServingFootprint {
    static final String JVM = System.getProperty("bench.jvm", "-Xmx128m -XX:+UseSerialGC");
    /**
     * A second flag set for both sides: the heap flags the agent ships with ({@code deploy/systemd/edgefleet-agent.service}).
     * Without {@code -Xms} the JVM's initial heap is 1/64 of the machine's RAM, capped at {@code -Xmx}: the whole 128 MiB
     * on a 24 GiB build machine (a 35 MiB eden that a process allocating at all touches entirely), 16 MiB on a 1 GiB board.
     */
    static final String JVM2 = System.getProperty("bench.jvm2", "-Xms32m -Xmx128m -XX:+UseSerialGC");
    static final int STEADY = Integer.getInteger("bench.steady-seconds", 15);
    static final boolean LAUNCHER = !"false".equals(System.getProperty("bench.launcher"));

    private ServingFootprint() {
    }

    /** RSS split of the last sample, KiB: Java heap touched, other anonymous memory, file-backed pages. */
    record Split(long heapKb, long anonKb, long fileKb) {
    }

    record Result(String what, double startMs, double cpuMs, long medianKb, long maxKb, Split split) {
    }

    /** How a process is started: the command's first words (java and its flags, or the launcher) and its environment. */
    record Launch(List<String> prefix, Map<String, String> env, String label) {
        static Launch java(String jvm) {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(Arrays.asList(jvm.trim().split("\\s+")));
            return new Launch(cmd, Map.of(), jvm.equals(JVM) ? "" : ", flags of bench.jvm2");
        }

        /** Through the shipped launcher script; {@code cds} its archive, or empty for none; {@code nativeDir} its copy of ORT's libraries. */
        static Launch launcher(Path script, Path jar, String cds, Path nativeDir, String label) {
            return new Launch(List.of("sh", script.toString()), Map.of("EDGEFLEET_JAVA",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "EDGEFLEET_AGENT_JAR", jar.toString(),
                    "EDGEFLEET_AGENT_CDS", cds, "EDGEFLEET_AGENT_NATIVE", nativeDir.toString()), label);
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = ServingBenchmark.digitsDir().resolve("digits-mlp.onnx");
        if (!Files.isRegularFile(model)) {
            System.out.println("skipped: " + model + " does not exist (-Dbench.digits=DIR)");
            System.exit(0);
        }
        // exec:java runs in the reactor's directory (the repository root) or in the module's.
        Path jar = Path.of("edge-agent/target/edge-agent-0.1.0-SNAPSHOT-all.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            jar = Path.of("target/edge-agent-0.1.0-SNAPSHOT-all.jar").toAbsolutePath();
        }
        if (!Files.isRegularFile(jar)) {
            System.out.println("skipped: " + jar + " does not exist; run ./mvnw -B -q -pl edge-agent -am package -DskipTests first");
            System.exit(0);
        }
        // The bare process gets ONNX Runtime and its own class only, nothing of the agent.
        String cp = Arrays.stream(((URLClassLoader) ServingFootprint.class.getClassLoader()).getURLs())
                .map(u -> Path.of(u.getPath()).toString()).filter(f -> f.contains("onnxruntime") || f.endsWith("test-classes"))
                .collect(Collectors.joining(java.io.File.pathSeparator));
        Path resnet = ServingBenchmark.digitsDir().resolve("digits-resnet.onnx");
        boolean twoModels = Files.isRegularFile(resnet);
        if (!twoModels) {
            System.out.println("two models skipped: " + resnet + " does not exist");
        }
        List<Result> results = new ArrayList<>();
        results.add(agent(Launch.java(JVM), List.of(model), jar, true));
        results.add(agent(Launch.java(JVM), List.of(model), jar, false));
        results.add(bare(Launch.java(JVM), List.of(model), cp));
        List<Result> two = new ArrayList<>();
        if (twoModels) {
            two.add(agent(Launch.java(JVM), List.of(model, resnet), jar, true));
            two.add(bare(Launch.java(JVM), List.of(model, resnet), cp));
        }
        List<Result> board = new ArrayList<>();
        if (!JVM2.isBlank()) {
            board.add(agent(Launch.java(JVM2), List.of(model), jar, true));
            board.add(bare(Launch.java(JVM2), List.of(model), cp));
            if (twoModels) {
                board.add(agent(Launch.java(JVM2), List.of(model, resnet), jar, true));
                board.add(bare(Launch.java(JVM2), List.of(model, resnet), cp));
            }
        }
        // The agent as it ships (deploy/systemd/edgefleet-agent.sh) against the bare process with the same flags.
        Path script = Path.of("deploy/systemd/edgefleet-agent.sh").toAbsolutePath();
        if (!Files.isRegularFile(script)) {
            script = Path.of("../deploy/systemd/edgefleet-agent.sh").toAbsolutePath().normalize();
        }
        String launcherFlags = null;
        List<List<Result>> shipped = new ArrayList<>();
        if (LAUNCHER && Files.isRegularFile(script)) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^DEFAULT_JVM_OPTS=\"([^\"]+)\"")
                    .matcher(Files.readString(script));
            if (!m.find()) {
                throw new IllegalStateException(script + " has no DEFAULT_JVM_OPTS=\"...\" line");
            }
            launcherFlags = m.group(1);
            Launch bareLaunch = new Launch(Launch.java(launcherFlags).prefix(), Map.of("MALLOC_ARENA_MAX", "2"),
                    ", launcher's flags, MALLOC_ARENA_MAX=2");
            for (List<Path> set : twoModels ? List.of(List.of(model), List.of(model, resnet)) : List.of(List.of(model))) {
                Path state = Files.createTempDirectory("edgefleet-footprint-launcher-");
                Path cds = state.resolve("agent-cds.jsa");
                Path nativeDir = state.resolve("native");
                List<Result> rows = new ArrayList<>();
                // the launcher's first run: copies ONNX Runtime's libraries out of the jar and records the archive
                System.out.println("recording the AppCDS archive (launcher's first run) ...");
                agent(Launch.launcher(script, jar, cds.toString(), nativeDir, ""), set, jar, true, true);
                if (!Files.isRegularFile(cds) || !Files.isDirectory(nativeDir)) {
                    throw new IllegalStateException("the launcher's first run recorded no archive at " + cds
                            + " or copied no libraries to " + nativeDir);
                }
                rows.add(agent(Launch.launcher(script, jar, "", nativeDir, ", launcher without AppCDS"), set, jar, true));
                rows.add(agent(Launch.launcher(script, jar, cds.toString(), nativeDir, ", launcher with AppCDS ("
                        + Files.size(cds) / (1024 * 1024) + " MiB)"), set, jar, true));
                rows.add(bare(bareLaunch, set, cp));
                shipped.add(rows);
                deleteTree(state);
            }
        } else {
            System.out.println("launcher rows skipped (-Dbench.launcher=false or no " + script + ")");
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "edgefleet agent footprint (%d cores, load average %s)%n",
                Runtime.getRuntime().availableProcessors(), ServingBenchmark.loadAverage());
        System.out.printf(Locale.ROOT, "  %-72s %14s %9s %10s %10s %7s   %s%n", "process", "start to first", "(CPU)",
                "VmRSS med", "VmRSS max", "ratio", "last sample: Java heap / other anon / files");
        System.out.println("  flags " + JVM);
        print("one model (digits-mlp)", results, results.get(2).medianKb());
        if (!two.isEmpty()) {
            print("two models (digits-mlp + digits-resnet)", two, two.get(1).medianKb());
            System.out.printf(Locale.ROOT, "  second model adds: agent %+.1f MiB, bare %+.1f MiB%n",
                    (two.get(0).medianKb() - results.get(0).medianKb()) / 1024.0,
                    (two.get(1).medianKb() - results.get(2).medianKb()) / 1024.0);
        }
        if (!board.isEmpty()) {
            System.out.println("  flags " + JVM2 + " (both sides)");
            print("one model (digits-mlp)", board.subList(0, 2), board.get(1).medianKb());
            if (board.size() == 4) {
                print("two models (digits-mlp + digits-resnet)", board.subList(2, 4), board.get(3).medianKb());
            }
        }
        if (!shipped.isEmpty()) {
            System.out.println("  as shipped: " + script.getFileName() + " (" + launcherFlags + ", MALLOC_ARENA_MAX=2) against"
                    + " the bare process with the same flags");
            print("one model (digits-mlp)", shipped.get(0), shipped.get(0).get(2).medianKb());
            if (shipped.size() == 2) {
                print("two models (digits-mlp + digits-resnet)", shipped.get(1), shipped.get(1).get(2).medianKb());
            }
        }
        System.exit(0);
    }

    static void print(String title, List<Result> rows, long bareKb) {
        System.out.println("  " + title);
        for (Result r : rows) {
            System.out.printf(Locale.ROOT, "  %-72s %11.0f ms %6.0f ms %6.1f MiB %6.1f MiB %6.2fx   %.1f / %.1f / %.1f MiB%n",
                    r.what(), r.startMs(), r.cpuMs(), r.medianKb() / 1024.0, r.maxKb() / 1024.0, (double) r.medianKb() / bareKb,
                    r.split().heapKb() / 1024.0, r.split().anonKb() / 1024.0, r.split().fileKb() / 1024.0);
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A model's name in the agent: its file name without {@code .onnx}. */
    static String name(Path model) {
        return model.getFileName().toString().replaceFirst("\\.onnx$", "");
    }

    /** A zero request of the model's input shape ({@code digits-mlp}: [1,1,8,8], {@code digits-resnet}: [1,1,16,16]). */
    static String body(Path model) {
        int side = name(model).contains("resnet") ? 16 : 8;
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1," + side + "," + side + "],\"datatype\":\"FP32\",\"data\":"
                + Arrays.toString(new float[side * side]) + "}]}";
    }

    static Result agent(Launch launch, List<Path> models, Path jar, boolean api) throws Exception {
        return agent(launch, models, jar, api, false);
    }

    /** {@code record}: only start it, answer a few requests and stop it (SIGTERM), as the launcher's recording run. */
    static Result agent(Launch launch, List<Path> models, Path jar, boolean api, boolean record) throws Exception {
        Path dir = Files.createTempDirectory("edgefleet-footprint-");
        // Installed committed, each in its own store, as the agent keeps several models.
        for (Path model : models) {
            byte[] bytes = Files.readAllBytes(model);
            ModelStore store = ModelStores.open(dir).getOrCreate(name(model));
            Files.write(store.downloadFile(), bytes);
            store.stage(new ModelRef(name(model), 1, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))),
                    "bench");
            store.activateStaged();
            store.commit();
        }
        int port = freePort();
        List<String> cmd = new ArrayList<>(launch.prefix());
        if (!launch.env().containsKey("EDGEFLEET_AGENT_JAR")) {
            cmd.addAll(List.of("-jar", jar.toString()));
        }
        cmd.addAll(List.of("--device-id", "bench", "--class-id", "bench", "--data-dir", dir.toString(),
                "--server-keys", ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic()),
                "--mqtt-url", "tcp://127.0.0.1:" + freePort(), "--serving-enabled", Boolean.toString(api),
                "--serving-port", Integer.toString(port), "--inference-interval-ms", api ? "3600000" : "50"));
        String names = models.stream().map(ServingFootprint::name).collect(Collectors.joining(" + "));
        String what = (api ? "agent (" + names + "), API 20 req/s (loop idle)"
                : "agent (" + names + "), API off, loop every 50 ms") + launch.label();
        if (!record) {
            System.out.println("measuring " + what + " ...");
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<HttpRequest> posts = new ArrayList<>();
        for (Path model : models) {
            posts.add(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/" + name(model) + "/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body(model))).build());
        }
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
        pb.environment().putAll(launch.env());
        Process p = pb.start();
        try {
            double startMs;
            if (api) {
                // start to first answer: every model has answered once
                for (HttpRequest post : posts) {
                    while (true) {
                        try {
                            if (http.send(post, HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                                break;
                            }
                        } catch (java.io.IOException notYet) {
                            // not listening yet
                        }
                        if (!p.isAlive() || System.nanoTime() - t0 > 60e9) {
                            throw new IllegalStateException("the agent did not answer (" + (p.isAlive() ? "running" : "exit "
                                    + p.exitValue()) + "): " + Files.readString(dir.resolve("agent.log")) + "\ncommand: " + cmd);
                        }
                        Thread.sleep(5);
                    }
                }
                startMs = (System.nanoTime() - t0) / 1e6;
            } else {
                startMs = Double.NaN;
            }
            double cpuMs = api ? cpuMs(p.pid()) : Double.NaN;
            if (record) {
                for (int i = 0; i < 20; i++) {
                    http.send(posts.get(i % posts.size()), HttpResponse.BodyHandlers.ofString());
                }
                p.destroy();
                if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the recording run did not stop in 60 s");
                }
                return null;
            }
            int[] next = {0};
            return steady(what, startMs, cpuMs, p, api ? () -> http.send(posts.get(next[0]++ % posts.size()),
                    HttpResponse.BodyHandlers.ofString()) : null);
        } finally {
            p.destroy();
            p.waitFor();
            deleteTree(dir);
        }
    }

    /** Removes a directory this benchmark made under the temp dir (a model store, a launcher's state). */
    static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    static Result bare(Launch launch, List<Path> models, String cp) throws Exception {
        String what = "bare ONNX Runtime (" + models.stream().map(ServingFootprint::name).collect(Collectors.joining(" + "))
                + "), each every 50 ms" + launch.label();
        System.out.println("measuring " + what + " ...");
        List<String> cmd = new ArrayList<>(launch.prefix());
        cmd.addAll(List.of("-cp", cp, BareOrt.class.getName()));
        cmd.addAll(List.of(models.get(0).toString(), "input"));
        models.subList(1, models.size()).forEach(m -> cmd.add(m.toString()));
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(launch.env());
        Process p = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("first")) {
                System.out.println("  bare: " + line);
            }
            double startMs = (System.nanoTime() - t0) / 1e6;
            return steady(what, startMs, cpuMs(p.pid()), p, null);
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** Settles 5 s, then samples VmRSS once per second; {@code load} (if any) runs every 50 ms meanwhile. */
    static Result steady(String what, double startMs, double cpuMs, Process p, Call load) throws Exception {
        long[] kb = new long[STEADY];
        long end = System.nanoTime() + (long) ((5 + STEADY) * 1e9);
        long nextSample = System.nanoTime() + 5_000_000_000L;
        int n = 0;
        while (System.nanoTime() < end && n < STEADY) {
            if (load != null) {
                load.run();
            }
            if (System.nanoTime() >= nextSample) {
                kb[n++] = rssKb(p.pid());
                nextSample += 1_000_000_000L;
            }
            Thread.sleep(50);
        }
        long[] s = Arrays.copyOf(kb, n);
        Arrays.sort(s);
        return new Result(what, startMs, cpuMs, s[s.length / 2], s[s.length - 1], split(p.pid()));
    }

    /**
     * The RSS of a process split into Java heap, other anonymous and file-backed. With compressed oops and a heap
     * under 4 GiB the JVM places the heap just below the 4 GiB line, where nothing else of a 64-bit process lives
     * (the launcher, libraries, metaspace and code cache are mapped far above it), so the heap is the anonymous
     * memory below that line.
     */
    static Split split(long pid) throws Exception {
        long heap = 0;
        long anon = 0;
        long file = 0;
        boolean anonymous = false;
        boolean low = false;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 5 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                long end = Long.parseUnsignedLong(f[0].substring(f[0].indexOf('-') + 1), 16);
                low = Long.compareUnsigned(end, 1L << 32) <= 0;
                // no path, or a pseudo path such as [heap] (malloc's) or [stack]
                anonymous = f.length < 6 || f[5].startsWith("[");
            } else if (f[0].equals("Rss:")) {
                long rss = Long.parseLong(f[1]);
                if (!anonymous) {
                    file += rss;
                } else if (low) {
                    heap += rss;
                } else {
                    anon += rss;
                }
            }
        }
        return new Split(heap, anon, file);
    }

    /** CPU time the process has used so far (user + system), ms: fields 14 and 15 of /proc/PID/stat, in clock ticks. */
    static double cpuMs(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after the command name: state is field 3, utime 14, stime 15; clock ticks are 100 per second on Linux
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0;
    }

    static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
