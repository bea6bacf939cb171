#!/bin/sh
# Fetches the per-device password file and ACL that the edgefleet server renders, replaces the
# broker's files atomically and tells mosquitto to re-read them (SIGHUP). Run it after registering,
# rotating or revoking device credentials, e.g. from a systemd timer or cron every minute.
#
#   EDGEFLEET_URL        server base URL             (default http://127.0.0.1:8080)
#   EDGEFLEET_API_TOKEN  operator API token          (or EDGEFLEET_API_TOKEN_FILE=path to a file holding it)
#   MOSQUITTO_DIR        directory with passwd/acl   (default: the directory of this script)
#   MOSQUITTO_PID        pid of the broker, or MOSQUITTO_PID_FILE=path (default: pidof mosquitto)
#   MOSQUITTO_OWNER      owner:group for the files, e.g. mosquitto:mosquitto (default: unchanged)
#
# Exit codes: 0 files written and broker signalled (or already up to date), 1 fetch failed (the old
# files stay in place), 2 bad configuration, 3 files written but no broker process to signal.
set -eu

url=${EDGEFLEET_URL:-http://127.0.0.1:8080}
dir=${MOSQUITTO_DIR:-$(cd "$(dirname "$0")" && pwd)}

if [ -z "${EDGEFLEET_API_TOKEN:-}" ] && [ -n "${EDGEFLEET_API_TOKEN_FILE:-}" ]; then
    EDGEFLEET_API_TOKEN=$(cat "$EDGEFLEET_API_TOKEN_FILE")
fi
if [ -z "${EDGEFLEET_API_TOKEN:-}" ]; then
    echo "sync-credentials: set EDGEFLEET_API_TOKEN or EDGEFLEET_API_TOKEN_FILE" >&2
    exit 2
fi
if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
    echo "sync-credentials: $dir is not a writable directory (set MOSQUITTO_DIR)" >&2
    exit 2
fi

tmp_passwd=$(mktemp "$dir/.passwd.XXXXXX")
tmp_acl=$(mktemp "$dir/.acl.XXXXXX")
trap 'rm -f "$tmp_passwd" "$tmp_acl"' EXIT

# The token goes through a here-document on stdin rather than argv, so it never shows up in `ps`.
fetch() {
    curl --silent --show-error --fail --max-time 30 --config - --output "$2" "$url/api/v1/broker/mosquitto/$1" <<CURLCFG
header = "Authorization: Bearer $EDGEFLEET_API_TOKEN"
CURLCFG
}
if ! fetch passwd "$tmp_passwd" || ! fetch acl "$tmp_acl"; then
    echo "sync-credentials: could not fetch credentials from $url; broker files left unchanged" >&2
    exit 1
fi
# An ACL without the server's own rules would lock the server out; refuse to install one.
if ! grep -q '^user ' "$tmp_acl"; then
    echo "sync-credentials: the ACL from $url has no user block; broker files left unchanged" >&2
    exit 1
fi

if [ -f "$dir/passwd" ] && [ -f "$dir/acl" ] \
    && cmp -s "$tmp_passwd" "$dir/passwd" && cmp -s "$tmp_acl" "$dir/acl"; then
    echo "sync-credentials: already up to date"
    exit 0
fi

chmod 0640 "$tmp_passwd" "$tmp_acl"
if [ -n "${MOSQUITTO_OWNER:-}" ]; then
    chown "$MOSQUITTO_OWNER" "$tmp_passwd" "$tmp_acl"
fi
# rename(2) within one directory is atomic: mosquitto reads either the old or the new file, never half.
mv -f "$tmp_passwd" "$dir/passwd"
mv -f "$tmp_acl" "$dir/acl"

pid=${MOSQUITTO_PID:-}
if [ -z "$pid" ] && [ -n "${MOSQUITTO_PID_FILE:-}" ] && [ -f "$MOSQUITTO_PID_FILE" ]; then
    pid=$(cat "$MOSQUITTO_PID_FILE")
fi
if [ -z "$pid" ]; then
    pid=$(pidof mosquitto 2>/dev/null || true)
fi
if [ -z "$pid" ]; then
    echo "sync-credentials: files written to $dir, but no mosquitto process found to reload" >&2
    exit 3
fi
# shellcheck disable=SC2086 # several brokers on one host are all reloaded
kill -HUP $pid
echo "sync-credentials: wrote $dir/passwd and $dir/acl, reloaded mosquitto ($pid)"
