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
# needed in the image; without bash, only the start is trained); then SIGTERM, on which the JVM
# writes the cache. Nothing leaves the build container.
set -eu
app=${WELDR_HOME:-/opt/weldr}
cache=$app/weldr.aot
requests=${TRAIN_REQUESTS:-2000}

if ! java -XX:AOTMode=off -version >/dev/null 2>&1; then
    echo "aot-train: $(java -version 2>&1 | head -n 1): this Java has no AOT cache (Java 25 has), so the image has none"
    exit 0
fi
work=$(mktemp -d)
pid=
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
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/weldr.log"; echo "aot-train: weldr stopped during the training run" >&2; exit 1; }
    [ "$waited" -lt 600 ] || { tail -n 20 "$work/weldr.log"; echo "aot-train: weldr not listening after 300 s" >&2; exit 1; }
    sleep 0.5
    waited=$((waited + 1))
    admin=$(port_in_log "Listening on: http://")
    proxy=$(port_in_log "proxy listening on")
done

if command -v bash >/dev/null 2>&1; then
    # shellcheck disable=SC2016
    ADMIN=$admin PROXY=$proxy REQUESTS=$requests bash -c '
        exchange() { # port request (a printf format) -> the status line of the answer
            exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
            printf "$2" >&3
            local status
            IFS= read -r status <&3 || true
            cat <&3 >/dev/null
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
    '
else
    echo "aot-train: no bash in the image: the cache holds the start only"
fi

kill -TERM "$pid"
wait "$pid" || true
pid=
if [ ! -s "$cache" ]; then
    tail -n 20 "$work/weldr.log"
    echo "aot-train: the JVM wrote no AOT cache" >&2
    exit 1
fi
chmod 0644 "$cache"
echo "aot-train: $(grep -h "AOTCache creation is complete" "$work/weldr.log" || echo "wrote $cache")"
