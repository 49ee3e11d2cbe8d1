# Shared by the bench scripts: a work directory, the processes started (ended by PID on exit), free
# ports; and, for profile.sh and coldstart.sh, one nginx backend with one weldr in front of it.
WORK=$(mktemp -d "/tmp/weldr-${BENCH_NAME:-bench}.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${WELDR_JAR:-"$ROOT/target/quarkus-app/quarkus-run.jar"}   # WELDR_JAR: another build of weldr to measure
needs() { # tool...: one line and exit 1 when one is missing
  local tool
  for tool; do command -v "$tool" >/dev/null || { echo "${BENCH_NAME:-bench}: needs $tool" >&2; exit 1; }; done
}
weldr_jar() { # packages weldr when its jar is missing
  [ -f "$JAR" ] || (cd "$ROOT" && ./mvnw -B -q package -DskipTests)
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

one_backend() { # starts nginx (1 worker) answering 13 bytes on a free loopback port: sets B
  B=$(freeport)
  cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$B; location / { default_type text/plain; return 200 "hello world!\n"; } }
}
EOF
  nginx -c "$WORK/nginx.conf" -e "$WORK/error.log" & PIDS+=($!)
}
weldr_in_front() { # jar [java options...]: starts weldr with its defaults, waits until ready, adds B; sets WP, WA, WELDR_PID
  # (WELDR_NAME, default weldr, names its data directory and log, so that several can run side by side)
  local jar=$1 raft name=${WELDR_NAME:-weldr}; shift
  WP=$(freeport); WA=$(freeport); raft=$(freeport)
  WELDR_PROXY_TLS_PORT=0 java "$@" -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port="$WP" -Dquarkus.http.port="$WA" -Dweldr.raft.port="$raft" \
    -Dweldr.raft.data-dir="$WORK/data-$name" -jar "$jar" > "$WORK/$name.log" 2>&1 & PIDS+=($!)
  WELDR_PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WA/q/health/ready")" = 200 ]; do sleep 0.05; done
  curl -s -o /dev/null -d "{\"url\":\"http://127.0.0.1:$B\"}" "http://127.0.0.1:$WA/servers"
}
