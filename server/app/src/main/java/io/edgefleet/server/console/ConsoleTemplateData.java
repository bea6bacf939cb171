package io.edgefleet.server.console;

import io.quarkus.qute.TemplateData;

/**
 * The types the console's templates read, so Qute generates their value resolvers at build time instead of
 * resolving members by reflection.
 */
@TemplateData(target = io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassView.class)
@TemplateData(target = io.edgefleet.server.deviceclass.DeviceClassDtos.Slo.class)
@TemplateData(target = io.edgefleet.server.device.DeviceDtos.DeviceView.class)
@TemplateData(target = io.edgefleet.server.device.DeviceDtos.EventView.class)
@TemplateData(target = io.edgefleet.server.device.DeviceDtos.ModeTimesView.class)
@TemplateData(target = io.edgefleet.server.device.DeviceDtos.ModelModeTimes.class)
@TemplateData(target = io.edgefleet.server.device.DeviceDtos.ModeTime.class)
@TemplateData(target = io.edgefleet.protocol.ModelRef.class)
@TemplateData(target = io.edgefleet.server.model.ModelDtos.ModelVersionView.class)
@TemplateData(target = io.edgefleet.server.model.ModelDtos.ModelSummary.class)
@TemplateData(target = io.edgefleet.server.planner.PlanDtos.VariantView.class)
@TemplateData(target = io.edgefleet.server.planner.PlanDtos.LineageView.class)
@TemplateData(target = io.edgefleet.server.planner.PlanDtos.PlanView.class)
@TemplateData(target = io.edgefleet.server.compression.CompressionDtos.JobView.class)
@TemplateData(target = io.edgefleet.server.compression.CompressionDtos.BaseRef.class)
@TemplateData(target = io.edgefleet.server.rollout.DeploymentDtos.DeploymentView.class)
@TemplateData(target = io.edgefleet.server.rollout.DeploymentDtos.WavesView.class)
@TemplateData(target = io.edgefleet.server.rollout.DeploymentDtos.Summary.class)
@TemplateData(target = io.edgefleet.server.alert.AlertDtos.AlertView.class)
@TemplateData(target = io.edgefleet.server.alert.AlertDtos.RecompressionView.class)
@TemplateData(target = io.edgefleet.server.loop.LoopDtos.LoopView.class)
@TemplateData(target = io.edgefleet.server.loop.LoopDtos.HistoryEntry.class)
@TemplateData(target = io.edgefleet.server.loop.LoopState.class)
@TemplateData(target = io.edgefleet.server.loop.LoopDtos.ClassLoopView.class)
@TemplateData(target = io.edgefleet.server.benchmark.BenchmarkDtos.BenchmarkView.class)
@TemplateData(target = io.edgefleet.server.benchmark.BenchmarkDtos.DeviceResult.class)
@TemplateData(target = io.edgefleet.server.benchmark.BenchmarkDtos.CostModelView.class)
@TemplateData(target = io.edgefleet.server.capture.CaptureDtos.CaptureView.class)
@TemplateData(target = FleetQueries.ClassCounts.class)
@TemplateData(target = FleetQueries.Running.class)
@TemplateData(target = ConsoleResource.ClassRow.class)
@TemplateData(target = ConsoleResource.ModelRow.class)
@TemplateData(target = ConsoleResource.VariantRow.class)
@TemplateData(target = ConsoleResource.AlertRow.class)
final class ConsoleTemplateData {
    private ConsoleTemplateData() {
    }

    /** {@code {x.fmt}}: a number with at most three decimals (cost-model scales, error percentages); '–' for none. */
    @io.quarkus.qute.TemplateExtension
    static String fmt(Number v) {
        if (v == null) {
            return "–";
        }
        return new java.math.BigDecimal(v.doubleValue()).setScale(3, java.math.RoundingMode.HALF_UP).stripTrailingZeros()
                .toPlainString();
    }

    /** {@code {x.percent}}: a share 0..1 as a percentage with one decimal. */
    @io.quarkus.qute.TemplateExtension
    static String percent(Number share) {
        return share == null ? "–" : new java.math.BigDecimal(share.doubleValue() * 100).setScale(1, java.math.RoundingMode.HALF_UP)
                .toPlainString();
    }
}
