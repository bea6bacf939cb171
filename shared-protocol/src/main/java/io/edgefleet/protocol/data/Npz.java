package io.edgefleet.protocol.data;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npy} arrays and {@code .npz} archives (stored or deflated, as written by
 * {@code np.savez} and {@code np.savez_compressed}). Untrusted input: every size is checked against the
 * header and against a caller-set bound before anything is allocated.
 */
public final class Npz {
    /** Default bound on the total uncompressed bytes of one archive. */
    public static final long DEFAULT_MAX_BYTES = 2L * 1024 * 1024 * 1024 - 64;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npz() {
    }

    public static Map<String, NpyArray> read(Path file) throws IOException {
        return read(file, DEFAULT_MAX_BYTES);
    }

    public static Map<String, NpyArray> read(Path file, long maxBytes) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NpyFormatException(file + " is not a readable file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, maxBytes, file.getFileName().toString());
        }
    }

    /** Reads an archive from a stream; {@code source} names it in error messages. */
    public static Map<String, NpyArray> read(InputStream in, long maxBytes, String source) throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        long total = 0;
        try (ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = nextEntry(zip, source)) != null) {
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName();
                if (!name.endsWith(".npy")) {
                    throw new NpyFormatException(source + ": entry '" + name + "' is not a .npy array");
                }
                String key = name.substring(0, name.length() - 4);
                NpyArray a;
                try {
                    a = readNpy(zip, maxBytes - total);
                } catch (NpyFormatException ex) {
                    throw new NpyFormatException(source + ": array '" + key + "': " + ex.getMessage(), ex);
                }
                total += a.elementCount() * a.dtype().size();
                if (arrays.put(key, a) != null) {
                    throw new NpyFormatException(source + ": array '" + key + "' appears twice");
                }
            }
        } catch (ZipException ex) {
            throw new NpyFormatException(source + " is not a valid .npz (zip) archive: " + ex.getMessage(), ex);
        } catch (EOFException ex) {
            throw new NpyFormatException(source + " is truncated", ex);
        }
        if (arrays.isEmpty()) {
            throw new NpyFormatException(source + " contains no arrays (is it an .npz file?)");
        }
        return arrays;
    }

    /**
     * The next zip entry. The JDK reports an entry name that is not valid UTF-8 with an
     * {@link IllegalArgumentException} (found by fuzzing, seed {@code ProtocolFuzzTestInputs/npz/crash-52a1...}):
     * that is a malformed archive like any other, not a programming error.
     */
    private static ZipEntry nextEntry(ZipInputStream zip, String source) throws IOException {
        try {
            return zip.getNextEntry();
        } catch (IllegalArgumentException ex) {
            throw new NpyFormatException(source + " is not a valid .npz (zip) archive: an entry name is not valid UTF-8", ex);
        }
    }

    /** Reads one .npy array from the stream, allocating at most {@code maxBytes} for its data. */
    public static NpyArray readNpy(InputStream raw, long maxBytes) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        byte[] magic = new byte[6];
        in.readFully(magic);
        for (int i = 0; i < MAGIC.length; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new NpyFormatException("not a .npy array (bad magic)");
            }
        }
        int major = in.readUnsignedByte();
        in.readUnsignedByte();
        long headerLen;
        if (major == 1) {
            headerLen = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
        } else if (major == 2 || major == 3) {
            headerLen = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
        } else {
            throw new NpyFormatException("unsupported .npy format version " + major);
        }
        if (headerLen > 1 << 20) {
            throw new NpyFormatException("header of " + headerLen + " bytes is implausibly large");
        }
        byte[] hb = new byte[(int) headerLen];
        in.readFully(hb);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        DType.Parsed dtype = DType.parse(group(DESCR, header, "descr"));
        if (group(FORTRAN, header, "fortran_order").equals("True")) {
            throw new NpyFormatException("Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        }
        long[] shape = parseShape(group(SHAPE, header, "shape"));
        long bytes;
        try {
            bytes = Math.multiplyExact(NpyArray.elementCount(shape), dtype.type().size());
        } catch (ArithmeticException ex) {
            throw new NpyFormatException("shape overflows: " + group(SHAPE, header, "shape"));
        }
        if (bytes > maxBytes || bytes > Integer.MAX_VALUE - 8) {
            throw new NpyFormatException("array of " + bytes + " bytes exceeds the limit of " + Math.min(maxBytes, Integer.MAX_VALUE - 8));
        }
        byte[] data = new byte[(int) bytes];
        try {
            in.readFully(data);
        } catch (EOFException ex) {
            throw new NpyFormatException("array data is truncated (header promises " + bytes + " bytes)", ex);
        }
        if (dtype.swap()) {
            swapInPlace(data, dtype.type().size());
        }
        return new NpyArray(dtype.type(), shape, ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN));
    }

    public static void write(Path file, Map<String, NpyArray> arrays) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            write(out, arrays);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes an uncompressed archive, the layout {@code np.savez} produces. */
    public static void write(OutputStream out, Map<String, NpyArray> arrays) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
            writeNpy(zip, e.getValue());
            zip.closeEntry();
        }
        zip.finish();
    }

    public static void writeNpy(OutputStream out, NpyArray a) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        long[] s = a.shape();
        for (int i = 0; i < s.length; i++) {
            shape.append(s[i]).append(s.length == 1 ? "," : (i < s.length - 1 ? ", " : ""));
        }
        shape.append(')');
        String dict = "{'descr': '" + a.dtype().descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        // pad so that magic + version + len + header is a multiple of 64, ending in '\n'
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(MAGIC);
        head.write(1);
        head.write(0);
        int len = header.length();
        head.write(len & 0xff);
        head.write((len >>> 8) & 0xff);
        head.write(header.getBytes(StandardCharsets.ISO_8859_1));
        out.write(head.toByteArray());
        ByteBuffer b = a.bytes();
        byte[] data = new byte[b.remaining()];
        b.get(data);
        out.write(data);
    }

    private static String group(Pattern p, String header, String field) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new NpyFormatException("header has no '" + field + "' entry: " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String s) {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (t.endsWith("L")) {
                t = t.substring(0, t.length() - 1);
            }
            try {
                long d = Long.parseLong(t);
                if (d < 0) {
                    throw new NpyFormatException("negative dimension in shape (" + s + ")");
                }
                dims.add(d);
            } catch (NumberFormatException ex) {
                throw new NpyFormatException("bad shape (" + s + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static void swapInPlace(byte[] data, int size) {
        for (int i = 0; i < data.length; i += size) {
            for (int j = 0; j < size / 2; j++) {
                byte t = data[i + j];
                data[i + j] = data[i + size - 1 - j];
                data[i + size - 1 - j] = t;
            }
        }
    }
}
