package io.edgefleet.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.protocol.data.DType;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path dir;

    private Path npz(Map<String, NpyArray> arrays) throws Exception {
        Path file = Files.createTempFile(dir, "data", ".npz");
        Npz.write(file, arrays);
        return file;
    }

    private static NpyArray floats(long... shape) {
        int n = (int) TensorData.countOf(shape);
        return NpyArray.ofFloats(OnnxBuilder.randomUniform(n, n, 0, 1), shape);
    }

    private static NpyArray doubles(long... shape) {
        int n = (int) TensorData.countOf(shape);
        ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        return new NpyArray(DType.FLOAT64, shape, b);
    }

    private static NpyArray ids(long... values) {
        return NpyArray.ofLongs(values, values.length);
    }

    private DatasetException refuse(Map<String, NpyArray> arrays, OnnxModel model) throws Exception {
        Path file = npz(arrays);
        return assertThrows(DatasetException.class, () -> Dataset.fromNpz(file).validateFor(model));
    }

    @Test
    void readsInputsLabelsAndCohorts() throws Exception {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        a.put("x", floats(5, 64));
        a.put("labels", ids(0, 1, 2, 3, 4));
        a.put("cohort", ids(1, 1, 2, 2, 2));
        Path file = npz(a);
        Dataset d = Dataset.fromNpz(file);
        assertEquals(5, d.size());
        assertEquals(List.of("x"), List.copyOf(d.inputNames()));
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, d.labels().orElseThrow());
        assertEquals(Map.of(1L, 2, 2L, 3), d.cohortSizes());
        assertEquals(io.edgefleet.engine.onnx.OnnxModel.sha256Hex(Files.readAllBytes(file)), d.sha256());
        assertEquals(List.of(), d.validateFor(SampleModels.mlp(1)));
        assertArrayEquals(new long[] {2, 64}, d.feeds(SampleModels.mlp(1), 1, 3).get("x").shape());
        assertEquals(3, d.head(3).size());
        assertEquals(2L, d.head(3).cohort(2));
    }

    @Test
    void missingKeyNamesTheInputAndWhatWasFound() throws Exception {
        DatasetException e = refuse(Map.of("input", floats(3, 64)), SampleModels.mlp(1));
        assertTrue(e.getMessage().contains("missing array 'x'") && e.getMessage().contains("float32[N,64]")
                && e.getMessage().contains("[input]"), e.getMessage());
    }

    @Test
    void wrongDtypeSaysExpectedAndFound() throws Exception {
        DatasetException e = refuse(Map.of("x", doubles(3, 64)), SampleModels.mlp(1));
        assertTrue(e.getMessage().contains("float64") && e.getMessage().contains("expects float32")
                && e.getMessage().contains("astype"), e.getMessage());
    }

    @Test
    void wrongShapeOrRank() throws Exception {
        DatasetException dim = refuse(Map.of("x", floats(3, 63)), SampleModels.mlp(1));
        assertTrue(dim.getMessage().contains("[3, 63]") && dim.getMessage().contains("must be 64"),
                dim.getMessage());
        DatasetException rank = refuse(Map.of("x", floats(3, 8, 8)), SampleModels.mlp(1));
        assertTrue(rank.getMessage().contains("rank 3") && rank.getMessage().contains("expected rank 2"),
                rank.getMessage());
        DatasetException cnn = refuse(Map.of("x", floats(2, 3, 8, 8)), SampleModels.cnn(1));
        assertTrue(cnn.getMessage().contains("must be 1, found 3"), cnn.getMessage());
    }

    @Test
    void sampleCountsMustAgree() throws Exception {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        a.put("x", floats(4, 64));
        a.put("labels", ids(0, 1, 2));
        Path file = npz(a);
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.fromNpz(file));
        assertTrue(e.getMessage().contains("'labels' has 3 entries") && e.getMessage().contains("4 samples"),
                e.getMessage());

        Map<String, NpyArray> two = new LinkedHashMap<>();
        two.put("a", floats(4, 2));
        two.put("b", floats(5, 2));
        Path file2 = npz(two);
        DatasetException e2 = assertThrows(DatasetException.class, () -> Dataset.fromNpz(file2));
        assertTrue(e2.getMessage().contains("'b' has 5 samples but 'a' has 4"), e2.getMessage());
    }

    @Test
    void emptyCalibrationSetIsRefused() throws Exception {
        Path file = npz(Map.of("x", NpyArray.ofFloats(new float[0], 0, 64)));
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.fromNpz(file));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void labelsMustBeIntegerVectors() throws Exception {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        a.put("x", floats(2, 64));
        a.put("labels", NpyArray.ofFloats(new float[] {0, 1}, 2));
        Path file = npz(a);
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.fromNpz(file));
        assertTrue(e.getMessage().contains("'labels' must hold integer ids"), e.getMessage());

        a.put("labels", NpyArray.ofLongs(new long[] {0, 1, 2, 3}, 2, 2));
        Path file2 = npz(a);
        assertThrows(DatasetException.class, () -> Dataset.fromNpz(file2));

        a.put("labels", ids(0, -1));
        Path file3 = npz(a);
        DatasetException neg = assertThrows(DatasetException.class, () -> Dataset.fromNpz(file3));
        assertTrue(neg.getMessage().contains(">= 0"), neg.getMessage());
    }

    @Test
    void notAnNpzOrMissing() throws Exception {
        Path junk = dir.resolve("junk.npz");
        Files.writeString(junk, "definitely not a zip");
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.fromNpz(junk));
        assertTrue(e.getMessage().contains("junk.npz"), e.getMessage());
        DatasetException missing = assertThrows(DatasetException.class,
                () -> Dataset.fromNpz(dir.resolve("absent.npz")));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
        byte[] good = Files.readAllBytes(npz(Map.of("x", floats(10, 64))));
        byte[] cut = java.util.Arrays.copyOf(good, good.length / 2);
        assertThrows(DatasetException.class, () -> Dataset.fromNpz(cut, "cut.npz"));
    }

    @Test
    void extraArraysAreReportedNotFatal() throws Exception {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        a.put("x", floats(2, 64));
        a.put("notes", floats(2, 1));
        List<String> warnings = Dataset.fromNpz(npz(a)).validateFor(SampleModels.mlp(1));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("'notes'"), warnings.get(0));
    }

    @Test
    void batchLimitsFollowTheModelInputs() {
        Dataset d = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {6, 4},
                new float[24])), null, null);
        OnnxModel symbolic = OnnxBuilder.model("s").input("x", ElemType.FLOAT, "N", 4)
                .output("y", ElemType.FLOAT, "N", 4).node("Relu").in("x").out("y").add().build();
        OnnxModel fixedOne = OnnxBuilder.model("f").input("x", ElemType.FLOAT, 1, 4)
                .output("y", ElemType.FLOAT, 1, 4).node("Relu").in("x").out("y").add().build();
        OnnxModel fixedThree = OnnxBuilder.model("t").input("x", ElemType.FLOAT, 3, 4)
                .output("y", ElemType.FLOAT, 3, 4).node("Relu").in("x").out("y").add().build();
        OnnxModel unbatched = OnnxBuilder.model("u").input("x", ElemType.FLOAT, 4)
                .output("y", ElemType.FLOAT, 4).node("Relu").in("x").out("y").add().build();
        OnnxModel fixedFour = OnnxBuilder.model("q").input("x", ElemType.FLOAT, 4, 4)
                .output("y", ElemType.FLOAT, 4, 4).node("Relu").in("x").out("y").add().build();
        assertEquals(32, d.batchLimit(symbolic, 32));
        assertEquals(1, d.batchLimit(fixedOne, 32));
        assertEquals(3, d.batchLimit(fixedThree, 32));
        assertEquals(1, d.batchLimit(unbatched, 32));
        d.validateFor(unbatched);
        assertArrayEquals(new long[] {4}, d.feeds(unbatched, 2, 3).get("x").shape());
        DatasetException e = assertThrows(DatasetException.class, () -> d.validateFor(fixedFour));
        assertTrue(e.getMessage().contains("fixed batch of 4"), e.getMessage());
    }

    @Test
    void inMemoryHashesAreContentBased() {
        Dataset a = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {2, 1}, new float[] {1, 2})),
                new long[] {0, 1}, null);
        Dataset b = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {2, 1}, new float[] {1, 2})),
                new long[] {0, 1}, null);
        Dataset c = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {2, 1}, new float[] {1, 3})),
                new long[] {0, 1}, null);
        assertEquals(a.sha256(), b.sha256());
        assertNotEquals(a.sha256(), c.sha256());
    }

    @Test
    void digitsFixturesFitTheirModels() {
        Path base = io.edgefleet.engine.TestFixtures.digits();
        for (String name : List.of("digits-mlp", "digits-resnet")) {
            Path model = base.resolve(name + ".onnx");
            assumeTrue(Files.exists(model));
            OnnxModel m = OnnxModel.read(model);
            for (String split : List.of("calibration", "validation")) {
                Dataset d = Dataset.fromNpz(base.resolve(name + "-" + split + ".npz"));
                assertEquals(List.of(), d.validateFor(m), name + " " + split);
                assertTrue(d.size() > 0);
            }
        }
    }
}
