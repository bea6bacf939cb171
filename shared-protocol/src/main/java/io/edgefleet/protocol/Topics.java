package io.edgefleet.protocol;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The v1 topic scheme. Every topic the project publishes or subscribes to is built here, so the
 * broker ACL, the server and the agents agree by construction.
 */
public final class Topics {
    public static final String ROOT = "edgefleet/v1";
    public static final String SHARED_GROUP = "edgefleet";

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Topics() {
    }

    /** The kinds of topic in protocol v1. */
    public enum Kind { STATUS, CMD, EVENTS, TELEMETRY, MANIFEST, CHUNK, ACK, BENCHMARK, CAPTURE }

    /** A parsed topic: device topics carry a device id, artifact topics a class id, sha256 and maybe a chunk index. */
    public record Parsed(Kind kind, String deviceId, String classId, String sha256, int chunkIndex) {
    }

    public static String status(String deviceId) {
        return device(deviceId) + "/status";
    }

    public static String cmd(String deviceId) {
        return device(deviceId) + "/cmd";
    }

    public static String events(String deviceId) {
        return device(deviceId) + "/events";
    }

    public static String telemetry(String deviceId) {
        return device(deviceId) + "/telemetry";
    }

    /** Agent to server: results of BENCHMARK commands ({@link BenchmarkReport}). */
    public static String benchmark(String deviceId) {
        return device(deviceId) + "/benchmark";
    }

    /** Agent to server: sampled raw inputs under the device's capture opt-in ({@link CaptureUpload}). */
    public static String capture(String deviceId) {
        return device(deviceId) + "/capture";
    }

    /** Server to agent: the cumulative telemetry acknowledgement ({@link TelemetryAck}). */
    public static String ack(String deviceId) {
        return device(deviceId) + "/ack";
    }

    public static String artifactRoot(String classId, String sha256) {
        requireId(classId, "classId");
        requireSha(sha256);
        return ROOT + "/classes/" + classId + "/artifacts/" + sha256;
    }

    public static String manifest(String classId, String sha256) {
        return artifactRoot(classId, sha256) + "/manifest";
    }

    public static String chunk(String classId, String sha256, int index) {
        if (index < 0) {
            throw new IllegalArgumentException("chunk index must be >= 0");
        }
        return artifactRoot(classId, sha256) + "/chunks/" + index;
    }

    /** Everything of one artifact: manifest and chunks. */
    public static String artifactFilter(String classId, String sha256) {
        return artifactRoot(classId, sha256) + "/#";
    }

    /** Filter over one device topic kind for all devices, e.g. {@code edgefleet/v1/devices/+/telemetry}. */
    public static String allDevices(Kind kind) {
        return switch (kind) {
            case STATUS -> ROOT + "/devices/+/status";
            case CMD -> ROOT + "/devices/+/cmd";
            case EVENTS -> ROOT + "/devices/+/events";
            case TELEMETRY -> ROOT + "/devices/+/telemetry";
            case ACK -> ROOT + "/devices/+/ack";
            case BENCHMARK -> ROOT + "/devices/+/benchmark";
            case CAPTURE -> ROOT + "/devices/+/capture";
            default -> throw new IllegalArgumentException(kind + " is not a device topic");
        };
    }

    /** MQTT 5 shared subscription, so several server replicas split the load. */
    public static String shared(String filter) {
        return "$share/" + SHARED_GROUP + "/" + filter;
    }

    /** Parses a concrete (non-wildcard) v1 topic, or empty when it is not one of ours. */
    public static Optional<Parsed> parse(String topic) {
        if (topic == null || !topic.startsWith(ROOT + "/")) {
            return Optional.empty();
        }
        String[] p = topic.substring(ROOT.length() + 1).split("/", -1);
        if (p.length == 3 && p[0].equals("devices") && isId(p[1])) {
            Kind kind = switch (p[2]) {
                case "status" -> Kind.STATUS;
                case "cmd" -> Kind.CMD;
                case "events" -> Kind.EVENTS;
                case "telemetry" -> Kind.TELEMETRY;
                case "ack" -> Kind.ACK;
                case "benchmark" -> Kind.BENCHMARK;
                case "capture" -> Kind.CAPTURE;
                default -> null;
            };
            return kind == null ? Optional.empty() : Optional.of(new Parsed(kind, p[1], null, null, -1));
        }
        if (p.length >= 5 && p[0].equals("classes") && isId(p[1]) && p[2].equals("artifacts") && isSha(p[3])) {
            if (p.length == 5 && p[4].equals("manifest")) {
                return Optional.of(new Parsed(Kind.MANIFEST, null, p[1], p[3], -1));
            }
            if (p.length == 6 && p[4].equals("chunks")) {
                try {
                    int index = Integer.parseInt(p[5]);
                    if (index >= 0) {
                        return Optional.of(new Parsed(Kind.CHUNK, null, p[1], p[3], index));
                    }
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    public static boolean isId(String s) {
        return s != null && ID.matcher(s).matches();
    }

    public static boolean isSha(String s) {
        return s != null && SHA256.matcher(s).matches();
    }

    public static String requireId(String s, String what) {
        if (!isId(s)) {
            throw new IllegalArgumentException(what + " must match " + ID.pattern() + ": " + s);
        }
        return s;
    }

    private static void requireSha(String s) {
        if (!isSha(s)) {
            throw new IllegalArgumentException("sha256 must be 64 lowercase hex digits: " + s);
        }
    }

    private static String device(String deviceId) {
        return ROOT + "/devices/" + requireId(deviceId, "deviceId");
    }
}
