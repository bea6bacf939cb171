package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The halt benchmark (issue 14's goal: a halt reaches 1,000 devices, rollback commanded and acknowledged by the
 * broker, in at most 5 s) and the dispatch side of issue 11 (1,000 deploy commands). It runs the server's own
 * path, the wave driver, the command pipeline and the gateway against the embedded broker; the 1,000 devices
 * are rows (registering them over REST would time PBKDF2, not the halt) and their activation is written as the
 * device events would leave it. Run:
 * {@code ./mvnw -B -q -pl server/app -am test -Dtest=HaltBenchmarkTest -Dbench.halt=true -Dsurefire.failIfNoSpecifiedTests=false}
 * (-Dbench.devices=N for another size). It prints both figures.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
@EnabledIfSystemProperty(named = "bench.halt", matches = "true")
class HaltBenchmarkTest {
    @Inject
    Session session;

    @Inject
    RolloutService rollouts;

    long count(String deploymentId, String where) {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select count(t) from DeploymentTargetEntity t where t.deploymentId = :id and " + where, Long.class)
                .setParameter("id", deploymentId).getSingleResult());
    }

    @Test
    void haltReachesEveryTouchedDevice() throws Exception {
        int n = Integer.getInteger("bench.devices", 1000);
        Api.createClass("bench-halt");
        long v = Api.upload("bench-halt-model", DemoModels.classifier(999));
        List<String> ids = new ArrayList<>();
        QuarkusTransaction.requiringNew().run(() -> {
            long now = System.currentTimeMillis();
            for (int i = 0; i < n; i++) {
                DeviceEntity d = new DeviceEntity();
                d.id = String.format(Locale.ROOT, "bench-%05d", i);
                d.classId = "bench-halt";
                d.credentialHash = "bench";
                d.credentialUpdatedAt = now;
                d.createdAt = now;
                session.persist(d);
                ids.add(d.id);
            }
        });

        long t0 = System.nanoTime();
        String id = rollouts.create(new CreateDeploymentRequest("bench-halt-model", v, "bench-halt", null, null, null,
                // the halt of one wave of 1,000: every target at once, as the API's {"allAtOnce": true} asks for it
                RolloutPolicy.everyTargetAtOnce())).id();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (count(id, "t.state = io.edgefleet.server.rollout.TargetState.SENT") < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        double dispatchSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(n, count(id, "t.state = io.edgefleet.server.rollout.TargetState.SENT"), "every deploy command acknowledged");

        // every device activated it (what their ACTIVATED events leave behind)
        QuarkusTransaction.requiringNew().run(() -> session.createMutationQuery("update DeploymentTargetEntity t"
                        + " set t.state = :a, t.activated = true where t.deploymentId = :id")
                .setParameter("a", TargetState.ACTIVATED).setParameter("id", id).executeUpdate());

        long h0 = System.nanoTime();
        rollouts.abort(id, "halt benchmark");
        deadline = System.nanoTime() + 60_000_000_000L;
        while (count(id, "t.rollbackDue = true") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        double haltSeconds = (System.nanoTime() - h0) / 1e9;
        assertEquals(0, count(id, "t.rollbackDue = true"), "every rollback acknowledged");
        System.out.printf(Locale.ROOT, "%nHALT BENCHMARK (%d devices, embedded broker, %d cores)%n"
                        + "  deploy commands sent and acknowledged: %.2f s (%.0f /s)%n"
                        + "  halt -> every rollback command acknowledged by the broker: %.2f s (goal <= 5 s)%n%n",
                n, Runtime.getRuntime().availableProcessors(), dispatchSeconds, n / dispatchSeconds, haltSeconds);
    }
}
