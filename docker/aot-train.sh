#!/bin/sh
# Writes weldr's JDK AOT cache (JEP 483, 514, 515) into the image, at build time: the classes a
# start loads and links, and the method profiles of a start and of some proxied traffic, so that a
# container starts sooner and its JIT compiles the proxy sooner. Run by docker/Dockerfile.jvm as
# root, before USER; the entrypoint uses the cache when it exists.
#
# A cache is only valid for the JVM that wrote it, with the same class path: it is trained here,
# in the image, on /opt/weldr/quarkus-run.jar. With a Java older than 25 (no AOT cache) it
# writes nothing and says so: the image works as before.
#
# The training run: weldr with JAVA_OPTS and a fresh data directory, its listeners on 127.0.0.1
# and free ports; once it is leader, its own admin API is added as the default pool's server and
# TRAIN_REQUESTS (2000) requests go through the proxy to it (bash's /dev/tcp: no other client is
# needed in the image); then SIGTERM, on which the JVM writes the cache. The build fails (with the
# end of weldr's log) when no request could be proxied, the JVM died, or it did not stop within
# 120 s: a cache without the traffic's profiles is not the one the image promises. Every wait is
# bounded. Nothing leaves the build container.
set -eu
app=${WELDR_HOME:-/opt/weldr}
cache=$app/weldr.aot
requests=${TRAIN_REQUESTS:-2000}

# Java 24 has -XX:AOTMode but writes a cache only in two steps: the one-step AOTCacheOutput is 25's.
if ! java -XX:+PrintFlagsFinal -version 2>/dev/null | grep -q AOTCacheOutput; then
    echo "aot-train: $(java -version 2>&1 | head -n 1): this Java has no AOT cache (Java 25 has), so the image has none"
    exit 0
fi
work=$(mktemp -d)
pid=
fail() { # message -> the end of weldr's log and the message, exit 1
    tail -n 20 "$work/weldr.log"
    echo "aot-train: $1" >&2
    exit 1
}
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2086
java ${JAVA_OPTS:-} -XX:AOTCacheOutput="$cache" \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port=0 -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port=0 \
    -Dweldr.proxy.tls-port=0 -Dweldr.raft.port=0 -Dweldr.raft.data-dir="$work/data" \
    -jar "$app/quarkus-run.jar" >"$work/weldr.log" 2>&1 &
pid=$!

port_in_log() { # pattern -> the port the first line matching it names
    sed -n "s|.*$1[^0-9]*127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p" "$work/weldr.log" | head -n 1
}
admin= proxy= waited=0
while [ -z "$admin" ] || [ -z "$proxy" ]; do
    kill -0 "$pid" 2>/dev/null || fail "weldr stopped during the training run"
    [ "$waited" -lt 600 ] || fail "weldr not listening after 300 s"
    sleep 0.5
    waited=$((waited + 1))
    admin=$(port_in_log "Listening on: http://")
    proxy=$(port_in_log "proxy listening on")
done

command -v bash >/dev/null 2>&1 || fail "no bash in the image, so no traffic to train the cache on"
# shellcheck disable=SC2016
if ! ADMIN=$admin PROXY=$proxy REQUESTS=$requests bash -c '
        exchange() { # port request (a printf format) -> the status line of the answer; 10 s at most per line
            exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
            printf "$2" >&3
            local status line
            IFS= read -r -t 10 status <&3 || true
            while IFS= read -r -t 10 line <&3; do :; done
            exec 3<&-
            printf "%s\n" "$status"
        }
        body="{\"url\":\"http://127.0.0.1:$ADMIN\"}"
        add="POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${#body}\r\nConnection: close\r\n\r\n$body"
        for _ in $(seq 600); do
            case $(exchange "$ADMIN" "$add") in *" 201"*) break ;; esac
            sleep 0.5
        done
        get="GET /q/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        ok=0
        for _ in $(seq "$REQUESTS"); do
            case $(exchange "$PROXY" "$get") in *" 200"*) ok=$((ok + 1)) ;; esac
        done
        echo "aot-train: $ok of $REQUESTS requests proxied during the training run"
        [ "$ok" -gt 0 ]
    '; then
    fail "no request was proxied during the training run"
fi

kill -TERM "$pid" 2>/dev/null || fail "weldr died before the end of the training run"
waited=0
while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 240 ]; then
        kill -9 "$pid" 2>/dev/null || true
        pid=
        fail "weldr did not stop within 120 s of SIGTERM"
    fi
    sleep 0.5
    waited=$((waited + 1))
done
wait "$pid" || true
pid=
[ -s "$cache" ] || fail "the JVM wrote no AOT cache"
chmod 0644 "$cache"
echo "aot-train: $(grep -h "AOTCache creation is complete" "$work/weldr.log" || echo "wrote $cache")"
