package io.edgefleet.cli.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cli.ApiClient;
import io.edgefleet.cli.CliContext;
import io.edgefleet.cli.CliException;
import io.edgefleet.cli.EdgefleetCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command needs: the context, the API client, JSON or human output. */
abstract class Base implements Callable<Integer> {
    static final ObjectMapper COMPACT = new ObjectMapper();

    @Spec
    CommandSpec spec;

    EdgefleetCli root() {
        return (EdgefleetCli) spec.root().userObject();
    }

    CliContext ctx() {
        return root().ctx();
    }

    PrintWriter out() {
        return ctx().out();
    }

    boolean json() {
        return root().json();
    }

    ApiClient api() {
        return root().api();
    }

    void printJson(JsonNode n) {
        try {
            out().println(ApiClient.JSON.writeValueAsString(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }

    void printJson(List<JsonNode> items) {
        printJson((JsonNode) ApiClient.JSON.valueToTree(items));
    }

    /** One JSON object per line, for streams ({@code watch}, {@code tail}). */
    void printJsonLine(JsonNode n) {
        try {
            out().println(COMPACT.writeValueAsString(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }

    static JsonNode readJsonFile(Path file) {
        try {
            return ApiClient.JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw CliException.usage("no such file: " + file);
        } catch (JsonProcessingException e) {
            throw CliException.usage(file + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage());
        }
    }

    static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw CliException.usage("no such file: " + file);
        }
    }
}
