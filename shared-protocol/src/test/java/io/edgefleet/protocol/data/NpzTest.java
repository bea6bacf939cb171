package io.edgefleet.protocol.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {
    @TempDir
    Path dir;

    private static Map<String, NpyArray> sample() {
        float[] x = new float[3 * 2 * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.5f - 1;
        }
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("input", NpyArray.ofFloats(x, 3, 2, 2));
        m.put("labels", NpyArray.ofLongs(new long[] {7, 1, 3}, 3));
        return m;
    }

    @Test
    void writesAndReadsBack() throws IOException {
        Path f = dir.resolve("d.npz");
        Npz.write(f, sample());
        Map<String, NpyArray> back = Npz.read(f);
        assertEquals(2, back.size());
        assertArrayEquals(new long[] {3, 2, 2}, back.get("input").shape());
        assertArrayEquals(sample().get("input").toFloats(), back.get("input").toFloats());
        assertArrayEquals(new long[] {7, 1, 3}, back.get("labels").toLongs());
        assertEquals(3, back.get("input").sampleCount());
        assertArrayEquals(new long[] {2, 2}, back.get("input").sampleShape());
        NpyArray s = back.get("input").slice(1, 3);
        assertArrayEquals(Arrays.copyOfRange(sample().get("input").toFloats(), 4, 12), s.toFloats());
    }

    @Test
    void readsDeflatedArchivesAsSavezCompressedWrites() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setMethod(ZipOutputStream.DEFLATED);
            zip.putNextEntry(new ZipEntry("labels.npy"));
            Npz.writeNpy(zip, NpyArray.ofLongs(new long[] {4, 5}, 2));
            zip.closeEntry();
        }
        Map<String, NpyArray> m = Npz.read(new ByteArrayInputStream(bytes.toByteArray()), Npz.DEFAULT_MAX_BYTES, "mem");
        assertArrayEquals(new long[] {4, 5}, m.get("labels").toLongs());
    }

    @Test
    void readsTheRealFixturesWhenPresent() throws IOException {
        Path f = Path.of("../../shared/fixtures/digits/digits-mlp-validation.npz");
        assumeTrue(Files.exists(f), "fixtures not present");
        Map<String, NpyArray> m = Npz.read(f);
        assertArrayEquals(new long[] {540, 1, 8, 8}, m.get("input").shape());
        assertEquals(DType.INT64, m.get("labels").dtype());
        assertEquals(540, m.get("cohort").sampleCount());
        long[] labels = m.get("labels").toLongs();
        assertTrue(Arrays.stream(labels).allMatch(l -> l >= 0 && l < 10));
    }

    @Test
    void halfFloatsAndBigEndianAreConverted() throws IOException {
        // float16 1.0 = 0x3c00, -2.0 = 0xc000, smallest subnormal = 0x0001
        byte[] npy = npy("<f2", "(3,)", new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0, 0x01, 0x00});
        NpyArray a = Npz.readNpy(new ByteArrayInputStream(npy), 1 << 20);
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f}, a.toFloats());
        byte[] be = npy(">i4", "(2,)", new byte[] {0, 0, 1, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe});
        assertArrayEquals(new long[] {256, -2}, Npz.readNpy(new ByteArrayInputStream(be), 1 << 20).toLongs());
    }

    @Test
    void badInputGetsAClearError() throws IOException {
        Path notZip = dir.resolve("x.npz");
        Files.writeString(notZip, "hello, not a zip at all");
        assertTrue(assertThrows(NpyFormatException.class, () -> Npz.read(notZip)).getMessage().contains("x.npz"));

        Path good = dir.resolve("g.npz");
        Npz.write(good, sample());
        byte[] all = Files.readAllBytes(good);
        Path truncated = dir.resolve("t.npz");
        Files.write(truncated, Arrays.copyOf(all, all.length / 2));
        assertThrows(NpyFormatException.class, () -> Npz.read(truncated));

        NpyFormatException big = assertThrows(NpyFormatException.class,
                () -> Npz.readNpy(new ByteArrayInputStream(npy("<f4", "(100000, 100000)", new byte[0])), 1 << 20));
        assertTrue(big.getMessage().contains("exceeds"));
        NpyFormatException fortran = assertThrows(NpyFormatException.class, () -> Npz.readNpy(new ByteArrayInputStream(
                npyHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }")), 1 << 20));
        assertTrue(fortran.getMessage().contains("Fortran"));
        assertThrows(NpyFormatException.class,
                () -> Npz.readNpy(new ByteArrayInputStream(npy("<c8", "(1,)", new byte[8])), 1 << 20));
        assertThrows(NpyFormatException.class,
                () -> Npz.readNpy(new ByteArrayInputStream("NOTNPY....".getBytes(StandardCharsets.US_ASCII)), 1 << 20));
        assertThrows(NpyFormatException.class, () -> NpyArray.ofFloats(new float[] {1, 2}, 2).toLongs());
        assertThrows(NpyFormatException.class, () -> Npz.read(dir.resolve("missing.npz")));
    }

    private static byte[] npy(String descr, String shape, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(npyHeader("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"));
        out.write(data);
        return out.toByteArray();
    }

    private static byte[] npyHeader(String dict) {
        byte[] h = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[10 + h.length];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
        System.arraycopy(magic, 0, out, 0, 8);
        out[8] = (byte) (h.length & 0xff);
        out[9] = (byte) (h.length >>> 8);
        System.arraycopy(h, 0, out, 10, h.length);
        return out;
    }
}
