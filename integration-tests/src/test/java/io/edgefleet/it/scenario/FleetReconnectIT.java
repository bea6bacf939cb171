package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.Agent;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.Net;
import io.edgefleet.it.TestBroker;
import io.edgefleet.it.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Issue 13, finding 6 at fleet size, on the packaged server: many agents in one JVM (as the simulator runs them)
 * reconnect soon after the server, and with it the embedded broker, is killed with SIGKILL and restarted. Before
 * each session kept its own back-off, Paho's automatic reconnect kept one delay in a static field shared by every
 * client of the JVM, so it doubled once per client: ten simulated agents took 8 s to 2 min 18 s. Now every session
 * backs off on its own (1 s doubling to 30 s, each delay drawn from its upper half), so every agent is back within
 * one maximal delay of the server being ready; and the server must show every one of them online again, including
 * a fifth that were stopped before the crash and started while the server was down.
 */
@Isolated("100 agents in this JVM must be back within one back-off of a SIGKILLed server: alone, timing")
class FleetReconnectIT {
    static final String CLASS = "it-reconnect-class";
    static final int AGENTS = Integer.getInteger("it.reconnect.agents", 100);
    /** The longest back-off (30 s) and the time a connect takes on a loaded machine. */
    static final Duration BOUND = Duration.ofSeconds(45);

    @Test
    void agentsInOneJvmReconnectWithinOneBackOffOfTheRestartedServer() throws Exception {
        try (Fleet fleet = Fleet.start("reconnect", Map.of(), TestBroker::embedded, TestDatabase::h2)) {
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            String[] ids = new String[AGENTS];
            for (int i = 0; i < AGENTS; i++) {
                ids[i] = String.format("it-reconnect-%03d", i);
            }
            List<Agent> agents = new ArrayList<>();
            for (Fleet.Device d : fleet.register(CLASS, ids)) {
                agents.add(fleet.startAgent(d));
            }
            Await.until(Duration.ofSeconds(90), "all " + AGENTS + " agents connected",
                    () -> agents.stream().allMatch(Agent::isConnected),
                    () -> agents.stream().filter(a -> !a.isConnected()).count() + " not connected");

            // A fifth of the devices go offline (orderly stop: OFFLINE, shown by the server) and start again while the
            // server restarts, as devices powering on during an outage.
            int restarting = Math.max(1, AGENTS / 5);
            List<Agent> stopped = new ArrayList<>(agents.subList(0, restarting));
            stopped.forEach(Agent::stop);
            Await.until(Duration.ofSeconds(60), "the server shows the " + restarting + " stopped agents offline",
                    () -> stopped.stream().noneMatch(a -> api.device(a.deviceId()).path("online").asBoolean()));
            // Not waited for on purpose: under load some ONLINE statuses are still queued when the server dies.
            long onlineBefore = Arrays.stream(ids).filter(id -> api.device(id).path("online").asBoolean()).count();
            long killed = System.nanoTime();
            fleet.server().kill();
            fleet.server().relaunch();
            // The stopped devices power on the moment the embedded broker listens again, which is before the server's
            // own client has connected and subscribed (the broker starts first); the agents take a while to start, so
            // on a loaded machine some of them publish their ONLINE status to no subscriber, only to the broker's
            // retained store (with the retained read reverted: 5 of these 20 shown offline 60 s later in one run, none in
            // another, load average 9-11 both: a race).
            java.net.URI mqtt = java.net.URI.create(stopped.get(0).config().mqttUrl());
            long brokerDeadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!Net.accepts(mqtt.getHost(), mqtt.getPort(), 100)) {
                assertTrue(System.nanoTime() < brokerDeadline, "the embedded broker did not listen again within 120 s");
                Thread.sleep(20);
            }
            for (int i = 0; i < restarting; i++) {
                agents.set(i, fleet.startAgent(stopped.get(i).config()));
            }
            fleet.server().awaitRestarted();
            long ready = System.nanoTime();
            long[] back = new long[AGENTS];
            Arrays.fill(back, -1);
            long deadline = ready + Duration.ofSeconds(120).toNanos();
            int pending = AGENTS;
            while (pending > 0 && System.nanoTime() < deadline) {
                pending = 0;
                for (int i = 0; i < AGENTS; i++) {
                    if (back[i] < 0) {
                        if (agents.get(i).isConnected()) {
                            back[i] = System.nanoTime() - ready;
                        } else {
                            pending++;
                        }
                    }
                }
                Thread.sleep(100);
            }
            long[] seconds = Arrays.stream(back).filter(b -> b >= 0).sorted().toArray();
            String figure = String.format(java.util.Locale.ROOT,
                    "FIGURE reconnect after SIGKILL: %d agents in one JVM, server down %.1f s (kill to ready); back after"
                            + " ready: median %.1f s, p95 %.1f s, max %.1f s; %d not back in 120 s",
                    AGENTS, (ready - killed) / 1e9, pct(seconds, 0.5), pct(seconds, 0.95), pct(seconds, 1.0), pending);
            Log.info(figure);
            System.out.println(figure);
            assertTrue(pending == 0, figure);
            assertTrue(pct(seconds, 1.0) <= BOUND.toSeconds(), "every agent back within " + BOUND + ": " + figure);
            // The server's view (issue 11): agents that connect before the restarted server has subscribed publish their
            // ONLINE status to no subscriber, and a shared subscription gets no retained message (the embedded broker
            // keeps to that); the server reads the retained statuses on connecting. Before, the server showed such
            // devices offline for good (5 of 100 in one CI run; their telemetry revives only a swept device).
            Await.until(Duration.ofSeconds(60), "the server shows every agent online again",
                    () -> Arrays.stream(ids).allMatch(id -> api.device(id).path("online").asBoolean()),
                    () -> Arrays.stream(ids).filter(id -> !api.device(id).path("online").asBoolean()).count()
                            + " of " + AGENTS + " not online on the server (" + onlineBefore + " were before the kill, " + restarting
                            + " of them stopped); "
                            + figure);
        }
    }

    static double pct(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e9;
    }
}
