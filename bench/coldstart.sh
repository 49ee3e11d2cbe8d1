#!/usr/bin/env bash
# How a weldr that has proxied nothing yet serves its first minute, in front of one nginx backend
# under keep-alive load (50 connections), requests/s and p99 per CHUNK-second window. Loopback
# only; every process it starts, it stops by PID.
#
#   bench/coldstart.sh            # a fresh weldr, CHUNKS windows of CHUNK seconds in a row
#   CHUNKS=6 CHUNK=10 bench/coldstart.sh
#   bench/coldstart.sh takeover   # a follower that takes over, against a warm node, interleaved
#   IDLE=120 WELDR_OPTS=-Dweldr.ha.warm-up=0 bench/coldstart.sh takeover
#
# takeover: a three-node cluster (active-passive: only the leader is ready) and a fourth, single
# weldr, the warm reference, loaded for WARM seconds (60) first. The followers stay idle (not
# proxying) for IDLE seconds (60), and their CPU time over that while is printed (the cost of
# keeping them warm); then the leader is killed with kill -9 and, once a follower is ready as
# the new leader, the load goes to it and to the warm node in turn, window by window (A B A B …,
# so both meet the same machine): CHUNKS (6) windows of CHUNK (5) seconds each. Printed: each
# window's requests/s and p99 of both and their ratios, then the first 5, 10 and 30 s of the new
# leader against the warm node (throughput: requests over the windows; p99: the worst window's
# ratio). While the warm node's window runs the new leader is idle, its JIT compiling what is
# queued: the ratios after the first window flatter it a little. WELDR_OPTS (java options, split
# on spaces) go to the three cluster nodes only.
set -euo pipefail
MODE=${1:-fresh}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_NAME=coldstart
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
needs wrk nginx curl
weldr_jar

load() { # port seconds -> "requests/s p99-in-ms"
  local out
  out=$(wrk -t1 -c50 -d"${2}s" --latency "http://127.0.0.1:$1/")
  awk '/Requests\/sec/ {rps = $2}
       $1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                    p99 = u == "us" ? v / 1000 : u == "s" ? v * 1000 : u == "m" ? v * 60000 : v}
       END {printf "%.0f %.3f\n", rps, p99}' <<<"$out"
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
cpu_seconds() { # pid -> user+sys CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

one_backend

if [ "$MODE" = fresh ]; then
  CHUNKS=${CHUNKS:-12}
  CHUNK=${CHUNK:-5}
  needs jstat
  weldr_in_front "$JAR"
  echo "weldr, cold, keep-alive load with 50 connections, ${CHUNK}-second chunks; load average $(loadavg) at the start ($(nproc) cores)"
  for i in $(seq "$CHUNKS"); do
    read -r rps p99 <<<"$(load "$WP" "$CHUNK")"
    printf '  %4d s: %9.0f requests/s, p99 %8.2f ms, JIT compile time so far %s s, load average %s\n' "$((i * CHUNK))" \
      "$rps" "$p99" "$(jstat -compiler "$WELDR_PID" | awk 'NR == 2 {print $4}')" "$(loadavg)"
  done
  exit 0
fi
[ "$MODE" = takeover ] || { echo "coldstart: unknown mode $MODE (fresh or takeover)" >&2; exit 1; }

CHUNKS=${CHUNKS:-6}
CHUNK=${CHUNK:-5}
WARM=${WARM:-60}
IDLE=${IDLE:-60}
read -r -a OPTS <<<"${WELDR_OPTS:-}"

WELDR_NAME=warm weldr_in_front "$JAR"
WARM_PORT=$WP

# The cluster: node i listens on ADMIN[i], PROXY[i], RAFT[i].
ADMIN=(); PROXY=(); RAFT=(); NODE_PIDS=()
for i in 0 1 2; do ADMIN+=("$(freeport)"); PROXY+=("$(freeport)"); RAFT+=("$(freeport)"); done
PEERS="127.0.0.1:${RAFT[0]},127.0.0.1:${RAFT[1]},127.0.0.1:${RAFT[2]}"
for i in 0 1 2; do
  WELDR_PROXY_TLS_PORT=0 java "${OPTS[@]}" -Dweldr.raft.peers="$PEERS" -Dweldr.proxy.host=127.0.0.1 \
    -Dweldr.proxy.port="${PROXY[$i]}" -Dquarkus.http.port="${ADMIN[$i]}" -Dweldr.raft.port="${RAFT[$i]}" \
    -Dweldr.raft.data-dir="$WORK/data-node$i" -jar "$JAR" > "$WORK/node$i.log" 2>&1 & PIDS+=($!)
  NODE_PIDS+=($!)
done
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ADMIN[$1]}/q/health/ready")" = 200 ]; }
leader_among() { # node indexes -> the one that is ready (the leader), waiting for it
  local i
  while true; do
    for i in "$@"; do ready "$i" && { echo "$i"; return; }; done
    sleep 0.05
  done
}
LEADER=$(leader_among 0 1 2)
curl -s -o /dev/null -d "{\"url\":\"http://127.0.0.1:$B\"}" "http://127.0.0.1:${ADMIN[$LEADER]}/servers"
FOLLOWERS=(); for i in 0 1 2; do [ "$i" = "$LEADER" ] || FOLLOWERS+=("$i"); done

echo "takeover: $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load average $(loadavg) at the start; cluster options: ${WELDR_OPTS:-none}"
echo "  warming the reference node: ${WARM} s of load"
load "$WARM_PORT" "$WARM" > /dev/null
echo "  followers idle for ${IDLE} s (load average $(loadavg) before)"
declare -A CPU0
for i in "${FOLLOWERS[@]}"; do CPU0[$i]=$(cpu_seconds "${NODE_PIDS[$i]}"); done
sleep "$IDLE"
for i in "${FOLLOWERS[@]}"; do
  printf '  follower node%d: %.2f s of CPU in %d s idle (%.1f %% of one core)\n' "$i" \
    "$(awk -v a="${CPU0[$i]}" -v b="$(cpu_seconds "${NODE_PIDS[$i]}")" 'BEGIN {print b - a}')" "$IDLE" \
    "$(awk -v a="${CPU0[$i]}" -v b="$(cpu_seconds "${NODE_PIDS[$i]}")" -v t="$IDLE" 'BEGIN {print (b - a) * 100 / t}')"
done

kill -9 "${NODE_PIDS[$LEADER]}"
t0=$(date +%s%N)
wait "${NODE_PIDS[$LEADER]}" 2>/dev/null || true
NEW=$(leader_among "${FOLLOWERS[@]}")
echo "  kill -9 of the leader node$LEADER: node$NEW ready $(( ($(date +%s%N) - t0) / 1000000 )) ms later (load average $(loadavg))"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PROXY[$NEW]}/")" = 200 ]; do sleep 0.05; done

printf '  %6s  %22s  %22s  %16s  %s\n' window "new leader req/s, p99" "warm node req/s, p99" "ratio req/s, p99" "load average"
N_RPS=(); N_P99=(); W_RPS=(); W_P99=()
for i in $(seq "$CHUNKS"); do
  read -r nr np <<<"$(load "${PROXY[$NEW]}" "$CHUNK")"
  read -r wr wp <<<"$(load "$WARM_PORT" "$CHUNK")"
  N_RPS+=("$nr"); N_P99+=("$np"); W_RPS+=("$wr"); W_P99+=("$wp")
  printf '  %4d s  %10.0f %8.2f ms  %10.0f %8.2f ms  %7.2f %7.2f×  %s\n' "$((i * CHUNK))" "$nr" "$np" "$wr" "$wp" \
    "$(awk -v a="$nr" -v b="$wr" 'BEGIN {print a / b}')" "$(awk -v a="$np" -v b="$wp" 'BEGIN {print a / b}')" "$(loadavg)"
done
for secs in 5 10 30; do
  n=$(( (secs + CHUNK - 1) / CHUNK )); [ "$n" -le "$CHUNKS" ] || continue
  awk -v n="$n" -v secs="$secs" -v nr="${N_RPS[*]}" -v np="${N_P99[*]}" -v wr="${W_RPS[*]}" -v wp="${W_P99[*]}" 'BEGIN {
    split(nr, a); split(np, b); split(wr, c); split(wp, d)
    for (i = 1; i <= n; i++) { sn += a[i]; sw += c[i]; r = b[i] / d[i]; if (r > worst) worst = r }
    printf "  first %2d s after the takeover: throughput %.0f %% of the warm node'"'"'s, p99 %.2f× (worst window)\n", secs, 100 * sn / sw, worst
  }'
done
