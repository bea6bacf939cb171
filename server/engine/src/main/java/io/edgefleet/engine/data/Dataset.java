package io.edgefleet.engine.data;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import io.edgefleet.protocol.data.DType;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.NpyFormatException;
import io.edgefleet.protocol.data.Npz;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Calibration or validation samples (DESIGN.md, Formats): one array per model input keyed by the input's name, the
 * first axis is the sample axis; optional {@code labels} (class ids) and {@code cohort} (slice ids for the
 * per-cohort gate), both integer vectors with one entry per sample.
 *
 * <p>Immutable. {@link #validateFor(OnnxModel)} checks the arrays against a model's inputs; {@link #feeds} cuts
 * samples into the tensors a session takes.
 */
public final class Dataset {
    public static final String LABELS = "labels";
    public static final String COHORT = "cohort";

    private final Map<String, TensorData> arrays;
    private final long[] labels;
    private final long[] cohorts;
    private final int size;
    private final String sha256;
    private final String source;

    private Dataset(Map<String, TensorData> arrays, long[] labels, long[] cohorts, String sha256, String source) {
        this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
        this.labels = labels;
        this.cohorts = cohorts;
        this.source = source;
        if (arrays.isEmpty()) {
            throw new DatasetException(source + ": no input arrays (only labels/cohort?)");
        }
        int n = -1;
        String first = null;
        for (TensorData t : arrays.values()) {
            if (t.rank() == 0) {
                throw new DatasetException(source + ": array '" + t.name() + "' is a scalar; the first axis must be the "
                        + "sample axis");
            }
            int rows = Math.toIntExact(t.dim(0));
            if (n < 0) {
                n = rows;
                first = t.name();
            } else if (rows != n) {
                throw new DatasetException(source + ": array '" + t.name() + "' has " + rows + " samples but '" + first
                        + "' has " + n + "; every array needs the same number of samples along axis 0");
            }
        }
        if (labels != null && labels.length != n) {
            throw new DatasetException(source + ": '" + LABELS + "' has " + labels.length + " entries but '" + first
                    + "' has " + n + " samples");
        }
        if (cohorts != null && cohorts.length != n) {
            throw new DatasetException(source + ": '" + COHORT + "' has " + cohorts.length + " entries but '" + first
                    + "' has " + n + " samples");
        }
        if (n == 0) {
            throw new DatasetException(source + ": the dataset is empty (0 samples)");
        }
        if (labels != null) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0) {
                    throw new DatasetException(source + ": '" + LABELS + "' holds " + labels[i] + " at sample " + i
                            + "; class ids must be >= 0");
                }
            }
        }
        this.size = n;
        this.sha256 = sha256 != null ? sha256 : contentHash();
    }

    /**
     * Reads an {@code .npz}; the sha256 is that of the file's bytes.
     *
     * @throws DatasetException for a missing, unreadable or malformed file, or arrays of inconsistent length
     */
    public static Dataset fromNpz(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException("dataset file not found: " + file, e);
        } catch (IOException | OutOfMemoryError e) {
            throw new DatasetException("cannot read dataset file " + file + ": " + e.getMessage(), e);
        }
        return fromNpz(bytes, file.getFileName().toString());
    }

    /** Reads an {@code .npz} held in memory (an upload); {@code source} names it in messages. */
    public static Dataset fromNpz(byte[] bytes, String source) {
        Map<String, NpyArray> raw;
        try {
            raw = Npz.read(new ByteArrayInputStream(bytes), Npz.DEFAULT_MAX_BYTES, source);
        } catch (NpyFormatException e) {
            throw new DatasetException(e.getMessage(), e);
        } catch (IOException e) {
            throw new DatasetException(source + " is not a readable .npz archive: " + e.getMessage(), e);
        }
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        long[] labels = null;
        long[] cohorts = null;
        for (Map.Entry<String, NpyArray> e : raw.entrySet()) {
            String key = e.getKey();
            NpyArray a = e.getValue();
            if (key.equals(LABELS) || key.equals(COHORT)) {
                long[] ids = idVector(source, key, a);
                if (key.equals(LABELS)) {
                    labels = ids;
                } else {
                    cohorts = ids;
                }
            } else {
                arrays.put(key, toTensor(key, a));
            }
        }
        return new Dataset(arrays, labels, cohorts, sha256Hex(bytes), source);
    }

    /** An in-memory dataset (tests, generated data); labels and cohorts may be null. */
    public static Dataset of(Map<String, TensorData> inputs, long[] labels, long[] cohorts) {
        Map<String, TensorData> named = new LinkedHashMap<>();
        inputs.forEach((k, v) -> named.put(k, v.withName(k)));
        return new Dataset(named, labels == null ? null : labels.clone(), cohorts == null ? null : cohorts.clone(),
                null, "in-memory dataset");
    }

    private static long[] idVector(String source, String key, NpyArray a) {
        long[] shape = a.shape();
        boolean vector = shape.length == 1 || (shape.length == 2 && shape[1] == 1);
        if (!vector) {
            throw new DatasetException(source + ": '" + key + "' must be a vector with one id per sample, found shape "
                    + Arrays.toString(shape));
        }
        if (a.dtype().isFloating() || a.dtype() == DType.BOOL) {
            throw new DatasetException(source + ": '" + key + "' must hold integer ids (int64), found dtype "
                    + a.dtype().name().toLowerCase());
        }
        return a.toLongs();
    }

    private static TensorData toTensor(String key, NpyArray a) {
        long[] shape = a.shape();
        ByteBuffer b = a.bytes().order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(a.elementCount());
        switch (a.dtype()) {
            case FLOAT32 -> {
                float[] v = new float[n];
                b.asFloatBuffer().get(v);
                return TensorData.ofFloats(key, shape, v);
            }
            case FLOAT16 -> {
                return TensorData.ofFloat16(key, shape, a.toFloats());
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                b.asDoubleBuffer().get(v);
                return TensorData.ofDoubles(key, shape, v);
            }
            case INT64 -> {
                long[] v = new long[n];
                b.asLongBuffer().get(v);
                return TensorData.ofInt64(key, shape, v);
            }
            case INT32 -> {
                int[] v = new int[n];
                b.asIntBuffer().get(v);
                return TensorData.ofInts(key, ElemType.INT32, shape, v);
            }
            case INT16, INT8, UINT8, BOOL -> {
                long[] wide = a.toLongs();
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (int) wide[i];
                }
                ElemType t = switch (a.dtype()) {
                    case INT16 -> ElemType.INT16;
                    case INT8 -> ElemType.INT8;
                    case UINT8 -> ElemType.UINT8;
                    default -> ElemType.BOOL;
                };
                return TensorData.ofInts(key, t, shape, v);
            }
            default -> throw new DatasetException("array '" + key + "' has unsupported dtype " + a.dtype());
        }
    }

    // ---------------------------------------------------------------- accessors

    public int size() {
        return size;
    }

    /** Names of the input arrays (labels and cohort excluded), in file order. */
    public Set<String> inputNames() {
        return arrays.keySet();
    }

    /** The whole array for one input, samples along axis 0. */
    public TensorData input(String name) {
        TensorData t = arrays.get(name);
        if (t == null) {
            throw new DatasetException(source + ": no array named '" + name + "' (have " + arrays.keySet() + ")");
        }
        return t;
    }

    public boolean hasLabels() {
        return labels != null;
    }

    public Optional<long[]> labels() {
        return Optional.ofNullable(labels == null ? null : labels.clone());
    }

    public long label(int sample) {
        if (labels == null) {
            throw new IllegalStateException(source + " has no labels");
        }
        return labels[sample];
    }

    public boolean hasCohorts() {
        return cohorts != null;
    }

    public Optional<long[]> cohorts() {
        return Optional.ofNullable(cohorts == null ? null : cohorts.clone());
    }

    public long cohort(int sample) {
        if (cohorts == null) {
            throw new IllegalStateException(source + " has no cohort ids");
        }
        return cohorts[sample];
    }

    /** Sample count per cohort id, ascending by id; empty without cohorts. */
    public SortedMap<Long, Integer> cohortSizes() {
        SortedMap<Long, Integer> out = new TreeMap<>();
        if (cohorts != null) {
            for (long c : cohorts) {
                out.merge(c, 1, Integer::sum);
            }
        }
        return out;
    }

    /** sha256 of the file bytes, or of a canonical encoding of the content for in-memory datasets. */
    public String sha256() {
        return sha256;
    }

    /** Where the data came from (file name), for messages. */
    public String source() {
        return source;
    }

    /** The first {@code n} samples (all if {@code n >= size()}). */
    public Dataset head(int n) {
        if (n >= size) {
            return this;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("head(" + n + ")");
        }
        Map<String, TensorData> cut = new LinkedHashMap<>();
        arrays.forEach((k, v) -> cut.put(k, v.sliceRows(0, n)));
        return new Dataset(cut, labels == null ? null : Arrays.copyOf(labels, n),
                cohorts == null ? null : Arrays.copyOf(cohorts, n), null, source + "[:" + n + "]");
    }

    /**
     * The given samples, in the order given, with their labels and cohort ids; {@code tag} names the subset in
     * messages (e.g. "fit", "check").
     */
    public Dataset select(int[] rows, String tag) {
        if (rows.length == 0) {
            throw new IllegalArgumentException(source + ": an empty selection is not a dataset");
        }
        Map<String, TensorData> cut = new LinkedHashMap<>();
        arrays.forEach((k, v) -> cut.put(k, v.selectRows(rows)));
        long[] l = labels == null ? null : new long[rows.length];
        long[] c = cohorts == null ? null : new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            if (l != null) {
                l[i] = labels[rows[i]];
            }
            if (c != null) {
                c[i] = cohorts[rows[i]];
            }
        }
        return new Dataset(cut, l, c, null, source + "[" + tag + "]");
    }

    // ---------------------------------------------------------------- fit to a model

    /**
     * Checks that this dataset can feed the model: an array for every model input, the same dtype, and a shape that
     * matches the input's static dimensions. An array either has the input's rank (axis 0 = the model's batch axis)
     * or one more (the model takes a single sample without a batch axis).
     *
     * @return warnings that do not stop the work (arrays the model does not use)
     * @throws DatasetException naming the key, what was expected and what was found
     */
    public List<String> validateFor(OnnxModel model) {
        List<String> warnings = new ArrayList<>();
        List<ValueInfo> inputs = model.inputs();
        for (ValueInfo in : inputs) {
            TensorData a = arrays.get(in.name());
            if (a == null) {
                throw new DatasetException(source + ": missing array '" + in.name() + "' for model input '" + in.name()
                        + "' (" + in.describe() + "); found arrays " + arrays.keySet());
            }
            if (in.type() != a.type()) {
                throw new DatasetException(source + ": array '" + in.name() + "' has dtype " + a.type().displayName()
                        + " but model input '" + in.name() + "' expects " + in.type().displayName()
                        + (in.type() == ElemType.FLOAT && a.type() == ElemType.DOUBLE ? " (save it with .astype(np.float32))"
                                : ""));
            }
            if (!in.hasShape()) {
                continue; // rank unknown: ONNX Runtime checks at run time
            }
            int rank = in.rank();
            long[] arrayShape = a.shape();
            long[] sampleShape;
            if (arrayShape.length == rank) {
                sampleShape = Arrays.copyOfRange(arrayShape, 1, arrayShape.length);
                long batch = in.dims().get(0).value();
                if (batch > 1 && size % batch != 0) {
                    throw new DatasetException(source + ": model input '" + in.name() + "' has a fixed batch of " + batch
                            + " but the dataset has " + size + " samples, not a multiple of it");
                }
                checkDims(in, a, in.dims().subList(1, rank), sampleShape);
            } else if (arrayShape.length == rank + 1 && (rank == 0 || in.dims().get(0).isStatic())) {
                // The model takes one sample without a batch axis (or with a fixed batch of its own).
                sampleShape = Arrays.copyOfRange(arrayShape, 1, arrayShape.length);
                checkDims(in, a, in.dims(), sampleShape);
            } else {
                throw new DatasetException(source + ": array '" + in.name() + "' has shape " + Arrays.toString(arrayShape)
                        + " (rank " + arrayShape.length + ") but model input '" + in.name() + "' is " + in.describe()
                        + "; expected rank " + rank + " with samples along axis 0");
            }
        }
        for (String key : arrays.keySet()) {
            if (inputs.stream().noneMatch(v -> v.name().equals(key))) {
                warnings.add(source + ": array '" + key + "' matches no model input and is ignored");
            }
        }
        return warnings;
    }

    private void checkDims(ValueInfo in, TensorData a, List<ValueInfo.Dim> expected, long[] found) {
        for (int i = 0; i < expected.size(); i++) {
            ValueInfo.Dim d = expected.get(i);
            if (d.isStatic() && d.value() != found[i]) {
                throw new DatasetException(source + ": array '" + in.name() + "' has shape " + Arrays.toString(a.shape())
                        + " but model input '" + in.name() + "' is " + in.describe() + " (axis " + (i + 1)
                        + " of the array must be " + d.value() + ", found " + found[i] + ")");
            }
        }
    }

    /**
     * How many samples one session run may take for this model: 1 when an input has a fixed batch of 1 or no batch
     * axis, the fixed batch when there is one, otherwise {@code preferred}.
     */
    public int batchLimit(OnnxModel model, int preferred) {
        int limit = Math.max(1, preferred);
        for (ValueInfo in : model.inputs()) {
            TensorData a = arrays.get(in.name());
            if (a == null || !in.hasShape()) {
                continue;
            }
            if (a.rank() == in.rank() + 1) {
                return 1; // no batch axis in the model: one sample per run
            }
            if (in.rank() > 0 && in.dims().get(0).isStatic()) {
                return (int) in.dims().get(0).value();
            }
        }
        return limit;
    }

    /** The tensors for samples {@code [from, to)} shaped for the model's inputs. */
    public Map<String, TensorData> feeds(OnnxModel model, int from, int to) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (ValueInfo in : model.inputs()) {
            TensorData a = input(in.name());
            TensorData rows = a.sliceRows(from, to);
            if (in.hasShape() && a.rank() == in.rank() + 1) {
                if (to - from != 1) {
                    throw new IllegalArgumentException("input '" + in.name() + "' has no batch axis; feed one sample at a time");
                }
                long[] shape = rows.shape();
                rows = rows.reshape(Arrays.copyOfRange(shape, 1, shape.length));
            }
            out.put(in.name(), rows);
        }
        return out;
    }

    private String contentHash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (TensorData t : arrays.values()) {
                md.update(t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(t.type().displayName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(Arrays.toString(t.shape()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(io.edgefleet.engine.onnx.Tensors.rawBytes(t));
            }
            for (long[] ids : new long[][] {labels, cohorts}) {
                ByteBuffer b = ByteBuffer.allocate(8 * (ids == null ? 0 : ids.length) + 1).order(ByteOrder.LITTLE_ENDIAN);
                b.put((byte) (ids == null ? 0 : 1));
                if (ids != null) {
                    for (long v : ids) {
                        b.putLong(v);
                    }
                }
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "Dataset[" + source + ", " + size + " samples, arrays " + arrays.keySet()
                + (labels != null ? ", labels" : "") + (cohorts != null ? ", cohort" : "") + "]";
    }
}
