package io.edgefleet.agent.inference;

import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.NpyFormatException;
import io.edgefleet.protocol.data.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The {@code .npz} files of an input folder, read once: one archive per file, arrays keyed by model
 * input name, first axis = sample. The agent cycles through all samples of all files in name order.
 */
public final class NpzDataset {
    /** The array of a labelled {@code .npz} that holds each sample's class (as the engine's datasets name it). */
    public static final String LABELS = "labels";

    /** Bound on the total bytes read from the folder, so a huge folder cannot exhaust the heap. */
    public static final long MAX_TOTAL_BYTES = 512L * 1024 * 1024;

    /** One archive: its arrays and its sample count (the shortest first axis among them). */
    public record Part(String file, Map<String, NpyArray> arrays, int samples) {
    }

    private final Path folder;
    private final List<Part> parts;
    private final int samples;

    private NpzDataset(Path folder, List<Part> parts) {
        this.folder = folder;
        this.parts = List.copyOf(parts);
        this.samples = parts.stream().mapToInt(Part::samples).sum();
    }

    /** Reads every {@code *.npz} in the folder; fails with the file and reason when one is unreadable. */
    public static NpzDataset load(Path folder) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".npz") && Files.isRegularFile(p)).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new NpyFormatException("input folder " + folder + " contains no .npz files");
        }
        List<Part> parts = new ArrayList<>();
        long budget = MAX_TOTAL_BYTES;
        for (Path f : files) {
            Map<String, NpyArray> arrays = Npz.read(f, budget);
            int n = Integer.MAX_VALUE;
            for (NpyArray a : arrays.values()) {
                budget -= a.elementCount() * a.dtype().size();
                if (a.rank() == 0) {
                    throw new NpyFormatException(f.getFileName() + ": array has no sample axis (scalar)");
                }
                n = Math.min(n, a.sampleCount());
            }
            if (n > 0) {
                parts.add(new Part(f.getFileName().toString(), arrays, n));
            }
        }
        if (parts.isEmpty()) {
            throw new NpyFormatException("input folder " + folder + " has .npz files but no samples in them");
        }
        return new NpzDataset(folder, parts);
    }

    public Path folder() {
        return folder;
    }

    public List<Part> parts() {
        return parts;
    }

    public int sampleCount() {
        return samples;
    }

    /** Sample {@code index} (modulo the sample count) as batch-of-one arrays, keyed like the files. */
    public Map<String, NpyArray> sample(long index) {
        long i = Math.floorMod(index, (long) samples);
        for (Part p : parts) {
            if (i < p.samples()) {
                int at = (int) i;
                Map<String, NpyArray> out = new java.util.LinkedHashMap<>();
                p.arrays().forEach((k, a) -> out.put(k, a.slice(at, at + 1)));
                return out;
            }
            i -= p.samples();
        }
        throw new IllegalStateException("unreachable");
    }

    /**
     * The class of every sample in feeding order (from each file's {@code labels} array, one integer per sample),
     * or null when a file has no usable labels.
     */
    public long[] labels() {
        long[] out = new long[samples];
        int at = 0;
        for (Part p : parts) {
            NpyArray l = p.arrays().get(LABELS);
            if (l == null || l.dtype().isFloating() || l.elementCount() != l.sampleCount()) {
                return null;
            }
            long[] v = l.toLongs();
            System.arraycopy(v, 0, out, at, p.samples());
            at += p.samples();
        }
        return out;
    }

    /** Whether every part has an array for each of these names. */
    public List<String> missing(Iterable<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (parts.stream().anyMatch(p -> !p.arrays().containsKey(n))) {
                out.add(n);
            }
        }
        return out;
    }
}
