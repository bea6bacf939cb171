package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.model.ModelVersionEntity;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which version a deployment may ship as its light fallback, as a table of the refusals and the one that passes. */
class FallbackRulesTest {
    final Map<Long, ModelVersionEntity> versions = new HashMap<>();
    final Map<String, Double> planP95 = new HashMap<>();

    ModelVersionEntity v(long version, Long parent, long size) {
        ModelVersionEntity e = new ModelVersionEntity();
        e.name = "kws";
        e.version = version;
        e.parentVersion = parent;
        e.size = size;
        e.sha256 = Long.toString(version).repeat(64).substring(0, 64);
        versions.put(version, e);
        return e;
    }

    ModelVersionEntity check(ModelVersionEntity main, ModelVersionEntity fallback) {
        return FallbackRules.check(main, fallback, versions::get, planP95::get);
    }

    String refusal(ModelVersionEntity main, ModelVersionEntity fallback, ErrorCode code) {
        ApiException e = assertThrows(ApiException.class, () -> check(main, fallback));
        assertEquals(code, e.code());
        assertTrue(e.getMessage().startsWith("fallback.version: "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aSmallerGatedVariantOfTheSameUploadPasses() {
        ModelVersionEntity upload = v(1, null, 10_000);
        ModelVersionEntity pruned = v(2, 1L, 8_000);
        ModelVersionEntity int8 = v(3, 2L, 3_000); // a variant of a variant: same root
        assertSame(int8, check(upload, int8));
        assertSame(int8, check(pruned, int8));
        planP95.put(upload.sha256, 9.0);
        planP95.put(int8.sha256, 4.0);
        assertSame(int8, check(upload, int8), "faster by the plan's numbers");
    }

    @Test
    void refusals() {
        ModelVersionEntity upload = v(1, null, 10_000);
        ModelVersionEntity int8 = v(2, 1L, 3_000);
        ModelVersionEntity otherUpload = v(3, null, 9_000);
        ModelVersionEntity otherInt8 = v(4, 3L, 2_500);
        ModelVersionEntity bigger = v(5, 1L, 12_000);
        assertTrue(refusal(upload, null, ErrorCode.UNKNOWN_MODEL).contains("no such version"));
        assertTrue(refusal(upload, upload, ErrorCode.VALIDATION_FAILED).contains("another variant"));
        assertTrue(refusal(upload, otherUpload, ErrorCode.VALIDATION_FAILED).contains("an upload, not a variant that passed"));
        assertTrue(refusal(upload, otherInt8, ErrorCode.VALIDATION_FAILED).contains("a variant of the same model"));
        assertTrue(refusal(upload, bigger, ErrorCode.VALIDATION_FAILED).contains("not lighter"));
        assertTrue(refusal(int8, bigger, ErrorCode.VALIDATION_FAILED).contains("not lighter"));
        planP95.put(upload.sha256, 4.0);
        planP95.put(int8.sha256, 6.5);
        assertTrue(refusal(upload, int8, ErrorCode.VALIDATION_FAILED).contains("slower than version 1 by the plan's numbers"));
    }

    @Test
    void deviceP95IsReadFromLineageMetrics() {
        assertEquals(7.5, FallbackRules.deviceP95("{\"recipe\":\"x\",\"deviceP95Ms\":7.5}"));
        assertEquals(null, FallbackRules.deviceP95("{\"deviceP95Ms\":null}"));
        assertEquals(null, FallbackRules.deviceP95("not json"));
        assertEquals(null, FallbackRules.deviceP95(null));
    }
}
