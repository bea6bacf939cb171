package io.edgefleet.server.demo;

import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.quantize.DynamicInt8Quantizer;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.alert.AlertRuleService;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.deviceclass.DeviceClassDtos.AccuracyBudget;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassRequest;
import io.edgefleet.server.deviceclass.DeviceClassDtos.Power;
import io.edgefleet.server.deviceclass.DeviceClassDtos.Slo;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.drift.ReferenceProfileService;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.planner.PlanDtos.Budget;
import io.edgefleet.server.planner.PlanDtos.PlanRequest;
import io.edgefleet.server.planner.PlanStatus;
import io.edgefleet.server.planner.PlannerService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Quickstart data, when {@code edgefleet.demo.enabled=true}: what is missing of it is created at every start, all
 * through the same validation paths as the REST API:
 * <ul>
 *   <li>device class {@code demo-gateway} (x86_64, fp32/fp16/int8, p95 SLO 50 ms, 50 MB) and {@code demo-board}
 *       (a small arm board: int8 only, p95 SLO 20 ms, a {@value #BOARD_MAX_MODEL_BYTES}-byte model budget the
 *       float model does not fit, a {@value #BOARD_BUDGET_POINTS}-point accuracy budget);</li>
 *   <li>model {@code demo-classifier} version 1 (float) and version 2, its dynamic-int8 variant (lineage: parent 1),
 *       an engine-made variant that fits the board's byte budget (the board itself runs the planned one below);</li>
 *   <li>datasets {@value #VALIDATION} and {@value #CALIBRATION} (inputs of the demo model) and a plan of the model
 *       for {@code demo-board} over them: its choice becomes the board's registered variant, what the closed loop
 *       re-plans from;</li>
 *   <li>the demo's alert rules: per class, drift over {@value #DRIFT_THRESHOLD} and p95 over the class SLO, with
 *       short lookbacks so the quickstart shows them within a minute; the board's drift rule has the
 *       {@code RECOMPRESS} action, so its alert opens a closed loop.</li>
 * </ul>
 */
@ApplicationScoped
public class DemoSeeder {
    private static final Logger LOG = Logger.getLogger(DemoSeeder.class);
    public static final String CLASS_ID = "demo-gateway";
    public static final String MODEL = "demo-classifier";
    public static final String BOARD_CLASS_ID = "demo-board";
    public static final long BOARD_MAX_MODEL_BYTES = 6_000;
    /**
     * The demo's drift rules fire above this PSI, held for {@link #DRIFT_FOR_SECONDS} over a lookback of
     * {@link #DRIFT_LOOKBACK_SECONDS}. Not the anchors' 0.2 over a minute: a quickstart window holds about 100
     * inferences and a rule takes the largest window score of a class over its lookback, so with a 60 s lookback
     * the sampling noise of undrifted windows alone reached 0.27-0.38 (boards, validation reference) and 0.85
     * (gateways, a 200-inference self reference) and fired before any drift. A short lookback held for longer needs
     * the score to stay high window after window, as a real shift does (a one-sigma shift scores far above 0.5;
     * docs/drift-and-energy.md, "What the numbers are worth").
     */
    public static final double DRIFT_THRESHOLD = 0.5;
    static final long DRIFT_LOOKBACK_SECONDS = 15;
    static final long DRIFT_FOR_SECONDS = 20;
    /**
     * The board's accuracy budget, overall points (cohorts: twice it): static int8 of the demo model drops about 1.2
     * points on the demo validation set (10 classes of an untrained model), so a 1-point budget left the board no
     * int8 variant at all.
     */
    public static final double BOARD_BUDGET_POINTS = 3.0;
    /** The version the seeder registers the board's int8 variant as. */
    public static final long BOARD_VERSION = 2;
    public static final String VALIDATION = "demo-validation";
    public static final String CALIBRATION = "demo-calibration";
    /** Samples per demo dataset: enough for a stable gate and calibration, small enough to plan in seconds. */
    static final int SAMPLES = 512;

    @Inject
    EdgefleetConfig config;

    @Inject
    DeviceClassService classes;

    @Inject
    ModelService models;

    @Inject
    AlertRuleService rules;

    @Inject
    DatasetService datasets;

    @Inject
    PlannerService planner;

    @Inject
    ReferenceProfileService profiles;

    void onStart(@Observes @Priority(300) StartupEvent event) {
        if (config.demo().enabled()) { // what is missing of it, so a data dir from an older quickstart gets the rest
            seed();
        }
    }

    /** Creates what is missing of the demo data; safe to call more than once. */
    public void seed() {
        boolean classMissing = QuarkusTransaction.requiringNew().call(() -> classes.find(CLASS_ID) == null);
        if (classMissing) {
            classes.create(new DeviceClassRequest(CLASS_ID, "Demo x86_64 gateway", "x86_64", 2, 2048L, 8192L,
                    List.of("fp32", "fp16", "int8"), new Power(4.0, 12.0), new Slo(50.0, 50_000_000L, null),
                    new AccuracyBudget(1.0, 2.0)));
        }
        boolean boardMissing = QuarkusTransaction.requiringNew().call(() -> classes.find(BOARD_CLASS_ID) == null);
        if (boardMissing) {
            classes.create(new DeviceClassRequest(BOARD_CLASS_ID, "Demo arm board (int8 only)", "aarch64", 1, 256L, 512L,
                    List.of("int8"), new Power(0.5, 1.5), new Slo(20.0, BOARD_MAX_MODEL_BYTES, null),
                    new AccuracyBudget(BOARD_BUDGET_POINTS, 2 * BOARD_BUDGET_POINTS)));
        }
        boolean modelMissing = QuarkusTransaction.requiringNew().call(() -> models.find(MODEL, 1) == null);
        if (modelMissing) {
            models.register(MODEL, DemoModels.classifier());
        }
        boolean variantMissing = QuarkusTransaction.requiringNew().call(() -> models.find(MODEL, BOARD_VERSION) == null);
        if (variantMissing) {
            models.register(MODEL, boardVariant(), new ModelService.Lineage(1, "{\"recipe\":\"dynamic-int8\"}"));
        }
        seedDataset(VALIDATION, 41);
        seedDataset(CALIBRATION, 42);
        for (long version = 1; version <= BOARD_VERSION; version++) {
            profileOnValidation(version);
        }
        planBoardVariant();
        for (String classId : List.of(CLASS_ID, BOARD_CLASS_ID)) {
            // the board's drift alert asks for a re-compression: the closed loop the quickstart shows
            // (of one model: a re-compression needs one)
            boolean loop = classId.equals(BOARD_CLASS_ID);
            String action = loop ? "RECOMPRESS" : null;
            createRule(new RuleRequest("demo-drift-" + classId, "EdgefleetDriftHigh", "DRIFT_SCORE",
                    loop ? "MODEL" : "CLASS", classId, loop ? MODEL : null, null, null, DRIFT_THRESHOLD, 1L,
                    DRIFT_LOOKBACK_SECONDS, DRIFT_FOR_SECONDS,
                    "warning", action, null,
                    "demo: input drift (PSI) of a " + classId + " device above " + DRIFT_THRESHOLD
                            + (action == null ? "" : "; re-compresses the class's variant (closed loop)"), true));
            createRule(new RuleRequest("demo-p95-" + classId, "EdgefleetLatencySloBreach", "P95_LATENCY_MS", "VERSION",
                    classId, null, null, null, null, 20L, 60L, 30L, "critical", null, null,
                    "demo: p95 latency of a " + classId + " model version above the class SLO", true));
        }
        LOG.infof("Demo data ready: device classes %s and %s, model %s:1 (float) and :%d (int8), datasets %s and %s,"
                + " the board's variant planned, demo alert rules", CLASS_ID, BOARD_CLASS_ID, MODEL, BOARD_VERSION,
                VALIDATION, CALIBRATION);
    }

    /** Standard-normal inputs of the demo model, from a fixed seed, as an {@code .npz} dataset. */
    static byte[] inputs(long seed, int samples) {
        float[] x = OnnxBuilder.randomNormal(seed, samples * DemoModels.INPUTS, 1f);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npz.write(out, Map.of("input", NpyArray.ofFloats(x, samples, DemoModels.INPUTS)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void seedDataset(String name, long seed) {
        if (QuarkusTransaction.requiringNew().call(() -> datasets.find(name) == null)) {
            byte[] npz = inputs(seed, SAMPLES);
            datasets.register(name, new ByteArrayInputStream(npz), (long) npz.length);
        }
    }

    /**
     * Plans the board's variant unless it has one or a plan for it is under way (a restart marks running plans
     * failed; the next start plans again). The plan runs on the planner's workers; its choice becomes a new model
     * version and the board's registry row, the variant the quickstart deploys and the closed loop starts from.
     */
    private void planBoardVariant() {
        if (planner.classVariant(MODEL, BOARD_CLASS_ID) != null) {
            return;
        }
        boolean underWay = planner.list(MODEL).stream().anyMatch(p -> BOARD_CLASS_ID.equals(p.deviceClassId())
                && (p.status() == PlanStatus.QUEUED || p.status() == PlanStatus.RUNNING));
        if (!underWay) {
            planner.submit(MODEL, 1, new PlanRequest(BOARD_CLASS_ID, VALIDATION, CALIBRATION,
                    new Budget(4, null, null, null, 20), null, null));
        }
    }

    /**
     * The seeded versions' reference profile from the validation data, so that their devices score drift against
     * the data the model was validated on (what the planner gives its variants) rather than against their own first
     * 200 inferences, a small and noisy reference.
     */
    private void profileOnValidation(long version) {
        try {
            profiles.get(MODEL, version);
        } catch (ApiException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            profiles.build(MODEL, version, VALIDATION, ReferenceProfile.SOURCE_VALIDATION);
        }
    }

    /** The demo model quantized to dynamic int8 by the engine: what fits the board's byte budget. */
    static byte[] boardVariant() {
        return new DynamicInt8Quantizer().quantize(OnnxModel.read(DemoModels.classifier())).model().toBytes();
    }

    private void createRule(RuleRequest rule) {
        try {
            rules.create(rule);
        } catch (ApiException e) {
            if (e.code() != ErrorCode.ALREADY_EXISTS) {
                throw e;
            }
        }
    }
}
