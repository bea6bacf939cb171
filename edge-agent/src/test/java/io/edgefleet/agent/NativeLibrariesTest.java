package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-time copy of ONNX Runtime's native libraries that the launcher asks for. */
class NativeLibrariesTest {
    @TempDir
    Path dir;

    @Test
    void platformFoldersAreOnnxRuntimes() {
        assertEquals("ai/onnxruntime/native/linux-x64", NativeLibraries.platformFolder("Linux", "amd64"));
        assertEquals("ai/onnxruntime/native/linux-aarch64", NativeLibraries.platformFolder("Linux", "aarch64"));
        assertEquals("ai/onnxruntime/native/osx-aarch64", NativeLibraries.platformFolder("Mac OS X", "aarch64"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeLibraries.platformFolder("Linux", "riscv64"));
        assertTrue(e.getMessage().contains("Linux / riscv64"), e.getMessage());
    }

    @Test
    void copiesThisPlatformsLibrariesByteForByteAndReplacesAnOldCopy() throws Exception {
        String folder = NativeLibraries.platformFolder(System.getProperty("os.name"), System.getProperty("os.arch"));
        Path target = dir.resolve("native");
        Files.createDirectories(target);
        Files.writeString(target.resolve(System.mapLibraryName("onnxruntime")), "an older copy");
        List<Path> written = NativeLibraries.extract(target, folder, getClass().getClassLoader());
        assertEquals(2, written.size());
        for (Path p : written) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(folder + "/" + p.getFileName())) {
                assertArrayEquals(in.readAllBytes(), Files.readAllBytes(p), p.toString());
            }
        }
        try (var files = Files.list(target)) {
            assertEquals(2, files.count(), "no .part file is left");
        }
    }

    @Test
    void aFolderWithoutTheLibrariesIsAnError() {
        IOException e = assertThrows(IOException.class,
                () -> NativeLibraries.extract(dir, "ai/onnxruntime/native/none-x64", getClass().getClassLoader()));
        assertTrue(e.getMessage().contains("is not in the agent's jar"), e.getMessage());
    }
}
