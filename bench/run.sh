#!/usr/bin/env bash
# weldr against nginx and HAProxy, in one interleaved run on this machine. It prints figures and
# asserts nothing. Everything runs on loopback; everything it starts, it stops (by PID).
#
#   bench/run.sh                 # ROUNDS=3 rounds of DURATION=10 s per target and case
#   ROUNDS=1 DURATION=3 bench/run.sh
#   POOL_SIZES="1 100 10000" bench/run.sh
#   WELDR_JAR=/elsewhere/quarkus-run.jar WELDR_JAVA_OPTS="-XX:+FlightRecorder" bench/run.sh
#   BASELINE_JAR=/before/quarkus-run.jar CASES=keepalive POOL_SIZES= bench/run.sh   # before/after, one run
#   CASES="tls-keepalive tls-handshake" TARGETS="weldr-openssl weldr-jdk nginx" POOL_SIZES= bench/run.sh   # HTTPS
#   CASES="h2-streams h2-conns" TARGETS="weldr nginx" POOL_SIZES= bench/run.sh   # HTTP/2 over TLS (h2load)
#
# Targets, all in front of the same two nginx backends (13-byte body), round-robin, keep-alive
# upstream: direct (the backend itself: the limit), weldr (its defaults: one event loop per core), weldr1 (one
# event loop), nginx (1 worker), haproxy (1 thread); weldr-openssl and weldr-jdk (weldr with
# weldr.tls.provider=openssl and =jdk).
# Cases: keepalive (50 connections), pipeline (16 deep), c1000 (1,000 connections), 1mb (1 MB body);
# HTTPS, weldr against nginx with the same certificate and Mozilla's intermediate settings (tls.sh),
# each with an ECDSA P-256 and an RSA 2048 certificate (tls-keepalive-ecdsa, tls-keepalive-rsa...):
# tls-keepalive (50 keep-alive connections) and tls-handshake (50 connections, a new connection and
# a full handshake, never resumed, for every request: requests/s are handshakes/s).
# HTTP/2 over TLS (ALPN h2 only, ECDSA certificate), measured with h2load: h2-streams (4 connections,
# 100 concurrent streams each) and h2-conns (200 connections, one stream each). A target that does not
# negotiate h2 is skipped with a line saying so (h2load would otherwise measure HTTP/1.1 or nothing).
# The steadiest figure on a shared 2-core machine is the proxy process's CPU time per request.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-120}               # at most this many seconds of unmeasured load on each JVM target first (JIT)
POOL_SIZES=${POOL_SIZES-"1 100 10000"}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
JAR=${WELDR_JAR:-"$ROOT/target/quarkus-app/quarkus-run.jar"}   # another build of weldr to measure
WELDR_JAVA_OPTS=${WELDR_JAVA_OPTS:-}                              # e.g. a profiler's options
BASELINE_JAR=${BASELINE_JAR:-}      # an earlier build, measured as target "baseline" in the same run
CASES=${CASES-"keepalive pipeline c1000 1mb"}     # empty: only the pool sizes
TARGETS=${TARGETS:-"direct weldr weldr1 nginx haproxy"}
# tls-keepalive and tls-handshake stand for their ECDSA and RSA cases
CASES=$(for c in $CASES; do case $c in tls-keepalive|tls-handshake) echo "$c-ecdsa $c-rsa" ;; *) echo "$c" ;; esac; done | xargs)
TLS_CASES=$(for c in $CASES; do case $c in tls-*) echo "$c" ;; esac; done | xargs)
H2_CASES=$(for c in $CASES; do case $c in h2-*) echo "$c" ;; esac; done | xargs)
CERT_CASES="$TLS_CASES$H2_CASES"    # cases that need the certificates and the HTTPS listeners

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx || ! need haproxy; then
  [ "$(id -u)" = 0 ] || { echo "bench: needs wrk, nginx and haproxy (run as root to install them)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light haproxy >/dev/null
fi
if [ -n "$H2_CASES" ] && ! need h2load; then
  [ "$(id -u)" = 0 ] || { echo "bench: needs h2load (run as root to install nghttp2-client)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
fi
[ -f "$JAR" ] || (cd "$ROOT" && ./mvnw -B -q package -DskipTests)
# 10,000 servers pooled per event loop are 20,000 backend connections: enough descriptors for them.
ulimit -n 200000 2>/dev/null || ulimit -n 20000 2>/dev/null || true

BENCH_NAME=bench
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
# shellcheck source=bench/tls.sh
. "$HERE/tls.sh"
if [ -n "$CERT_CASES" ]; then
  needs openssl cc
  tls_certs
  tls_no_resumption
fi
cpu_ticks() { # user+sys clock ticks of a process and its children threads (a process's stat covers its threads)
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
  done
  echo "$total"
}
sched_ns() { # nanoseconds the processes' threads ran, and waited runnable for a core (schedstat): "ran waited"
  local pid
  for pid in "$@"; do cat /proc/"$pid"/task/*/schedstat 2>/dev/null || true; done | awk '{ r += $1; w += $2 } END { printf "%.0f %.0f", r, w }'
}
TICK=$(getconf CLK_TCK)
wait_http() { # url, seconds
  local deadline=$((SECONDS + $2))
  until curl -s -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || { echo "bench: $1 did not answer" >&2; exit 1; }
    sleep 0.05
  done
}

B1=$(freeport); B2=$(freeport)
mkdir -p "$WORK/www" "$WORK/backend" "$WORK/nginx"
head -c 1048576 /dev/zero | tr '\0' 'x' > "$WORK/www/1mb"
chmod 755 "$WORK" "$WORK/www" && chmod 644 "$WORK/www/1mb"   # nginx's workers run as another user

# ---- the backend: nginx, two ports (on every loopback address, for the pool-size test) ----
cat > "$WORK/backend/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 200000;
daemon off;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/error.log warn;
events { worker_connections 65536; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen $B1 reuseport backlog=4096;
    listen $B2 reuseport backlog=4096;
    location = / { default_type text/plain; return 200 "hello world!\n"; }
    location = /1mb { root $WORK/www; }
  }
}
EOF
nginx -c "$WORK/backend/nginx.conf" -e "$WORK/backend/error.log" & PIDS+=($!)
BACKEND_MASTER=$!
wait_http "http://127.0.0.1:$B1/" 10

# ---- nginx as a reverse proxy (1 worker) ----
NP=$(freeport)
NGINX_TLS=""
if [ -n "$CERT_CASES" ]; then
  # One HTTPS port per certificate (weldr's certificate is replaced between cases instead), and one
  # that logs whether sessions were resumed, for the check below; all in the same worker.
  NTLS_ECDSA=$(freeport); NTLS_RSA=$(freeport); NTLS_CHECK=$(freeport)
  NGINX_TLS="  log_format resumed '\$ssl_session_reused \$connection_requests';
"
  for kind in ecdsa rsa check; do
    port=NTLS_${kind^^} log=""
    [ "$kind" = check ] && log="access_log $WORK/nginx/resumed.log resumed;"
    NGINX_TLS+="  server {
    listen 127.0.0.1:${!port} ssl backlog=4096;
$(nginx_tls "${kind/check/ecdsa}")
    $log
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering on; }
  }
"
  done
  # HTTP/2 on a port of its own (nginx 1.22 enables it per listening address), the ECDSA certificate.
  # http2_max_concurrent_streams stays at its default, 128: h2-streams's 100 fit.
  NTLS_H2=$(freeport)
  NGINX_TLS+="  server {
    listen 127.0.0.1:$NTLS_H2 ssl http2 backlog=4096;
$(nginx_tls ecdsa)
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering on; }
  }
"
fi
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backends { server 127.0.0.1:$B1; server 127.0.0.1:$B2; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$NP backlog=4096;
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }
  }
$NGINX_TLS}
EOF
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" & PIDS+=($!)
NGINX_MASTER=$!

# ---- HAProxy (1 thread; maxconn 4096 fits this machine's open-files limit) ----
HP=$(freeport)
cat > "$WORK/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:$HP
  default_backend be
backend be
  balance roundrobin
  server b1 127.0.0.1:$B1
  server b2 127.0.0.1:$B2
EOF
haproxy -f "$WORK/haproxy.cfg" -db >/dev/null 2>&1 & PIDS+=($!)
HAPROXY_PID=$!

# ---- weldr, with its defaults but for ports and data ----
WP=$(freeport); WA=$(freeport); WR=$(freeport)
tls_options() { # port: the HTTPS listener's options, for HTTPS cases only (an older build may not know the keys)
  # wrk sends its URL's host, 127.0.0.1, as server name: the default certificate answers it.
  [ -z "$CERT_CASES" ] || echo "-Dweldr.proxy.tls-port=$1 -Dweldr.tls.default-certificate=bench"
}
started() { # name pid admin-port: true once ready; exits with weldr's last line if it ended
  kill -0 "$2" 2>/dev/null || { echo "bench: $1 ended: $(tail -n 1 "$WORK/$1.log")" >&2; exit 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/q/health/ready")" = 200 ]
}
start_weldr() { # data dir
  WELDR_TLS=$(freeport)
  # shellcheck disable=SC2086,SC2046
  WELDR_PROXY_TLS_PORT=0 java $WELDR_JAVA_OPTS $(tls_options "$WELDR_TLS") -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port="$WP" -Dquarkus.http.port="$WA" -Dweldr.raft.port="$WR" \
       -Dweldr.raft.data-dir="$1" -jar "$JAR" > "$WORK/weldr.log" 2>&1 & PIDS+=($!)
  WELDR_PID=$! WELDR_PORT=$WP WELDR_ADMIN=$WA
}
t0=$(date +%s%N)
start_weldr "$WORK/weldr-data"
until started weldr "$WELDR_PID" "$WA"; do sleep 0.01; done
READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
for p in $B1 $B2; do curl -s -o /dev/null -d "{\"url\":\"http://127.0.0.1:$p\"}" "http://127.0.0.1:$WA/servers"; done
wait_http "http://127.0.0.1:$NP/" 10
wait_http "http://127.0.0.1:$HP/" 10
weldr_var() { local v=${1^^}; echo "${v//-/_}"; }   # weldr-openssl -> WELDR_OPENSSL
weldr_of() { local v; v="$(weldr_var "$1")_$2"; echo "${!v:-}"; }   # target field: WELDR1_PORT...
start_other() { # name jar java-options...: another weldr beside the first, same backends; sets <NAME>_PID, _PORT, _ADMIN, _TLS
  local name=$1 jar=$2 port admin raft tls var; shift 2
  port=$(freeport); admin=$(freeport); raft=$(freeport); tls=$(freeport)
  # shellcheck disable=SC2086,SC2046
  WELDR_PROXY_TLS_PORT=0 java $WELDR_JAVA_OPTS "$@" $(tls_options "$tls") -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port="$port" -Dquarkus.http.port="$admin" \
       -Dweldr.raft.port="$raft" -Dweldr.raft.data-dir="$WORK/$name-data" -jar "$jar" > "$WORK/$name.log" 2>&1 & PIDS+=($!)
  var=$(weldr_var "$name")
  printf -v "${var}_PID" %s $!
  printf -v "${var}_PORT" %s "$port"
  printf -v "${var}_ADMIN" %s "$admin"
  printf -v "${var}_TLS" %s "$tls"
  until started "$name" "$!" "$admin"; do sleep 0.05; done
  for p in $B1 $B2; do curl -s -o /dev/null -d "{\"url\":\"http://127.0.0.1:$p\"}" "http://127.0.0.1:$admin/servers"; done
}
# weldr1: weldr with one event loop, like for like with nginx's one worker and HAProxy's one thread
# (weldr's default is one per core; on 2 cores shared with wrk and the backend, that is 4 busy threads on 2 cores).
case " $TARGETS " in *" weldr1 "*) start_other weldr1 "$JAR" -Dweldr.proxy.event-loops=1 ;; esac
# The same build with each TLS implementation (weldr.tls.provider; weldr's default, auto, takes OpenSSL when it loads).
for provider in openssl jdk; do
  case " $TARGETS " in *" weldr-$provider "*) start_other "weldr-$provider" "$JAR" -Dweldr.tls.provider=$provider ;; esac
done
if [ -n "$BASELINE_JAR" ]; then
  start_other baseline "$BASELINE_JAR"
  TARGETS="$TARGETS baseline"
fi

is_weldr() { case $1 in weldr|weldr1|baseline|weldr-openssl|weldr-jdk) true ;; *) false ;; esac; }
pids_of() {
  case $1 in
    direct) echo "$BACKEND_MASTER $(pgrep -P "$BACKEND_MASTER" | tr '\n' ' ')" ;;
    nginx) echo "$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')" ;;
    haproxy) echo "$HAPROXY_PID" ;;
    nginx-pool) echo "$NPOOL_MASTER $(pgrep -P "$NPOOL_MASTER" | tr '\n' ' ')" ;;
    *) weldr_of "$1" PID ;;
  esac
}
url_of() { # target [case]
  case $1:${2:-} in
    *:tls-*|*:h2-*) tls_port_of "$1" "$(kind_of "$2")" | sed 's|^|https://127.0.0.1:|' ;;
    direct:*) echo "http://127.0.0.1:$B1" ;;
    nginx:*) echo "http://127.0.0.1:$NP" ;;
    haproxy:*) echo "http://127.0.0.1:$HP" ;;
    nginx-pool:*) echo "http://127.0.0.1:$NPP" ;;
    *) echo "http://127.0.0.1:$(weldr_of "$1" PORT)" ;;
  esac
}
kind_of() { # case: the kind of certificate it runs with (HTTP/2 cases: ECDSA)
  case $1 in h2-*) echo h2 ;; *) echo "${1##*-}" ;; esac
}
tls_port_of() { # target kind (ecdsa, rsa, or h2: the ECDSA certificate and HTTP/2): its HTTPS port for it; empty if none
  case $1 in
    nginx) port=NTLS_${2^^}; echo "${!port}" ;;
    direct|haproxy) ;;
    *) weldr_of "$1" TLS ;;
  esac
}
declare -A TLS_NOW   # per weldr target, the kind of certificate it serves now
serve_for() { # target case: before a run, the case's certificate on a weldr target (replaced between ECDSA and RSA cases)
  local kind; kind=$(kind_of "$2"); kind=${kind/h2/ecdsa}
  case $2 in tls-*|h2-*) is_weldr "$1" || return 0 ;; *) return 0 ;; esac
  [ "${TLS_NOW[$1]:-}" = "$kind" ] && return 0
  tls_upload "$(weldr_of "$1" ADMIN)" "$kind"
  tls_await "$(weldr_of "$1" TLS)" "$kind"
  TLS_NOW[$1]=$kind
}
declare -A NO_H2   # targets whose HTTPS listener does not negotiate h2 (found before the rounds)
serves() { # target case: false for an HTTPS case on a target without HTTPS, and an HTTP/2 case on one without h2
  case $2 in
    tls-*) [ -n "$(tls_port_of "$1" "${2##*-}")" ] ;;
    h2-*) [ -n "$(tls_port_of "$1" h2)" ] && [ -z "${NO_H2[$1]:-}" ] ;;
    *) true ;;
  esac
}
ms() { # wrk latency ("812.00us", "1.20ms", "2.01s") to milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
load_args() { # case url -> wrk's (h2load's for h2-*) arguments for that case
  case $1 in
    h2-streams) echo "-t1 -c4 -m100 --npn-list=h2 $2/" ;;
    h2-conns) echo "-t1 -c200 -m1 --npn-list=h2 $2/" ;;
    tls-keepalive-*) echo "-t1 -c50 $2/" ;;
    tls-handshake-*) echo "-t1 -c50 -s $HERE/close.lua $2/" ;;
    keepalive) echo "-t1 -c50 $2/" ;;
    pipeline) echo "-t1 -c50 -s $HERE/pipeline.lua $2/" ;;
    c1000) echo "-t1 -c1000 $2/" ;;
    1mb) echo "-t1 -c10 $2/1mb" ;;
  esac
}
client() { # case seconds arguments...: wrk (for tls-handshake without session resumption), h2load for h2-*
  case $1 in
    tls-handshake-*) LD_PRELOAD="$WORK/noresume.so" wrk --latency -d"$2s" --timeout 5s "${@:3}" ;;
    h2-*) h2load -D "$2" "${@:3}" ;;
    *) wrk --latency -d"$2s" --timeout 5s "${@:3}" ;;
  esac
}
run_case() { # target case -> one TSV row
  local target=$1 case=$2 url args=() out before after
  serve_for "$target" "$case"
  url=$(url_of "$target" "$case")
  read -r -a args <<<"$(load_args "$case" "$url")"
  local pids; pids=$(pids_of "$target")
  local sched_before sched_after
  before=$(cpu_ticks $pids); read -r -a sched_before <<<"$(sched_ns $pids)"
  out=$(client "$case" "$DURATION" "${args[@]}" 2>&1)
  after=$(cpu_ticks $pids); read -r -a sched_after <<<"$(sched_ns $pids)"
  local rps p50 p99 requests errors
  case $case in
    h2-*) # h2load gives no percentiles: "nan" (the table prints "-"); failed counts non-2xx and errored streams
      rps=$(awk '/^finished in/ {print $4}' <<<"$out")
      p50=nan p99=nan
      requests=$(awk '/^requests:/ {print $6}' <<<"$out")
      errors=$(awk '/^requests:/ {print $10 + $14}' <<<"$out") ;;
    *)
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      p50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
      p99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
      requests=$(awk '/requests in/ {print $1}' <<<"$out")
      errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out") ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$case" "$rps" "$p50" "$p99" "$errors" "$requests" \
    "$(awk -v t=$((after - before)) -v k="$TICK" 'BEGIN { printf "%.3f", t / k }')" \
    $(( (sched_after[0] - sched_before[0]) / 1000000 )) $(( (sched_after[1] - sched_before[1]) / 1000000 ))
}

echo "weldr benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $ROUNDS rounds of ${DURATION}s per target and case, interleaved"
echo "weldr: start to /q/health/ready UP in ${READY_MS} ms"
# A JVM compiles its hot paths during its first tens of seconds of load, and on 2 cores the
# compiler threads take CPU from the event loops meanwhile (p99 doubles). A proxy that runs for days
# is measured warm: turns of 8 s of load, shared by the cases, until a turn compiles for under 50 ms
# (jstat's compile time), at most WARMUP seconds.
jit_ms() { jstat -compiler "$1" 2>/dev/null | awk 'NR == 2 { printf "%d", $4 * 1000 }'; }
warm() { # target
  local pid start=$SECONDS before after args=() each
  pid=$(pids_of "$1")
  [ "$WARMUP" -gt 0 ] && [ -n "$CASES" ] || return 0
  for case in $CASES; do serves "$1" "$case" && break; done || return 0   # no case for it (no h2 yet)
  each=$(( 8 / $(wc -w <<<"$CASES") )); [ "$each" -ge 2 ] || each=2
  while :; do
    before=$(jit_ms "$pid")
    for case in $CASES; do
      serves "$1" "$case" || continue
      serve_for "$1" "$case"
      read -r -a args <<<"$(load_args "$case" "$(url_of "$1" "$case")")"
      client "$case" "$each" "${args[@]}" >/dev/null 2>&1 || true
    done
    after=$(jit_ms "$pid")
    if [ -z "$before" ] || [ -z "$after" ]; then echo "$1: warmed for $((SECONDS - start)) s (no jstat: JIT not watched)"; return; fi
    if [ $((after - before)) -lt 50 ] || [ $((SECONDS - start)) -ge "$WARMUP" ]; then
      echo "$1: warm after $((SECONDS - start)) s of load (last turn compiled for $((after - before)) ms)"
      return
    fi
  done
}
if [ -n "$TLS_CASES" ]; then
  # What a client with OpenSSL's defaults negotiates with each, and proof that tls-handshake's client
  # never resumes: nginx logs whether each connection resumed a session ("r") or not (".").
  for target in $TARGETS; do
    if is_weldr "$target"; then
      echo "$target: $(grep -h -o -m 1 'TLS provider: .*' "$WORK/$target.log" || echo "TLS provider: not logged (a build before weldr.tls.provider: the JDK's)")"
    fi
    for kind in ecdsa rsa; do
      port=$(tls_port_of "$target" "$kind"); [ -n "$port" ] || continue
      serve_for "$target" "tls-x-$kind"
      echo "$target, $kind certificate: $(tls_negotiated "$port")"
    done
  done
  # and that each request had a connection of its own ($connection_requests 1).
  client tls-handshake-ecdsa 1 -t1 -c4 -s "$HERE/close.lua" "https://127.0.0.1:$NTLS_CHECK/" >/dev/null
  read -r requests resumed reused < <(awk '{ n++; r += $1 == "r"; k += $2 != 1 } END { print n + 0, r + 0, k + 0 }' "$WORK/nginx/resumed.log")
  echo "tls-handshake's client, checked against nginx: $requests requests, $resumed resumed a session, $reused shared a connection"
  [ "$requests" -gt 0 ] && [ "$resumed" = 0 ] && [ "$reused" = 0 ] ||
    { echo "bench: tls-handshake's client does not make a full handshake per request" >&2; exit 1; }
fi
if [ -n "$H2_CASES" ]; then
  # What each HTTPS listener picks when offered h2 and http/1.1 (h2load prints the protocol ALPN chose):
  # a target that does not pick h2 is left out of the HTTP/2 cases rather than measured in HTTP/1.1.
  for target in $TARGETS; do
    port=$(tls_port_of "$target" h2); [ -n "$port" ] || continue
    serve_for "$target" h2-probe
    proto=$(h2load -n 1 -c 1 "https://127.0.0.1:$port/" 2>&1 | awk -F': ' '/^Application protocol:/ { print $2 }')
    if [ "$proto" = h2 ]; then
      echo "$target: negotiates h2"
    else
      NO_H2[$target]=1
      echo "$target: no h2 yet, skipped (ALPN offered h2 and http/1.1, it chose ${proto:-none})"
    fi
  done
fi
for target in $TARGETS; do
  if is_weldr "$target"; then warm "$target"; fi
done
: > "$WORK/rows.tsv"
for round in $(seq "$ROUNDS"); do
  for case in $CASES; do
    for target in $TARGETS; do
      serves "$target" "$case" || continue
      run_case "$target" "$case" >> "$WORK/rows.tsv"
    done
  done
  echo "round $round done"
done
python3 "$HERE/summarize.py" "$WORK/rows.tsv"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }
echo "weldr resident memory after the run: $(rss "$WELDR_PID"); after 20 s at rest: $(sleep 20; rss "$WELDR_PID")"

# ---- the cost per request with a larger pool, and the time to fill it ----
echo
start_pool_nginx() { # size: nginx (1 worker) in front of the same servers, one idle connection kept per server
  NPP=$(freeport); mkdir -p "$WORK/npool"
  {
    echo "worker_processes 1; daemon off; pid $WORK/npool/nginx.pid; error_log $WORK/npool/error.log warn;"
    echo "worker_rlimit_nofile 19000; events { worker_connections 19000; }"
    echo "http { access_log off; keepalive_requests 1000000; upstream pool {"
    python3 -c "
import sys
for i in range(int(sys.argv[1])):
    print('  server 127.%d.%d.%d:%s;' % (1 + i // 65025, (i // 255) % 255, 1 + i % 255, sys.argv[2]))" "$1" "$B1"
    echo "  keepalive $(( $1 + 64 )); keepalive_requests 1000000; }"
    echo "  server { listen 127.0.0.1:$NPP backlog=4096;"
    echo "    location / { proxy_pass http://pool; proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
  } > "$WORK/npool/nginx.conf"
  nginx -c "$WORK/npool/nginx.conf" -e "$WORK/npool/error.log" & PIDS+=($!)
  NPOOL_MASTER=$!
  wait_http "http://127.0.0.1:$NPP/" 20
}
pool_row() { # label size add-ms row
  awk -F'\t' -v who="$1" -v size="$2" -v add="$3" '{ printf "  %-7s %6d servers: %8.0f requests/s, %6.1f us CPU/request, %d errors%s\n", who, size, $3, $8 / ($7 > 0 ? $7 : 1) * 1e6, $6, add == "" ? "" : ", added in " add " ms (16 clients)" }' <<<"$4"
}

echo "pool size: keep-alive throughput and CPU per request, weldr (and weldr1: one event loop) and nginx (1 worker)"
echo "in front of the same servers, round-robin (every 127.x.y.z reaches the backend)"
empty_pool() { # admin port: removes every server (their cached connections close at once)
  curl -s "http://127.0.0.1:$1/servers" | python3 -c '
import json, sys, urllib.request
for s in json.load(sys.stdin)["servers"]:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:'"$1"'/servers/%s/%d" % (s["host"], s["port"]), method="DELETE"))'
}
fill_pool() { # admin port, size: adds 127.x.y.z:B1 servers one by one (16 clients)
  python3 - "$1" "$B1" "$2" <<'PY'
import concurrent.futures, json, sys, urllib.request
admin, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def add(i):
    host = "127.%d.%d.%d" % (1 + i // 65025, (i // 255) % 255, 1 + i % 255)
    body = json.dumps({"url": "http://%s:%d" % (host, port)}).encode()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/servers" % admin, data=body,
                                                  headers={"Content-Type": "application/json"})).read()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(add, range(size)))
PY
}
POOL_WELDRS=weldr
case " $TARGETS " in *" weldr1 "*) POOL_WELDRS="weldr weldr1" ;; esac
for size in $POOL_SIZES; do
  for target in $POOL_WELDRS; do
    admin=$WA; [ "$target" = weldr1 ] && admin=$WELDR1_ADMIN
    empty_pool "$admin"
    t0=$(date +%s%N)
    fill_pool "$admin" "$size"
    add_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    # One unmeasured pass first, so that every server has its pooled connections (as in steady state).
    wrk -t1 -c50 -d"${DURATION}s" "$(url_of "$target")/" >/dev/null 2>&1
    row=$(run_case "$target" keepalive)
    pool_row "$target" "$size" "$add_ms" "$row"
    # The next target's connections to the same backend must fit in its descriptors.
    empty_pool "$admin"
  done
  start_pool_nginx "$size"
  wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$NPP/" >/dev/null 2>&1
  row=$(run_case nginx-pool keepalive)
  pool_row nginx "$size" "" "$row"
  kill "$NPOOL_MASTER"; wait "$NPOOL_MASTER" 2>/dev/null || true
done
echo "weldr resident memory at the end: $(rss "$WELDR_PID"); after 20 s at rest: $(sleep 20; rss "$WELDR_PID")"
