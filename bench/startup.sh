#!/usr/bin/env bash
# Start to /q/health/ready UP of the packaged weldr: `java -jar` with weldr's defaults (but for
# ports, and a fresh data directory each time), STARTS times; with BASELINE_JAR, an earlier build's
# starts interleaved with them (A B A B …, so both meet the same machine). Prints every start and
# the median. Loopback only; every process it starts, it stops by PID.
#
#   bench/startup.sh
#   STARTS=15 BASELINE_JAR=/before/quarkus-run.jar bench/startup.sh
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java JAVA_OPTS=-XX:AOTCache=app/weldr.aot \
#     WELDR_JAR=app/quarkus-run.jar BASELINE_JAR=app/quarkus-run.jar bench/startup.sh   # an AOT cache against none
# JAVA: the java to run (default: the one on PATH); JAVA_OPTS and BASELINE_JAVA_OPTS (split on
# spaces): its options for weldr's starts and for the baseline's.
set -euo pipefail
STARTS=${STARTS:-9}
JAVA=${JAVA:-java}
read -r -a WELDR_OPTS <<<"${JAVA_OPTS:-}"
read -r -a BASELINE_OPTS <<<"${BASELINE_JAVA_OPTS:-}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
JAR=${WELDR_JAR:-"$ROOT/target/quarkus-app/quarkus-run.jar"}
BASELINE_JAR=${BASELINE_JAR:-}
[ -f "$JAR" ] || (cd "$ROOT" && ./mvnw -B -q package -DskipTests)

BENCH_NAME=startup
# shellcheck source=bench/common.sh
. "$HERE/common.sh"

start_once() { # jar [java options...] -> milliseconds from launch to ready
  local jar=$1 admin proxy raft data pid t0 ms
  shift
  admin=$(freeport); proxy=$(freeport); raft=$(freeport); data=$(mktemp -d "$WORK/data.XXXXXX")
  t0=$(date +%s%N)
  WELDR_PROXY_TLS_PORT=0 "$JAVA" "$@" -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port="$proxy" -Dquarkus.http.port="$admin" \
       -Dweldr.raft.port="$raft" -Dweldr.raft.data-dir="$data" -jar "$jar" > "$WORK/weldr.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/q/health/ready")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { echo "startup: weldr exited: $(tail -1 "$WORK/weldr.log")" >&2; exit 1; }
    sleep 0.01
  done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$ms"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "weldr start to /q/health/ready UP, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)," \
  "$STARTS starts${BASELINE_JAR:+ each, interleaved with the baseline}; $("$JAVA" -version 2>&1 | head -n 1)"
weldr=""; baseline=""
for i in $(seq "$STARTS"); do
  weldr="$weldr $(start_once "$JAR" "${WELDR_OPTS[@]}")"
  [ -n "$BASELINE_JAR" ] && baseline="$baseline $(start_once "$BASELINE_JAR" "${BASELINE_OPTS[@]}")"
done
echo "weldr    ms:$weldr; median $(median <<<"$weldr") ms${JAVA_OPTS:+ (${JAVA_OPTS})}"
[ -n "$BASELINE_JAR" ] && echo "baseline ms:$baseline; median $(median <<<"$baseline") ms${BASELINE_JAVA_OPTS:+ (${BASELINE_JAVA_OPTS})}"
echo "load average $(cut -d' ' -f1 /proc/loadavg) at the end"
exit 0
