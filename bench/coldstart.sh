#!/usr/bin/env bash
# How a weldr that has proxied nothing yet (a node taking over as leader) serves its first minute:
# a fresh weldr in front of one nginx backend, keep-alive load (50 connections) in CHUNK-second
# chunks, requests/s, p99 and the JIT's compile time so far printed per chunk. Loopback only; every
# process it starts, it stops by PID.
#
#   bench/coldstart.sh
#   CHUNKS=6 CHUNK=10 bench/coldstart.sh
set -euo pipefail
CHUNKS=${CHUNKS:-12}
CHUNK=${CHUNK:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_NAME=coldstart
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
needs wrk nginx jstat
weldr_jar

one_backend

weldr_in_front "$JAR"

echo "weldr, cold, keep-alive load with 50 connections, ${CHUNK}-second chunks"
for i in $(seq "$CHUNKS"); do
  out=$(wrk -t1 -c50 -d"${CHUNK}s" --latency "http://127.0.0.1:$WP/")
  printf '  %4d s: %9.0f requests/s, p99 %8s, JIT compile time so far %s s\n' "$((i * CHUNK))" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(jstat -compiler "$WELDR_PID" | awk 'NR == 2 {print $4}')"
done
