package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.gate.Verdict;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.report.Report;

/** A finished job: the variant (written whatever the verdict; callers mark rejected ones) and its report. */
public record JobResult(OnnxModel variant, Report report) {
    public Verdict verdict() {
        return report.gate();
    }

    public boolean passed() {
        return report.gate().passed();
    }
}
