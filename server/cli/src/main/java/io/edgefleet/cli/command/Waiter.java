package io.edgefleet.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliContext;
import io.edgefleet.cli.Progress;
import java.util.Set;

/** Polls a job-like resource ({@code status}, {@code progress} in [0, 1], {@code message}) until its status is final. */
final class Waiter {
    /** Statuses of a job still under way; anything else is final (so a new final status never hangs the CLI). */
    static final Set<String> ACTIVE = Set.of("QUEUED", "PENDING", "RUNNING", "IN_PROGRESS", "PLANNING", "EVALUATING");

    private Waiter() {
    }

    static boolean active(JsonNode job) {
        return ACTIVE.contains(job.path("status").asText(""));
    }

    static JsonNode await(CliContext ctx, ApiClient api, String path, JsonNode first, String label) {
        Progress progress = new Progress(ctx, label);
        JsonNode job = first;
        try {
            while (active(job)) {
                progress.fraction(job.path("progress").asDouble(0), status(job));
                ctx.sleep(ctx.pollInterval());
                job = api.get(path);
            }
            progress.fraction(job.path("progress").asDouble(1), status(job));
        } finally {
            progress.done();
        }
        return job;
    }

    private static String status(JsonNode job) {
        String message = job.path("message").asText("");
        return job.path("status").asText("") + (message.isEmpty() ? "" : " " + message);
    }
}
