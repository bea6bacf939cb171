package io.edgefleet.server.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.api.ApiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Alert rules from a configuration file ({@code edgefleet.alerts.rules-file}), in plain Java: a YAML ({@code .yaml},
 * {@code .yml}) or JSON document holding {@code {"rules": [ ... ]}} or the list alone, each entry in the fields of
 * {@code POST /api/v1/alert-rules}, validated by the same {@link RuleValidator}. Anything wrong is one
 * {@link InvalidRulesFileException} naming the file, the rule (id and entry number) and every bad field.
 */
public final class AlertRulesFile {
    private AlertRulesFile() {
    }

    /** Why the file cannot be used; the message says where. */
    public static final class InvalidRulesFileException extends RuntimeException {
        public InvalidRulesFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Reads, parses and validates {@code path}. */
    public static List<AlertRule> load(Path path, RuleValidator.Lookups lookups, long maxLookbackSeconds) {
        byte[] content;
        try {
            content = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new InvalidRulesFileException("edgefleet.alerts.rules-file " + path + ": cannot be read: " + e, e);
        }
        return parse(path.toString(), content, lookups, maxLookbackSeconds);
    }

    /** Parses and validates a file's {@code content}; {@code name} decides YAML or JSON by its extension. */
    public static List<AlertRule> parse(String name, byte[] content, RuleValidator.Lookups lookups, long maxLookbackSeconds) {
        String where = "edgefleet.alerts.rules-file " + name;
        String lower = name.toLowerCase(Locale.ROOT);
        ObjectMapper mapper = (lower.endsWith(".yaml") || lower.endsWith(".yml") ? new ObjectMapper(new YAMLFactory())
                : new ObjectMapper()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        JsonNode root;
        try {
            root = mapper.readTree(content);
        } catch (IOException e) {
            throw new InvalidRulesFileException(where + ": not valid " + (mapper.getFactory() instanceof YAMLFactory
                    ? "YAML" : "JSON") + ": " + firstLine(e.getMessage()), e);
        }
        JsonNode list = root != null && root.isObject() ? root.get("rules") : root;
        if (root != null && root.isObject()) {
            Set<String> keys = new HashSet<>();
            root.fieldNames().forEachRemaining(keys::add);
            keys.remove("rules");
            if (!keys.isEmpty()) {
                throw new InvalidRulesFileException(where + ": unknown top-level field(s) " + keys + "; only 'rules'", null);
            }
        }
        if (list == null || !list.isArray()) {
            throw new InvalidRulesFileException(where + ": expected a list of rules, or an object with a 'rules' list", null);
        }
        List<AlertRule> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode entry = list.get(i);
            String id = entry.path("id").isTextual() ? entry.get("id").asText() : null;
            String rule = "rule " + (id == null ? "without an id" : "'" + id + "'") + " (entry " + (i + 1) + ")";
            RuleRequest req;
            try {
                req = mapper.treeToValue(entry, RuleRequest.class);
            } catch (JsonProcessingException e) {
                String field = e instanceof JsonMappingException m ? m.getPath().stream()
                        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                        .collect(Collectors.joining(".")) : "";
                throw new InvalidRulesFileException(where + ": " + rule + ": " + (field.isEmpty() ? "" : field + ": ")
                        + firstLine(e.getOriginalMessage()), e);
            }
            if (id != null && !ids.add(id)) {
                throw new InvalidRulesFileException(where + ": " + rule + ": id: '" + id + "' appears twice", null);
            }
            try {
                out.add(RuleValidator.validate(req.id(), req, false, lookups, maxLookbackSeconds));
            } catch (ApiException e) {
                String fields = e.fields() == null || e.fields().isEmpty() ? e.getMessage()
                        : e.fields().stream().map(f -> f.field() + ": " + f.reason()).collect(Collectors.joining("; "));
                throw new InvalidRulesFileException(where + ": " + rule + ": " + fields, e);
            }
        }
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
