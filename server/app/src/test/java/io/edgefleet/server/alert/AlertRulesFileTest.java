package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.alert.AlertRulesFile.InvalidRulesFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Rules from edgefleet.alerts.rules-file: YAML or JSON, the REST fields, the same validator, errors that say where. */
class AlertRulesFileTest {
    static final long RETENTION = 7 * 24 * 3600;

    /** Lookups that know class "gw" only. */
    static final RuleValidator.Lookups LOOKUPS = new RuleValidator.Lookups() {
        @Override
        public boolean classExists(String id) {
            return id.equals("gw");
        }

        @Override
        public boolean deviceExists(String id) {
            return false;
        }

        @Override
        public boolean modelExists(String name, Long version) {
            return false;
        }
    };

    static List<AlertRule> parse(String name, String content) {
        return AlertRulesFile.parse(name, content.getBytes(StandardCharsets.UTF_8), LOOKUPS, RETENTION);
    }

    @Test
    void yamlRulesTakeTheRestFieldsAndDefaults() {
        List<AlertRule> rules = parse("rules.yaml", """
                rules:
                  - id: gw-drift
                    metric: DRIFT_SCORE
                    scope: CLASS
                    classId: gw
                    threshold: 0.3
                    forSeconds: 60
                    severity: critical
                  - id: gw-errors
                    metric: ERROR_RATE
                """);
        assertEquals(List.of("gw-drift", "gw-errors"), rules.stream().map(AlertRule::id).toList());
        AlertRule drift = rules.get(0);
        assertEquals(AlertMetric.DRIFT_SCORE, drift.metric());
        assertEquals(AlertScope.CLASS, drift.scope());
        assertEquals("gw", drift.classId());
        assertEquals(0.3, drift.threshold());
        assertEquals(60, drift.forSeconds());
        assertEquals(Severity.CRITICAL, drift.severity());
        assertEquals("EdgefleetDriftHigh", drift.name(), "the metric's alert name by default");
        assertEquals(AlertScope.VERSION, rules.get(1).scope());
        assertEquals(false, drift.builtin());
    }

    @Test
    void jsonToo_asAListOrUnderRules(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("rules.json"), "[{\"id\":\"p95\",\"metric\":\"P95_LATENCY_MS\",\"classId\":\"gw\"}]");
        assertEquals("p95", AlertRulesFile.load(f, LOOKUPS, RETENTION).get(0).id());
        assertEquals(1, parse("r.json", "{\"rules\":[{\"id\":\"e\",\"metric\":\"ERROR_RATE\"}]}").size());
        assertEquals(0, parse("r.yml", "rules: []").size());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // content | the message must contain
            "rules:\\n  - id: a\\n    metric: ERROR_RATE\\n  - id: b\\n    metric: ERROR_RATE\\n    threshold: 1.5"
                    + " | rule 'b' (entry 2): threshold: must be a ratio in [0, 1)",
            "rules:\\n  - id: c\\n    metric: LATENCY_P99 | rule 'c' (entry 1): metric: unknown metric 'LATENCY_P99'",
            "rules:\\n  - id: d\\n    metric: ERROR_RATE\\n    tresh: 0.1 | rule 'd' (entry 1): tresh: Unrecognized field",
            "rules:\\n  - id: e\\n    metric: ERROR_RATE\\n    lookbackSeconds: soon | rule 'e' (entry 1): lookbackSeconds:",
            "rules:\\n  - metric: ERROR_RATE | rule without an id (entry 1): id: must be 1-64 characters",
            "rules:\\n  - id: f\\n    metric: ERROR_RATE\\n  - id: f\\n    metric: DRIFT_SCORE | rule 'f' (entry 2): id: 'f' appears twice",
            "rules:\\n  - id: g\\n    metric: ERROR_RATE\\n    classId: 'no class!' | rule 'g' (entry 1): classId:",
            "rule:\\n  - id: h | unknown top-level field(s) [rule]",
            "rules: {id: i} | expected a list of rules",
            "rules: [ | not valid YAML",
    })
    void aBadFileIsRefusedNamingTheRuleAndTheField(String content, String expected) {
        InvalidRulesFileException e = assertThrows(InvalidRulesFileException.class,
                () -> parse("/etc/edgefleet/rules.yaml", content.replace("\\n", "\n")));
        assertTrue(e.getMessage().startsWith("edgefleet.alerts.rules-file /etc/edgefleet/rules.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aMissingFileIsRefusedByName(@TempDir Path dir) {
        InvalidRulesFileException e = assertThrows(InvalidRulesFileException.class,
                () -> AlertRulesFile.load(dir.resolve("nope.yaml"), LOOKUPS, RETENTION));
        assertTrue(e.getMessage().contains("nope.yaml: cannot be read"), e.getMessage());
    }
}
