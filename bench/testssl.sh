#!/usr/bin/env bash
# testssl.sh against weldr's HTTPS listener and against nginx with Mozilla's intermediate profile
# (bench/tls.sh's settings plus its HSTS header), the same certificate, both in front of the same
# backend; then the findings side by side by severity, and every finding where weldr's severity is
# worse than nginx's for the same check. Exits 1 when there is one. Loopback only: testssl gets the
# address (--ip) and makes no DNS look-up (--nodns none), and trusts the run's own CA (--add-ca), so
# it fetches no CRL or OCSP answer (it would only with --phone-out). Stops what it starts (by PID).
#
#   bench/testssl.sh                  # ECDSA P-256 and RSA 2048 certificates
#   KINDS=rsa bench/testssl.sh
#   WELDR_JAR=/elsewhere/quarkus-run.jar WELDR_JAVA_OPTS=-Dweldr.tls.provider=jdk bench/testssl.sh
set -euo pipefail
KINDS=${KINDS:-"ecdsa rsa"}
WELDR_JAVA_OPTS=${WELDR_JAVA_OPTS:-}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_NAME=testssl
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
# shellcheck source=bench/tls.sh
. "$HERE/tls.sh"
TESTSSL=$(command -v testssl || command -v testssl.sh || true)   # Debian's package installs it as testssl
[ -n "$TESTSSL" ] || { echo "testssl: needs testssl.sh (apt-get install testssl.sh)" >&2; exit 1; }
needs nginx openssl python3 curl
weldr_jar
tls_certs
one_backend

# nginx: one server per certificate, Mozilla's intermediate profile including its HSTS header.
mkdir -p "$WORK/proxy"
{
  echo "worker_processes 1; daemon off; pid $WORK/proxy/nginx.pid; error_log $WORK/proxy/error.log warn;"
  echo "events { worker_connections 1024; }"
  echo "http { access_log off;"
  for kind in $KINDS; do
    port=$(freeport); printf -v "NGINX_${kind^^}" %s "$port"
    echo "  server { listen 127.0.0.1:$port ssl; server_name $TLS_NAME;"
    nginx_tls "$kind"
    echo "    add_header Strict-Transport-Security \"max-age=63072000\" always;"
    echo "    location / { proxy_pass http://127.0.0.1:$B; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  done
  echo "}"
} > "$WORK/proxy/nginx.conf"
nginx -c "$WORK/proxy/nginx.conf" -e "$WORK/proxy/error.log" & PIDS+=($!)

# weldr, one per certificate, with it as the default certificate: nginx's only server answers a
# client that sends no server name too, and testssl's renegotiation checks send none (without a
# default weldr refuses them, and testssl reports those checks as not done).
for kind in $KINDS; do
  tls=$(freeport)
  # shellcheck disable=SC2086
  WELDR_NAME=weldr-$kind weldr_in_front "$JAR" $WELDR_JAVA_OPTS -Dweldr.proxy.tls-port="$tls" -Dweldr.tls.default-certificate=bench
  tls_upload "$WA" "$kind"
  # nginx's profile sends HSTS; weldr sends it for a route that asks, so every path asks here.
  code=$(curl -s -o "$WORK/route.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    -d '{"pathPrefix": "/", "pool": "default", "hsts": {"maxAge": 63072000}}' "http://127.0.0.1:$WA/routes/all")
  [ "$code" = 200 ] || { echo "testssl: PUT /routes/all answered $code: $(cat "$WORK/route.out")" >&2; exit 1; }
  printf -v "WELDR_${kind^^}" %s "$tls"
done

scan() { # name port: testssl's JSON in $WORK/name.json, its text in name.txt
  "$TESTSSL" --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 --add-ca "$WORK/tls/ca.pem" \
    --connect-timeout 10 --openssl-timeout 10 --jsonfile "$WORK/$1.json" "$TLS_NAME:$2" > "$WORK/$1.txt" 2>&1 || true
}
echo "$("$TESTSSL" --version 2>/dev/null | grep -o 'testssl.sh *[0-9][^ ]*' | head -n 1 || echo testssl), $(date -u +%Y-%m-%d)"
echo "$TESTSSL --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 --add-ca ca.pem --jsonfile <file> $TLS_NAME:<port>"
for kind in $KINDS; do
  w=WELDR_${kind^^} n=NGINX_${kind^^}
  tls_await "${!n}" "$kind"
  tls_await "${!w}" "$kind"
  scan "nginx-$kind" "${!n}" & nginx_scan=$!
  scan "weldr-$kind" "${!w}" & weldr_scan=$!
  wait "$nginx_scan" "$weldr_scan"
  for name in "nginx-$kind" "weldr-$kind"; do
    [ -s "$WORK/$name.json" ] || { echo "testssl: no result for $name:" >&2; tail -n 5 "$WORK/$name.txt" >&2; exit 1; }
  done
done

worse=0
for kind in $KINDS; do
  python3 - "$WORK/weldr-$kind.json" "$WORK/nginx-$kind.json" "$kind" <<'PY' || worse=1
import json, sys
from collections import Counter

ORDER = ["OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]   # testssl's severities, mildest first
def load(path):
    return {f["id"]: f for f in json.load(open(path)) if f.get("severity") in ORDER + ["WARN"]}
weldr, nginx = load(sys.argv[1]), load(sys.argv[2])
rank = lambda f: ORDER.index(f["severity"]) if f and f["severity"] in ORDER else -1
print()
print("%s certificate: findings by severity (testssl's checks; WARN: a check it could not finish)" % sys.argv[3])
print("%-10s %6s %6s" % ("severity", "weldr", "nginx"))
cw, cn = Counter(f["severity"] for f in weldr.values()), Counter(f["severity"] for f in nginx.values())
for s in reversed(ORDER + ["WARN"]):
    print("%-10s %6d %6d" % (s, cw[s], cn[s]))
def show(title, rows):
    print(title if rows else title + " none")
    for i in rows:
        for who, f in (("weldr", weldr.get(i)), ("nginx", nginx.get(i))):
            print("  %-28s %-5s %-8s %s" % (i, who, f["severity"] if f else "-", f["finding"] if f else "(not reported)"))
low = ORDER.index("LOW")
show("every finding LOW or worse, either side:",
     sorted(set(i for i, f in weldr.items() if rank(f) >= low) | set(i for i, f in nginx.items() if rank(f) >= low)))
worse = sorted(i for i, f in weldr.items() if rank(f) >= low and rank(f) > rank(nginx.get(i)))
show("worse for weldr than for nginx:", worse)
show("a check that could not finish (WARN):", sorted(i for i in set(weldr) | set(nginx)
     if (weldr.get(i) or {}).get("severity") == "WARN" or (nginx.get(i) or {}).get("severity") == "WARN"))
sys.exit(1 if worse else 0)
PY
done
[ "$worse" = 0 ] && echo && echo "weldr: no finding worse than nginx's"
exit "$worse"
