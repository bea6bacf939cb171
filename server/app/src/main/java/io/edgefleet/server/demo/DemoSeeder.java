package io.edgefleet.server.demo;

import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.deviceclass.DeviceClassDtos.AccuracyBudget;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassRequest;
import io.edgefleet.server.deviceclass.DeviceClassDtos.Power;
import io.edgefleet.server.deviceclass.DeviceClassDtos.Slo;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.model.ModelService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Quickstart data, when {@code edgefleet.demo.enabled=true} and the model registry is empty: device
 * class {@code demo-gateway} and model {@code demo-classifier} version 1, registered through the
 * same validation path as an upload.
 */
@ApplicationScoped
public class DemoSeeder {
    private static final Logger LOG = Logger.getLogger(DemoSeeder.class);
    public static final String CLASS_ID = "demo-gateway";
    public static final String MODEL = "demo-classifier";

    @Inject
    EdgefleetConfig config;

    @Inject
    DeviceClassService classes;

    @Inject
    ModelService models;

    void onStart(@Observes @Priority(300) StartupEvent event) {
        if (config.demo().enabled() && models.isEmpty()) {
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
        boolean modelMissing = QuarkusTransaction.requiringNew().call(() -> models.find(MODEL, 1) == null);
        if (modelMissing) {
            models.register(MODEL, DemoModels.classifier());
        }
        LOG.infof("Demo data ready: device class %s, model %s:1", CLASS_ID, MODEL);
    }
}
