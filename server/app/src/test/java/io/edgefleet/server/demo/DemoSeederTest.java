package io.edgefleet.server.demo;

import static io.edgefleet.server.support.Api.api;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class DemoSeederTest {

    @Inject
    DemoSeeder seeder;

    @Test
    void seedsTheQuickstartClassAndModelOnce() {
        seeder.seed();
        seeder.seed();
        api().get("/api/v1/device-classes/demo-gateway").then().statusCode(200)
                .body("arch", equalTo("x86_64"))
                .body("cores", equalTo(2))
                .body("slo.p95LatencyMs", equalTo(50.0f))
                .body("slo.maxModelBytes", equalTo(50_000_000));
        api().get("/api/v1/models/demo-classifier/versions").then().statusCode(200)
                .body("version", contains(1))
                .body("[0].sha256", equalTo(Hashing.sha256Hex(DemoModels.classifier())))
                .body("[0].inputs[0].name", equalTo("input"))
                .body("[0].outputs[0].name", equalTo("probabilities"));
    }
}
