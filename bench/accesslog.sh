#!/usr/bin/env bash
# What the access log costs: two weldrs with one event loop each in front of one nginx backend, one
# with weldr.proxy.access-log off (the default), one writing to a file; after a warm-up, ROUNDS
# interleaved DURATION-second runs of keep-alive load (50 connections) against each, printing
# requests/s, p99 and the process's CPU time per request (user+sys, every thread: the log's writer
# too), then the lines the file got and how many were dropped. Loopback only; every process it
# starts, it stops by PID.
#
#   bench/accesslog.sh
#   ROUNDS=5 DURATION=20 bench/accesslog.sh
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-40}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_NAME=accesslog
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
needs wrk nginx curl
weldr_jar

one_backend
declare -A PORT PID
WELDR_NAME=off weldr_in_front "$JAR" -Dweldr.proxy.event-loops=1
PORT[off]=$WP; PID[off]=$WELDR_PID
WELDR_NAME=file weldr_in_front "$JAR" -Dweldr.proxy.event-loops=1 -Dweldr.proxy.access-log="$WORK/access.log"
PORT[file]=$WP; PID[file]=$WELDR_PID

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for target in off file; do wrk -t1 -c50 -d"${WARMUP}s" "http://127.0.0.1:${PORT[$target]}/" >/dev/null; done
echo "access log off / to a file: keep-alive load, 50 connections, ${DURATION} s per run, one event loop"
for round in $(seq "$ROUNDS"); do
  for target in off file; do
    before=$(cpu_ticks "${PID[$target]}")
    out=$(wrk -t1 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$target]}/")
    after=$(cpu_ticks "${PID[$target]}")
    printf '  round %d, %-4s %9.0f requests/s, p99 %8s, CPU %5.1f µs/request\n' "$round" "$target" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
      "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
        'BEGIN {printf "%.1f", t / hz * 1e6 / n}')"
  done
done
dropped=$(grep -o '[0-9]* lines dropped' "$WORK/file.log" | tail -1 | cut -d' ' -f1 || true)
printf '  the file has %d lines (warm-up included), %s MB; lines dropped: %s\n' "$(wc -l < "$WORK/access.log")" \
  "$(du -m "$WORK/access.log" | cut -f1)" "${dropped:-0}"
