# The edgefleet server image, built from Quarkus' fast-jar folder. Build the app first, then the image
# from the repository root:
#   ./mvnw -B -pl server/app -am package -DskipTests
#   docker build -f deploy/server.Dockerfile -t edgefleet/server:dev .
# (compose.yaml does the second step itself.)
#
# Debian-based JRE: ONNX Runtime's bundled native library needs glibc, so Alpine/musl images do not work.
FROM eclipse-temurin:17-jre-jammy

RUN groupadd --system --gid 10001 edgefleet \
    && useradd --system --uid 10001 --gid edgefleet --home-dir /var/lib/edgefleet --shell /usr/sbin/nologin edgefleet \
    && mkdir -p /var/lib/edgefleet \
    && chown edgefleet:edgefleet /var/lib/edgefleet

# The fast-jar layout in four layers, the ones that change least first, so a code change rebuilds one layer.
COPY --chown=edgefleet:edgefleet server/app/target/quarkus-app/lib/ /opt/edgefleet/lib/
COPY --chown=edgefleet:edgefleet server/app/target/quarkus-app/quarkus-run.jar /opt/edgefleet/
COPY --chown=edgefleet:edgefleet server/app/target/quarkus-app/app/ /opt/edgefleet/app/
COPY --chown=edgefleet:edgefleet server/app/target/quarkus-app/quarkus/ /opt/edgefleet/quarkus/

USER edgefleet
WORKDIR /var/lib/edgefleet

# Holds the server signing keys, artifact blobs, the generated API token and (without PostgreSQL) the H2 file.
ENV EDGEFLEET_DATA_DIR=/var/lib/edgefleet \
    QUARKUS_HTTP_HOST=0.0.0.0 \
    QUARKUS_HTTP_PORT=8080 \
    JAVA_OPTS_APPEND="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
VOLUME ["/var/lib/edgefleet"]
# 8080: REST API, UI and /q/health. The embedded broker (only when EDGEFLEET_MQTT_URL is empty) listens on
# EDGEFLEET_MQTT_EMBEDDED_PORT; set it and EDGEFLEET_MQTT_EMBEDDED_HOST=0.0.0.0 to expose it.
EXPOSE 8080

# exec, so the JVM is PID 1's direct replacement and receives SIGTERM for a graceful shutdown.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS_APPEND -jar /opt/edgefleet/quarkus-run.jar"]
