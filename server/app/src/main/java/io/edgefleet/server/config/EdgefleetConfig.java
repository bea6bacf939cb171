package io.edgefleet.server.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.Optional;

/**
 * Every edgefleet setting, typed. Values come from {@code application.properties}, environment
 * variables ({@code EDGEFLEET_DATA_DIR}, {@code EDGEFLEET_MQTT_URL}, ...) or system properties.
 */
@ConfigMapping(prefix = "edgefleet")
public interface EdgefleetConfig {

    /** Holds the H2 database, artifact blobs, the server signing keys and the generated API token. */
    @WithName("data-dir")
    @WithDefault("./data")
    String dataDir();

    Db db();

    Api api();

    Mqtt mqtt();

    Artifacts artifacts();

    Models models();

    Datasets datasets();

    Compression compression();

    Signing signing();

    Demo demo();

    Devices devices();

    interface Devices {
        /**
         * A device that is online but has sent nothing (telemetry, status, event) for this long is marked
         * offline by the sweep: 3 telemetry windows at the agent's default 10 s plus slack.
         */
        @WithName("offline-after")
        @WithDefault("45s")
        java.time.Duration offlineAfter();

        /** How often the sweep runs. */
        @WithName("sweep-interval")
        @WithDefault("5s")
        java.time.Duration sweepInterval();
    }

    Rollout rollout();

    Auth auth();

    Console console();

    interface Auth {
        /**
         * Role tokens besides the admin token of {@code edgefleet.api.token}, by a name of the operator's choice:
         * {@code edgefleet.auth.tokens.<name>.role} (viewer, operator, sre, admin) and
         * {@code edgefleet.auth.tokens.<name>.token-sha256} (hex SHA-256 of the token; the token itself is never
         * configured on the server).
         */
        java.util.Map<String, RoleToken> tokens();

        interface RoleToken {
            String role();

            @WithName("token-sha256")
            String tokenSha256();
        }
    }

    interface Console {
        /** A console session unused for this long is signed out. */
        @WithName("session-idle-timeout")
        @WithDefault("30m")
        java.time.Duration sessionIdleTimeout();

        /** At most this many console sessions at once; signing in beyond it ends the least recently used one. */
        @WithName("max-sessions")
        @WithDefault("1000")
        int maxSessions();

        /** Mark the session cookie {@code Secure} (set it when the console is reached over HTTPS, e.g. behind a proxy). */
        @WithName("cookie-secure")
        @WithDefault("false")
        boolean cookieSecure();

        /** How often the console pages poll for fresh data. */
        @WithName("poll-interval")
        @WithDefault("3s")
        java.time.Duration pollInterval();

        /** Failed console sign-ins from one client address, within {@link #signInWindow()}, before it is locked out. */
        @WithName("sign-in-max-failures")
        @WithDefault("5")
        int signInMaxFailures();

        /** Failed sign-ins further apart than this start the count again. */
        @WithName("sign-in-window")
        @WithDefault("15m")
        java.time.Duration signInWindow();

        /** The first lock-out; each further failure doubles it, up to {@link #signInMaxLockout()}. */
        @WithName("sign-in-lockout")
        @WithDefault("30s")
        java.time.Duration signInLockout();

        /** The longest lock-out. */
        @WithName("sign-in-max-lockout")
        @WithDefault("15m")
        java.time.Duration signInMaxLockout();
    }

    interface Db {
        /** {@code h2} (embedded file database) or {@code postgresql}; defaults to postgresql when a URL is set. */
        Optional<String> kind();

        /** JDBC URL of the PostgreSQL database, e.g. {@code jdbc:postgresql://db:5432/edgefleet}. */
        Optional<String> url();

        Optional<String> username();

        Optional<String> password();
    }

    interface Api {
        /** Operator bearer token; when empty one is generated and written to {@code ${data-dir}/api-token}. */
        Optional<String> token();

        /** Largest JSON request body (bytes) on any endpoint without its own bound. */
        @WithName("max-json-bytes")
        @WithDefault("65536")
        long maxJsonBytes();

        /** Largest body of {@code POST /api/v1/deployments}, which may list explicit target devices. */
        @WithName("max-deployment-json-bytes")
        @WithDefault("1048576")
        long maxDeploymentJsonBytes();
    }

    interface Mqtt {
        /** External broker URL ({@code tcp://host:1883}, {@code ssl://...}); empty starts the embedded broker. */
        Optional<String> url();

        /** The server's broker user on an external broker. */
        Optional<String> username();

        Optional<String> password();

        /** Client id of this server instance; defaults to one derived from an id stored in the data dir. */
        @WithName("client-id")
        Optional<String> clientId();

        /** URL devices are told to connect to; defaults to the external URL or the embedded broker's bound address. */
        @WithName("advertised-url")
        Optional<String> advertisedUrl();

        /** Subscribe to device topics through MQTT 5 shared subscriptions ($share/edgefleet/...). */
        @WithName("shared-subscriptions")
        @WithDefault("true")
        boolean sharedSubscriptions();

        /** Threads that decode and persist inbound device messages (per-device order is kept). */
        @WithName("ingest-workers")
        @WithDefault("2")
        int ingestWorkers();

        /**
         * Messages a worker takes from its queue at most per batch: consecutive telemetry windows of a batch are
         * stored in one transaction and acknowledged after its commit.
         */
        @WithName("ingest-batch-size")
        @WithDefault("500")
        int ingestBatchSize();

        /** Bound of each ingest worker's queue; a full queue holds back the MQTT client (backpressure). */
        @WithName("ingest-queue-size")
        @WithDefault("10000")
        int ingestQueueSize();

        /**
         * MQTT 5 Receive Maximum the server asks the broker for: inbound QoS 1 messages delivered but not yet
         * acknowledged (the server acknowledges after commit). Bounds what is in memory; higher allows more
         * throughput per commit latency.
         */
        @WithName("receive-maximum")
        @WithDefault("4000")
        int receiveMaximum();

        /**
         * Unsubscribe from the shared device subscriptions when this server stops normally. Brokers give a share
         * of a shared subscription to offline persistent sessions too, so a replica that is scaled down for good
         * should leave (or it strands a share of the messages until it returns); a lone server, or one restarted
         * in place, should not (while no server is subscribed, the broker keeps nothing for it).
         */
        @WithName("leave-shared-subscriptions-on-stop")
        @WithDefault("false")
        boolean leaveSharedSubscriptionsOnStop();

        /**
         * MQTT keep-alive of the server's broker connection (whole seconds, 1 s to 65535 s). The client pings when it
         * has sent nothing for this long and gives the connection up when the broker stays silent about as long
         * again, so it is how long a broker may be busy without dropping the server. Mosquitto reloading 10,000
         * users' credentials (SIGHUP) reads nothing for seconds to minutes (docs/scale.md); 30 s dropped the server
         * in the 10,000-agent runs and every in-flight message was redelivered. The price of a long one is that a
         * dead connection without a TCP reset is noticed later; the broker session (QoS 1) keeps what arrives
         * meanwhile.
         */
        @WithName("keep-alive")
        @WithDefault("120s")
        java.time.Duration keepAlive();

        /** Ingest is reported DOWN (/q/health) when a worker has queued messages and no progress for this long. */
        @WithName("ingest-stall-timeout")
        @WithDefault("60s")
        java.time.Duration ingestStallTimeout();

        Embedded embedded();

        interface Embedded {
            @WithDefault("127.0.0.1")
            String host();

            /** 0 picks a free port; never assume 1883 is free. */
            @WithDefault("0")
            int port();
        }
    }

    interface Artifacts {
        @WithName("chunk-size")
        @WithDefault("65536")
        int chunkSize();
    }

    interface Models {
        @WithName("max-upload-bytes")
        @WithDefault("268435456")
        long maxUploadBytes();
    }

    interface Datasets {
        /** Largest accepted calibration/validation .npz upload. */
        @WithName("max-upload-bytes")
        @WithDefault("268435456")
        long maxUploadBytes();
    }

    interface Compression {
        /** Compression jobs that run at the same time (each is CPU-heavy). */
        @WithDefault("1")
        int workers();

        /** Jobs that may wait for a worker; more are refused with 503. */
        @WithName("max-queued")
        @WithDefault("16")
        int maxQueued();

        /** Intra-op threads ONNX Runtime uses to evaluate base and variant. */
        @WithName("eval-threads")
        @WithDefault("1")
        int evalThreads();

        /** Batch-1 latency runs per model in the report; 0 skips the latency measurement. */
        @WithName("latency-runs")
        @WithDefault("100")
        int latencyRuns();
    }

    interface Signing {
        /** Base64 X.509 Ed25519 public key of the next signing key, announced to devices ahead of a rotation. */
        @WithName("next-public-key")
        Optional<String> nextPublicKey();

        /**
         * How long a signed command stays valid after it is sent. Long enough for a device that is
         * offline for a while to still run a rollout's commands from its broker session; short enough
         * that a captured command cannot be replayed much later.
         */
        @WithName("command-ttl")
        @WithDefault("PT24H")
        java.time.Duration commandTtl();
    }

    interface Demo {
        /** Seed a demo device class and model when the model registry is empty. */
        @WithDefault("false")
        boolean enabled();
    }

    interface Rollout {
        /**
         * Commands (deploy, rollback) unacknowledged by the broker at once. Keep it below the broker's receive
         * maximum (Mosquitto's max_inflight_messages, 20 in deploy/mosquitto) minus what artifact streaming uses.
         */
        @WithName("dispatch-window")
        @WithDefault("16")
        int dispatchWindow();

        /** First retry delay of a command the broker did not acknowledge; doubles per failure. */
        @WithName("retry-initial-backoff-ms")
        @WithDefault("200")
        long retryInitialBackoffMs();

        /** Longest delay between two retries of one command. */
        @WithName("retry-max-backoff-ms")
        @WithDefault("5000")
        long retryMaxBackoffMs();

        /** How often running deployments look at soak ends and target timeouts (read by the scheduler). */
        @WithName("tick-interval")
        @WithDefault("1s")
        String tickInterval();
    }
}
