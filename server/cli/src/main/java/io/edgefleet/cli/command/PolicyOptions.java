package io.edgefleet.cli.command;

import static io.edgefleet.cli.command.RolloutsCommand.share;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliException;
import picocli.CommandLine.Option;

/** The wave-policy options of {@code rollouts create} and {@code rollouts fleet} (docs/cli.md), as one mixin. */
public class PolicyOptions {
    @Option(names = "--canary", paramLabel = "N|P%", description = "First wave: a device count or a percentage.")
    String canary;

    @Option(names = "--batch", paramLabel = "N|P%", description = "Following waves: a device count or a percentage.")
    String batch;

    @Option(names = "--soak", paramLabel = "SECONDS", description = "How long each wave runs before its gates are judged.")
    Long soak;

    @Option(names = "--min-committed", paramLabel = "PERCENT", description = "Success condition: committed share a wave needs.")
    Double minCommitted;

    @Option(names = "--abort-threshold", paramLabel = "PERCENT", description = "Halt when failures reach this share.")
    Double abortThreshold;

    @Option(names = "--target-timeout", paramLabel = "SECONDS", description = "A target unfinished this long times out.")
    Long targetTimeout;

    @Option(names = "--gate-max-error-rate", paramLabel = "RATE", description = "Telemetry gate: errors / inferences.")
    Double gateMaxErrorRate;

    @Option(names = "--gate-max-drift", paramLabel = "SCORE", description = "Telemetry gate: largest window drift score.")
    Double gateMaxDrift;

    @Option(names = "--all-at-once", description = "Every target at once: no waves, gates or halt rule "
            + "(policy {\"allAtOnce\":true}); not with the other policy options.")
    boolean allAtOnce;

    /** The policy the options ask for; empty when none was given (the server's default waves apply). */
    ObjectNode policy() {
        ObjectNode policy = ApiClient.JSON.createObjectNode();
        if (canary != null) {
            policy.set("canary", share(canary, "--canary", "count"));
        }
        if (batch != null) {
            policy.set("batches", share(batch, "--batch", "size"));
        }
        if (soak != null) {
            policy.put("soakSeconds", soak);
        }
        if (minCommitted != null) {
            policy.putObject("successCondition").put("minCommittedPercent", minCommitted);
        }
        if (abortThreshold != null) {
            policy.putObject("abort").put("thresholdPercentage", abortThreshold);
        }
        if (targetTimeout != null) {
            policy.put("targetTimeoutSeconds", targetTimeout);
        }
        if (gateMaxErrorRate != null || gateMaxDrift != null) {
            ObjectNode gates = policy.putObject("gates");
            if (gateMaxErrorRate != null) {
                gates.put("maxErrorRate", gateMaxErrorRate);
            }
            if (gateMaxDrift != null) {
                gates.put("maxDrift", gateMaxDrift);
            }
        }
        if (allAtOnce) {
            if (!policy.isEmpty()) {
                throw CliException.usage("--all-at-once cannot be combined with wave options (--canary, --batch, "
                        + "--soak, --min-committed, --abort-threshold, --target-timeout, --gate-*)");
            }
            policy.put("allAtOnce", true);
        }
        return policy;
    }
}
