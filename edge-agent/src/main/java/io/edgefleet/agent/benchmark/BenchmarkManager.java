package io.edgefleet.agent.benchmark;

import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.inference.CpuTime;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.inference.ModelRunner;
import io.edgefleet.agent.mqtt.Link;
import io.edgefleet.agent.store.StorageErrors;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.agent.update.ArtifactDownload;
import io.edgefleet.agent.update.Timers;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.BenchmarkReport;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Runs BENCHMARK commands: fetches the named artifact through the same signed manifest and verified chunks as a
 * deploy, but into its own file outside the A/B store; loads it in a separate session that is never activated;
 * times inferences on synthetic inputs of the requested batch for the requested time or count on a worker thread;
 * and answers with a {@link BenchmarkReport}. The slots, the running model and the inference API are never touched.
 *
 * <p>Refusals (REFUSED, nothing started): {@code BENCHMARK_BUSY} while another benchmark or a deploy download runs,
 * {@code INVALID_FIELD} for another class's artifact or a batch the model's first axis cannot take. Failures
 * (FAILED): the manifest's ({@code SIGNATURE_INVALID}, {@code HASH_MISMATCH}, {@code SIZE_MISMATCH}),
 * {@code STORAGE_FULL}, {@code LOAD_FAILED}, and {@code BENCHMARK_OUT_OF_TIME} when the artifact does not arrive
 * within the download timeout or a count-only benchmark does not finish within
 * {@link Command#MAX_BENCHMARK_SECONDS}. An unsigned command never gets here: the command processor refuses it.
 *
 * <p>A command with {@code benchmarkIntervalMs} is paced like the agent's own inference loop: the timed runs start
 * that many ms apart (0: the agent's configured inference interval), and never earlier than the previous run's
 * (emulated) end, so the device reports the latency of the duty cycle it will run, the caches the pause cooled
 * included, rather than of runs back to back.
 *
 * <p>Download steps run on the agent thread (like the update manager's); the timed loop runs on {@code worker} and
 * its report is published from there.
 */
public final class BenchmarkManager {
    private static final System.Logger LOG = System.getLogger(BenchmarkManager.class.getName());
    static final int WARMUP_RUNS = 5;
    static final long STORAGE_MARGIN = 1024 * 1024;
    private static final int MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

    private final String deviceId;
    private final String classId;
    private final long downloadTimeoutMs;
    private final Path dir;
    private final ModelRunner runner;
    private final ManifestSigner.Verifier verifier;
    private final Link link;
    private final Consumer<BenchmarkReport> reports;
    private final Timers timers;
    private final Executor worker;
    private final BooleanSupplier deployBusy;
    private final Supplier<EnergyMeter> energy;
    private final double speedFactor;
    private final LongSupplier agentIntervalMs;
    private final Pacer pacer;
    /** Shared by every agent of the JVM (thread-safe; a mapper per agent repeated Jackson's introspection). */
    private static final JsonCodec MANIFEST_CODEC = new JsonCodec(MAX_MANIFEST_BYTES);

    private volatile Job job;

    /** The clock a benchmark's timed loop reads and how it waits for a paced run's start (tests drive both). */
    public interface Pacer {
        long nanoTime();

        /** Returns at or after {@code deadline} on {@link #nanoTime()}. */
        void sleepUntil(long deadline) throws InterruptedException;

        Pacer SYSTEM = new Pacer() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void sleepUntil(long deadline) throws InterruptedException {
                for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
                    LockSupport.parkNanos(left);
                    if (Thread.interrupted()) {
                        throw new InterruptedException("benchmark pacing interrupted");
                    }
                }
            }
        };
    }

    /** One benchmark from command to report. */
    private final class Job {
        final Command command;
        final ArtifactRef artifact;
        final String filter;
        ArtifactDownload assembly;
        final Map<Integer, byte[]> early = new LinkedHashMap<>();
        Timers.Handle timeout;
        volatile boolean downloading = true;

        Job(Command command) {
            this.command = command;
            this.artifact = command.artifact();
            this.filter = Topics.artifactFilter(artifact.classId(), artifact.model().sha256());
        }

        ModelRef model() {
            return artifact.model();
        }
    }

    public BenchmarkManager(String deviceId, String classId, long downloadTimeoutMs, Path dir, ModelRunner runner,
                            ManifestSigner.Verifier verifier, Link link, Consumer<BenchmarkReport> reports, Timers timers,
                            Executor worker, BooleanSupplier deployBusy, Supplier<EnergyMeter> energy) {
        this(deviceId, classId, downloadTimeoutMs, dir, runner, verifier, link, reports, timers, worker, deployBusy,
                energy, 1.0);
    }

    /**
     * @param speedFactor the agent's emulated slow-down ({@code --speed-factor}): each measured run counts
     *                    {@code factor} times its real duration, as the inference loop's telemetry does, so a
     *                    simulated slow board reports the same hardware to the planner as it does in telemetry
     */
    public BenchmarkManager(String deviceId, String classId, long downloadTimeoutMs, Path dir, ModelRunner runner,
                            ManifestSigner.Verifier verifier, Link link, Consumer<BenchmarkReport> reports, Timers timers,
                            Executor worker, BooleanSupplier deployBusy, Supplier<EnergyMeter> energy,
                            double speedFactor) {
        this(deviceId, classId, downloadTimeoutMs, dir, runner, verifier, link, reports, timers, worker, deployBusy,
                energy, speedFactor, () -> 0, Pacer.SYSTEM);
    }

    /**
     * @param agentIntervalMs the agent's configured inference interval now, for a command paced at 0
     * @param pacer           the timed loop's clock and sleep
     */
    public BenchmarkManager(String deviceId, String classId, long downloadTimeoutMs, Path dir, ModelRunner runner,
                            ManifestSigner.Verifier verifier, Link link, Consumer<BenchmarkReport> reports, Timers timers,
                            Executor worker, BooleanSupplier deployBusy, Supplier<EnergyMeter> energy,
                            double speedFactor, LongSupplier agentIntervalMs, Pacer pacer) {
        this.agentIntervalMs = agentIntervalMs;
        this.pacer = pacer;
        this.speedFactor = speedFactor >= 1.0 ? speedFactor : 1.0;
        this.deviceId = deviceId;
        this.classId = classId;
        this.downloadTimeoutMs = downloadTimeoutMs;
        this.dir = dir;
        this.runner = runner;
        this.verifier = verifier;
        this.link = link;
        this.reports = reports;
        this.timers = timers;
        this.worker = worker;
        this.deployBusy = deployBusy;
        this.energy = energy;
    }

    /** True from an accepted command until its report is sent. */
    public boolean busy() {
        return job != null;
    }

    /** A verified BENCHMARK command, on the agent thread. */
    public void onBenchmark(Command cmd) {
        ArtifactRef a = cmd.artifact();
        if (job != null) {
            refuse(cmd, ReasonCode.BENCHMARK_BUSY, "benchmark " + job.command.deploymentId() + " is still running");
            return;
        }
        if (deployBusy.getAsBoolean()) {
            refuse(cmd, ReasonCode.BENCHMARK_BUSY, "a deploy is downloading or under its health watch; benchmark later");
            return;
        }
        if (!classId.equals(a.classId())) {
            refuse(cmd, ReasonCode.INVALID_FIELD, "artifact belongs to device class '" + a.classId()
                    + "' but this device is of class '" + classId + "'");
            return;
        }
        Job j = new Job(cmd);
        job = j;
        j.timeout = timers.schedule(() -> {
            if (job == j && j.downloading) {
                fail(j, ReasonCode.BENCHMARK_OUT_OF_TIME, "the artifact did not arrive within " + downloadTimeoutMs / 1000
                        + " s" + (j.assembly == null ? " (no valid manifest)" : " (" + j.assembly.received() + " of "
                        + j.assembly.total() + " chunks)"));
            }
        }, downloadTimeoutMs);
        LOG.log(System.Logger.Level.INFO, deviceId + ": benchmark " + cmd.deploymentId() + " of " + a.model().label()
                + " accepted");
        link.subscribe(j.filter);
    }

    /** Every message on artifact topics, on the agent thread; ignored unless it belongs to the running benchmark. */
    public void onArtifactMessage(String topic, byte[] payload) {
        Job j = job;
        if (j == null || !j.downloading || payload == null || payload.length == 0) {
            return;
        }
        Topics.Parsed p = Topics.parse(topic).orElse(null);
        if (p == null || !j.artifact.classId().equals(p.classId()) || !j.model().sha256().equals(p.sha256())) {
            return;
        }
        try {
            if (p.kind() == Topics.Kind.MANIFEST) {
                onManifest(j, payload);
            } else if (p.kind() == Topics.Kind.CHUNK) {
                onChunk(j, p.chunkIndex(), payload);
            }
        } catch (IOException e) {
            fail(j, StorageErrors.reason(e), "cannot write the benchmark download: " + StorageErrors.describe(e));
        }
    }

    private void onManifest(Job j, byte[] payload) throws IOException {
        if (j.assembly != null) {
            return;
        }
        ArtifactManifest m;
        try {
            m = MANIFEST_CODEC.decode(payload, ArtifactManifest.class);
            verifier.verify(m);
        } catch (ProtocolException e) {
            fail(j, e.reason(), "manifest refused: " + e.getMessage());
            return;
        }
        if (!m.model().equals(j.model()) || !m.classId().equals(j.artifact.classId())) {
            fail(j, ReasonCode.HASH_MISMATCH, "signed manifest describes " + m.model().label() + " (" + m.model().sha256()
                    + ") but the command asked for " + j.model().label());
            return;
        }
        if (m.size() != j.artifact.size()) {
            fail(j, ReasonCode.SIZE_MISMATCH, "signed manifest says " + m.size() + " bytes but the command said "
                    + j.artifact.size());
            return;
        }
        Files.createDirectories(dir);
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < m.size() + STORAGE_MARGIN) {
            fail(j, ReasonCode.STORAGE_FULL, "artifact needs " + m.size() + " bytes but only " + free + " are free");
            return;
        }
        j.assembly = new ArtifactDownload(m, dir.resolve("artifact.part"));
        Map<Integer, byte[]> early = new LinkedHashMap<>(j.early);
        j.early.clear();
        for (Map.Entry<Integer, byte[]> e : early.entrySet()) {
            onChunk(j, e.getKey(), e.getValue());
        }
    }

    private void onChunk(Job j, int index, byte[] payload) throws IOException {
        if (job != j || !j.downloading) {
            return;
        }
        if (j.assembly == null) {
            if (j.early.size() < 512) {
                j.early.putIfAbsent(index, payload);
            }
            return;
        }
        ArtifactDownload.ChunkResult r = j.assembly.accept(index, payload);
        if (r == ArtifactDownload.ChunkResult.WRONG_SIZE || r == ArtifactDownload.ChunkResult.HASH_MISMATCH) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": benchmark chunk " + index + " " + r + "; discarded");
            if (j.assembly.missing().equals(j.assembly.failedChunks())) {
                link.subscribe(j.filter); // fetch the retained copies again
            }
            return;
        }
        if (j.assembly.complete()) {
            String sha = j.assembly.finish();
            endDownload(j);
            if (!sha.equals(j.model().sha256())) {
                fail(j, ReasonCode.HASH_MISMATCH, "assembled file hashes to " + sha + ", expected " + j.model().sha256());
                return;
            }
            ArtifactManifest signed = j.assembly.manifest();
            worker.execute(() -> run(j, j.assembly.file(), signed));
        }
    }

    private void endDownload(Job j) {
        j.downloading = false;
        if (j.timeout != null) {
            j.timeout.cancel();
        }
        link.unsubscribe(j.filter);
        j.early.clear();
    }

    // ---------------------------------------------------------------- the timed loop (worker thread)

    private void run(Job j, Path file, ArtifactManifest manifest) {
        Command c = j.command;
        int batch = c.batch() == null ? 1 : c.batch();
        LoadedModel model;
        try {
            model = runner.load(file);
        } catch (ModelException e) {
            finish(j, BenchmarkReport.failed(deviceId, c.deploymentId(), j.model(), BenchmarkReport.Status.FAILED,
                    e.reason(), "the artifact does not load: " + e.getMessage()));
            return;
        }
        try {
            Map<String, io.edgefleet.agent.inference.Tensor> inputs;
            try {
                inputs = SyntheticInputs.forBatch(model.inputs(), batch, c.id().hashCode());
            } catch (IllegalArgumentException e) {
                finish(j, BenchmarkReport.failed(deviceId, c.deploymentId(), j.model(), BenchmarkReport.Status.REFUSED,
                        ReasonCode.INVALID_FIELD, e.getMessage()));
                return;
            }
            List<String> outputs = model.outputs().stream().map(s -> s.name()).toList();
            for (int i = 0; i < WARMUP_RUNS; i++) {
                model.run(inputs, outputs);
            }
            EnergyMeter meter = energy.get();
            if (manifest.power() != null) {
                meter.setClassPower(manifest.power());
            }
            meter.cut(0, 0); // starts the measured interval
            long limitNanos = (c.benchmarkSeconds() != null ? c.benchmarkSeconds() : Command.MAX_BENCHMARK_SECONDS) * 1_000_000_000L;
            long wantRuns = c.benchmarkRuns() != null ? c.benchmarkRuns() : Long.MAX_VALUE;
            long intervalNanos = intervalNanos(c);
            Histogram h = new Histogram(3_600_000_000L, 3);
            long cpu = 0;
            long n = 0;
            long t0 = pacer.nanoTime();
            long lastTick = t0;
            long due = t0;
            while (n < wantRuns && pacer.nanoTime() - t0 < limitNanos) {
                if (n > 0 && intervalNanos > 0) {
                    if (due - t0 >= limitNanos) {
                        break; // the next paced run would start after the benchmark's time is up
                    }
                    pacer.sleepUntil(due);
                }
                long cpu0 = CpuTime.currentThread();
                long s = pacer.nanoTime();
                model.run(inputs, outputs);
                long e = pacer.nanoTime();
                cpu += CpuTime.currentThread() - cpu0;
                long emulated = (long) ((e - s) * speedFactor);
                long micros = emulated / 1000;
                h.recordValue(Math.max(1, Math.min(3_600_000_000L, micros)));
                n++;
                // as the inference loop: the next run is due an interval after this one was, but not before this
                // one's emulated end (a slower-than-interval model runs back to back rather than bursting)
                due = Math.max(due + intervalNanos, s + emulated);
                if (e - lastTick > 1_000_000_000L) {
                    meter.tick();
                    lastTick = e;
                }
            }
            double seconds = (pacer.nanoTime() - t0) / 1e9;
            if (n < wantRuns && c.benchmarkSeconds() == null) {
                finish(j, BenchmarkReport.failed(deviceId, c.deploymentId(), j.model(), BenchmarkReport.Status.FAILED,
                        ReasonCode.BENCHMARK_OUT_OF_TIME, "only " + n + " of " + wantRuns + " runs finished within "
                                + Command.MAX_BENCHMARK_SECONDS + " s"));
                return;
            }
            EnergyMeter.WindowEnergy we = meter.cut(n, cpu);
            finish(j, BenchmarkReport.completed(deviceId, c.deploymentId(), j.model(), n, batch,
                    Math.round(seconds * 1000) / 1000.0, WindowRecorder.stats(h), we.millijoulesPerInference(), we.source()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finish(j, BenchmarkReport.failed(deviceId, c.deploymentId(), j.model(), BenchmarkReport.Status.FAILED,
                    ReasonCode.BENCHMARK_OUT_OF_TIME, "the agent stopped during the benchmark"));
        } catch (Exception e) {
            finish(j, BenchmarkReport.failed(deviceId, c.deploymentId(), j.model(), BenchmarkReport.Status.FAILED,
                    ReasonCode.LOAD_FAILED, "inference failed during the benchmark: " + e));
        } finally {
            model.close();
        }
    }

    /** Nanos between the starts of two timed runs: 0 back to back (no field), the agent's interval for 0. */
    private long intervalNanos(Command c) {
        Integer ms = c.benchmarkIntervalMs();
        if (ms == null) {
            return 0;
        }
        long millis = ms == 0 ? agentIntervalMs.getAsLong() : ms;
        return Math.max(0, millis) * 1_000_000L;
    }

    // ---------------------------------------------------------------- outcomes

    private void refuse(Command cmd, ReasonCode reason, String detail) {
        LOG.log(System.Logger.Level.WARNING, deviceId + ": benchmark " + cmd.deploymentId() + " refused (" + reason + "): "
                + detail);
        reports.accept(BenchmarkReport.failed(deviceId, cmd.deploymentId(), cmd.artifact().model(),
                BenchmarkReport.Status.REFUSED, reason, detail));
    }

    private void fail(Job j, ReasonCode reason, String detail) {
        if (job != j) {
            return;
        }
        if (j.downloading) {
            endDownload(j);
        }
        try {
            if (j.assembly != null) {
                j.assembly.close();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, deviceId + ": closing the benchmark download: " + e.getMessage());
        }
        finish(j, BenchmarkReport.failed(deviceId, j.command.deploymentId(), j.model(), BenchmarkReport.Status.FAILED,
                reason, detail));
    }

    private void finish(Job j, BenchmarkReport report) {
        try {
            Files.deleteIfExists(dir.resolve("artifact.part"));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot remove the benchmark artifact: " + e.getMessage());
        }
        if (job == j) {
            job = null;
        }
        LOG.log(System.Logger.Level.INFO, deviceId + ": benchmark " + report.jobId() + " " + report.status()
                + (report.latency() == null ? " (" + report.reason() + ": " + report.detail() + ")"
                : " p50 " + report.latency().p50() + " ms p95 " + report.latency().p95() + " ms over " + report.inferences()));
        reports.accept(report);
    }
}
