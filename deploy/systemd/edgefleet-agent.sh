#!/bin/sh
# edgefleet edge agent launcher: starts the agent's jar with the JVM settings measured for small boards and an
# application class-data-sharing (AppCDS) archive of the agent's classes, made by its first run.
#
# Why each setting is here, with the figures: docs/serving.md ("Start-up and memory"). Reproduce them with
#   ./mvnw -B -q -pl edge-agent -am -Pbench test -DskipTests -Dbench.main=io.edgefleet.agent.bench.ServingFootprint
#
# Environment (all optional):
#   EDGEFLEET_JAVA             java binary (default: java on the PATH)
#   EDGEFLEET_AGENT_JAR        the agent's jar (default /opt/edgefleet/edge-agent.jar)
#   EDGEFLEET_AGENT_CDS        the AppCDS archive (default /var/lib/edgefleet-agent/agent-cds.jsa); empty: none.
#                              Missing or older than the jar or the JVM: this run records one, written when the
#                              agent stops (SIGTERM); every later start maps it. The archive holds the classes
#                              that run loaded: a run that stopped at once (a bad configuration) records a small one;
#                              delete the file to record again.
#   EDGEFLEET_AGENT_NATIVE     where ONNX Runtime's native libraries are copied out of the jar, once (default
#                              /var/lib/edgefleet-agent/native); the agent loads them from there instead of
#                              extracting 28 MiB into the temporary folder at every start. Empty: extract as before.
#   EDGEFLEET_AGENT_JVM_OPTS   replaces the JVM flags below
#   EDGEFLEET_AGENT_JVM_EXTRA  added after them (e.g. -Djava.io.tmpdir=...)
#   MALLOC_ARENA_MAX           glibc malloc arenas (default 2; ONNX Runtime allocates from the threads that call it)
# Arguments are passed to the agent (--config FILE, --data-dir DIR, ...).
set -eu

DEFAULT_JVM_OPTS="-Xms32m -Xmx128m -Xmn4m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError"

java_bin=${EDGEFLEET_JAVA:-java}
jar=${EDGEFLEET_AGENT_JAR:-/opt/edgefleet/edge-agent.jar}
cds=${EDGEFLEET_AGENT_CDS-/var/lib/edgefleet-agent/agent-cds.jsa}
jvm_opts="${EDGEFLEET_AGENT_JVM_OPTS:-$DEFAULT_JVM_OPTS} ${EDGEFLEET_AGENT_JVM_EXTRA:-}"
MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
export MALLOC_ARENA_MAX

if [ ! -r "$jar" ]; then
    echo "edgefleet-agent: cannot read the agent's jar $jar (set EDGEFLEET_AGENT_JAR)" >&2
    exit 2
fi

native=${EDGEFLEET_AGENT_NATIVE-/var/lib/edgefleet-agent/native}
native_opts=""
if [ -n "$native" ]; then
    lib="$native/libonnxruntime.so"
    if [ ! -s "$lib" ] || [ "$jar" -nt "$lib" ]; then
        # a failed copy is not fatal: ONNX Runtime then extracts its libraries itself, as without this
        "$java_bin" -Xshare:auto -XX:TieredStopAtLevel=1 -cp "$jar" io.edgefleet.agent.NativeLibraries "$native" || true
    fi
    if [ -s "$lib" ] && [ ! "$jar" -nt "$lib" ]; then
        native_opts="-Donnxruntime.native.path=$native"
    fi
fi

cds_opts=""
if [ -n "$cds" ]; then
    # An archive only fits the jar and the JVM it was made with (the JVM silently ignores one that does not).
    libjvm=$(dirname "$(readlink -f "$(command -v "$java_bin")")")/../lib/server/libjvm.so
    if [ -s "$cds" ] && [ ! "$jar" -nt "$cds" ] && { [ ! -e "$libjvm" ] || [ ! "$libjvm" -nt "$cds" ]; }; then
        cds_opts="-XX:SharedArchiveFile=$cds"
    elif mkdir -p "$(dirname "$cds")" 2>/dev/null && rm -f "$cds" 2>/dev/null; then
        cds_opts="-XX:ArchiveClassesAtExit=$cds"
    fi
    # the archive's own notes (classes it cannot hold, e.g. picocli's Java 5 classes) are not the agent's log
    cds_opts="$cds_opts -Xlog:cds=off -Xlog:cds+dynamic=off"
fi

# shellcheck disable=SC2086 # the flag lists are word-split on purpose
exec "$java_bin" $jvm_opts $native_opts $cds_opts -jar "$jar" "$@"
