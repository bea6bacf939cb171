package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.Topics;

/**
 * Who may use which topic (promise 6), independent of any broker: a device publishes only its own
 * status, events, telemetry, benchmark reports and opt-in captures, and subscribes only to its own command and ack topics and to its class's
 * artifacts. The embedded broker enforces this directly; for Mosquitto the same rules are
 * rendered into an ACL file.
 */
public final class DeviceTopicPolicy {
    private DeviceTopicPolicy() {
    }

    public static boolean canPublish(String deviceId, String topic) {
        if (!Topics.isId(deviceId) || topic == null) {
            return false;
        }
        return topic.equals(Topics.status(deviceId))
                || topic.equals(Topics.events(deviceId))
                || topic.equals(Topics.telemetry(deviceId))
                || topic.equals(Topics.benchmark(deviceId))
                || topic.equals(Topics.capture(deviceId));
    }

    /**
     * @param filter the topic filter without any {@code $share/group/} prefix
     */
    public static boolean canSubscribe(String deviceId, String classId, String filter) {
        if (!Topics.isId(deviceId) || filter == null) {
            return false;
        }
        if (filter.equals(Topics.cmd(deviceId)) || filter.equals(Topics.ack(deviceId))) {
            return true;
        }
        if (classId == null || !Topics.isId(classId)) {
            return false;
        }
        // Wildcards are fine below the class's artifact root, never in or above it.
        String root = artifactsRoot(classId);
        return filter.startsWith(root + "/") && filter.length() > root.length() + 1;
    }

    public static String artifactsRoot(String classId) {
        return Topics.ROOT + "/classes/" + Topics.requireId(classId, "classId") + "/artifacts";
    }

    public static String artifactsFilter(String classId) {
        return artifactsRoot(classId) + "/#";
    }

    /** Strips an MQTT 5 shared-subscription prefix ({@code $share/group/filter}). */
    public static String withoutSharePrefix(String filter) {
        if (filter != null && filter.startsWith("$share/")) {
            int slash = filter.indexOf('/', "$share/".length());
            return slash < 0 ? "" : filter.substring(slash + 1);
        }
        return filter;
    }
}
