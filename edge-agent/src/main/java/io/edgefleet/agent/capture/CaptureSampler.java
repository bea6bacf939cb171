package io.edgefleet.agent.capture;

import io.edgefleet.agent.inference.Observation;
import io.edgefleet.protocol.CaptureUpload;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.drift.TensorSample;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Opt-in sampling of real inputs (issue 12.4, promise 9). Off until the operator's signed CONFIG command sets a rate
 * above 0; nothing is sampled, buffered or sent while it is off. When on, every inference of the model in service
 * (the built-in loop and the inference API alike) adds {@code rate} to a credit and is sampled when the credit reaches
 * one, so exactly {@code rate} of the inferences are taken, whatever their timing. Samples are buffered and sent as
 * {@code .npz} uploads (one array per model input, samples along axis 0) of at most {@link #UPLOAD_BYTES} raw bytes or
 * {@link #UPLOAD_SAMPLES} samples, and at every {@link #flush()} (each telemetry window). The opt-in's bounds, in
 * samples and raw bytes, cover everything sent under it: once reached, sampling stops until a new opt-in. The
 * settings and the counts are kept in {@code capture.properties} so a restart neither forgets an opt-out nor resets
 * the bounds.
 */
public final class CaptureSampler {
    private static final System.Logger LOG = System.getLogger(CaptureSampler.class.getName());
    /** Raw-input bytes per upload (the server's capture message bound is 2 MiB of base64 JSON). */
    public static final int UPLOAD_BYTES = 1024 * 1024;
    public static final int UPLOAD_SAMPLES = 256;

    /** The opt-in: rate in [0, 1] (0 = off) and its bounds. */
    public record Settings(double rate, int maxSamples, long maxBytes) {
        public static final Settings OFF = new Settings(0, 0, 0);

        public boolean on() {
            return rate > 0 && maxSamples > 0 && maxBytes > 0;
        }
    }

    private final String deviceId;
    private final Path file;
    private final Consumer<CaptureUpload> uplink;
    private Settings settings = Settings.OFF;
    private long sentSamples;
    private long sentBytes;
    private double credit;
    private volatile ModelRef model;
    /** Buffered samples of the current model, per input name. */
    private final Map<String, List<TensorSample>> buffer = new LinkedHashMap<>();
    private int bufferedSamples;
    private long bufferedBytes;

    public CaptureSampler(String deviceId, Path file, Consumer<CaptureUpload> uplink) {
        this.deviceId = deviceId;
        this.file = file;
        this.uplink = uplink;
        load();
    }

    public synchronized Settings settings() {
        return settings;
    }

    public synchronized long sentSamples() {
        return sentSamples;
    }

    public synchronized long sentBytes() {
        return sentBytes;
    }

    /** A new opt-in (or opt-out, rate 0) from a verified CONFIG command; a changed opt-in starts new bounds. */
    public synchronized void configure(Settings s) {
        if (!s.on()) {
            buffer.clear(); // opted out: what is buffered is not sent
            bufferedSamples = 0;
            bufferedBytes = 0;
        }
        if (!s.equals(settings)) {
            sentSamples = 0;
            sentBytes = 0;
            credit = 0;
        }
        settings = s;
        save();
        LOG.log(System.Logger.Level.INFO, deviceId + ": input capture " + (s.on() ? "on: rate " + s.rate() + ", at most "
                + s.maxSamples() + " samples / " + s.maxBytes() + " bytes" : "off"));
    }

    /** The model now in service; what was buffered for the previous one is sent first. */
    public synchronized void modelChanged(ModelRef ref) {
        flush();
        model = ref;
    }

    /** Every inference, on the inference thread: cheap unless sampled. */
    public synchronized void observe(Observation o) {
        observe(model, o);
    }

    /**
     * An inference of the named model (a device may hold several): samples of one model are never packed with
     * another's, so a change of model first sends what was buffered.
     */
    public synchronized void observe(ModelRef ref, Observation o) {
        if (ref != null && !ref.equals(model)) {
            modelChanged(ref);
        }
        Settings s = settings;
        if (!s.on() || o == null || model == null || o.inputs().isEmpty()) {
            return;
        }
        credit += s.rate();
        if (credit < 1) {
            return;
        }
        credit -= 1;
        int batch = o.inputs().get(0).batch();
        long bytes = 0;
        for (TensorSample t : o.inputs()) {
            bytes += (long) t.length() * (t.isFloat() ? 4 : 8);
        }
        if (sentSamples + bufferedSamples + batch > s.maxSamples() || sentBytes + bufferedBytes + bytes > s.maxBytes()) {
            return; // the opt-in's bound is reached: nothing more is taken
        }
        for (TensorSample t : o.inputs()) {
            TensorSample copy = new TensorSample(t.name(), t.shape().clone(),
                    t.floats() == null ? null : t.floats().clone(), t.longs() == null ? null : t.longs().clone());
            buffer.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(copy);
        }
        bufferedSamples += batch;
        bufferedBytes += bytes;
        if (bufferedBytes >= UPLOAD_BYTES || bufferedSamples >= UPLOAD_SAMPLES) {
            flush();
        }
    }

    /** Sends what is buffered as one upload. */
    public synchronized void flush() {
        if (bufferedSamples == 0 || model == null) {
            return;
        }
        byte[] npz;
        try {
            npz = npz(buffer);
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": dropping captured samples that cannot be packed: "
                    + e.getMessage());
            buffer.clear();
            bufferedSamples = 0;
            bufferedBytes = 0;
            return;
        }
        int n = bufferedSamples;
        long raw = bufferedBytes;
        buffer.clear();
        bufferedSamples = 0;
        bufferedBytes = 0;
        sentSamples += n;
        sentBytes += raw;
        save();
        uplink.accept(CaptureUpload.of(deviceId, model, n, Base64.getEncoder().encodeToString(npz)));
    }

    /** One array per input: the buffered samples concatenated along axis 0 (float32 or int64). */
    static byte[] npz(Map<String, List<TensorSample>> samples) throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, List<TensorSample>> e : samples.entrySet()) {
            List<TensorSample> list = e.getValue();
            TensorSample first = list.get(0);
            long[] sampleShape = first.shape().length >= 2 ? Arrays.copyOfRange(first.shape(), 1, first.shape().length)
                    : new long[0];
            int rows = 0;
            int total = 0;
            for (TensorSample t : list) {
                rows += t.batch();
                total += t.length();
                if (t.isFloat() != first.isFloat() || t.sampleLength() != first.sampleLength()) {
                    throw new IllegalArgumentException("input '" + e.getKey() + "' changed shape or type between samples");
                }
            }
            long[] shape = new long[sampleShape.length + 1];
            shape[0] = rows;
            System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
            if (first.isFloat()) {
                float[] all = new float[total];
                int at = 0;
                for (TensorSample t : list) {
                    System.arraycopy(t.floats(), 0, all, at, t.length());
                    at += t.length();
                }
                arrays.put(e.getKey(), NpyArray.ofFloats(all, shape));
            } else {
                long[] all = new long[total];
                int at = 0;
                for (TensorSample t : list) {
                    System.arraycopy(t.longs(), 0, all, at, t.length());
                    at += t.length();
                }
                arrays.put(e.getKey(), NpyArray.ofLongs(all, shape));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npz.write(out, arrays);
        return out.toByteArray();
    }

    private void load() {
        if (file == null || !Files.exists(file)) {
            return;
        }
        try {
            java.util.Properties p = new java.util.Properties();
            try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            settings = new Settings(Double.parseDouble(p.getProperty("rate", "0")),
                    Integer.parseInt(p.getProperty("maxSamples", "0")), Long.parseLong(p.getProperty("maxBytes", "0")));
            sentSamples = Long.parseLong(p.getProperty("sentSamples", "0"));
            sentBytes = Long.parseLong(p.getProperty("sentBytes", "0"));
        } catch (IOException | RuntimeException e) {
            // unreadable settings: capture stays off (the safe side) until the operator opts in again
            LOG.log(System.Logger.Level.WARNING, deviceId + ": capture settings unreadable, capture off: " + e.getMessage());
            settings = Settings.OFF;
        }
    }

    private void save() {
        if (file == null) {
            return;
        }
        String text = "rate=" + settings.rate() + "\nmaxSamples=" + settings.maxSamples() + "\nmaxBytes="
                + settings.maxBytes() + "\nsentSamples=" + sentSamples + "\nsentBytes=" + sentBytes + "\n";
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot persist capture settings: " + e.getMessage());
        }
    }
}
