package io.edgefleet.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Copies ONNX Runtime's native libraries out of the agent's jar into a folder, once, so that the agent can load them
 * from there ({@code -Donnxruntime.native.path=DIR}) instead of ONNX Runtime extracting about 28 MiB into the temporary
 * folder at every start. The launcher ({@code deploy/systemd/edgefleet-agent.sh}) runs it when the folder is missing
 * or older than the jar: {@code java -cp edge-agent.jar io.edgefleet.agent.NativeLibraries DIR}. Each file is written
 * beside its final name and renamed over it, so a cut copy never leaves a half library behind.
 * Exit codes: 0 copied, 1 failed (the message says why; the agent then extracts as before), 2 bad usage.
 */
public final class NativeLibraries {
    private NativeLibraries() {
    }

    /** ONNX Runtime's resource folder for this platform, as its jar lays it out ({@code ai/onnxruntime/native/linux-x64}). */
    static String platformFolder(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("windows") ? "win" : null;
        String a = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        if (o == null || a == null) {
            throw new IllegalArgumentException("no ONNX Runtime native libraries for " + osName + " / " + osArch);
        }
        return "ai/onnxruntime/native/" + o + "-" + a;
    }

    /** Copies the platform's libraries into {@code dir}; returns the files written. */
    static List<Path> extract(Path dir, String folder, ClassLoader from) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new java.util.ArrayList<>();
        for (String lib : List.of(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"))) {
            try (InputStream in = from.getResourceAsStream(folder + "/" + lib)) {
                if (in == null) {
                    throw new IOException(folder + "/" + lib + " is not in the agent's jar");
                }
                Path tmp = dir.resolve(lib + ".part");
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Path target = dir.resolve(lib);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                written.add(target);
            }
        }
        return written;
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java -cp edge-agent.jar io.edgefleet.agent.NativeLibraries DIR");
            System.exit(2);
        }
        try {
            extract(Path.of(args[0]), platformFolder(System.getProperty("os.name"), System.getProperty("os.arch")),
                    NativeLibraries.class.getClassLoader());
        } catch (IOException | RuntimeException e) {
            System.err.println("edgefleet-agent: cannot copy ONNX Runtime's native libraries to " + args[0] + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
