#!/usr/bin/env bash
# Builds the JVM image (docker/Dockerfile.jvm) with podman and checks it end to end:
#
#   sudo docker/test-image.sh        # from anywhere; as root
#
# 1. Installs podman, runc and debootstrap with apt-get if they are missing.
# 2. Makes a base image locally, once per machine (it is kept, and reused by later runs):
#    debootstrap --variant=minbase bookworm, imported into podman, plus Debian's
#    openjdk-17-jre-headless. No registry is needed.
# 3. Packages the application (./mvnw -B package -DskipTests) and builds the image from
#    docker/Dockerfile.jvm with that base image as BASE_IMAGE.
# 4. Runs it as Kubernetes would (read-only root file system, writable /tmp, every capability
#    dropped, no new privileges) with --network host on free ports, and checks that it becomes
#    ready, runs as a non-root user, enforces its token, proxies a request to a backend added
#    through the admin API, refuses to start without a token (one line, non-zero exit code),
#    and that a new container started on the same volume after the first one is removed still
#    has the pool.
# 5. Runs three members the way k8s/statefulset.yaml configures them: each one's Raft host is a
#    stable DNS name (weldr-N.weldr-raft.<ns>.svc.cluster.local, here resolved to 127.0.0.1
#    with --add-host; the ports differ, as they share the host's network) and the peers are the
#    three names. Only the leader is ready (what the proxy Service routes on), a write sent to a
#    follower is forwarded to the leader by name, every member has it, the leader proxies; when
#    the leader is stopped, another member becomes the only ready one.
#
# Every request goes to 127.0.0.1. Everything the run makes (containers, the volume, the weldr
# image, the backend process, temporary files) is removed by name or id when it ends, whether
# it passed or not; only the cached base image stays.
#
# Environment:
#   WELDR_BASE_IMAGE    use this base image instead of making one (any image with java 17+)
#   WELDR_SKIP_PACKAGE  set to 1 to use the existing target/quarkus-app instead of packaging
#   WELDR_KEEP_IMAGE    set to 1 to keep the weldr image that was built (its name is printed)
#   DEBIAN_MIRROR       the Debian archive the base image is made from; default: the one this
#                       machine's apt sources use (docker/debian-mirror.sh), else
#                       http://deb.debian.org/debian
#   DEBIAN_SECURITY_MIRROR  the same for the security archive (else http://deb.debian.org/debian-security)
# An HTTP proxy set for apt (Acquire::http::Proxy) is used too, unless http_proxy is set.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
BASE_IMAGE_DEFAULT=localhost/weldr-base:bookworm-jre17-v1
. docker/debian-mirror.sh
choose_mirrors
# debootstrap's downloads and podman build (which passes the proxy variables on) go the way apt's do.
if [[ -z ${http_proxy:-} ]] && command -v apt-config >/dev/null; then
    APT_PROXY=
    eval "$(apt-config shell APT_PROXY Acquire::http::Proxy)"
    if [[ -n $APT_PROXY && $APT_PROXY != DIRECT ]]; then
        export http_proxy=$APT_PROXY
    fi
fi
RUN_ID="weldr-test-$$-$(date +%s)"
IMAGE="localhost/${RUN_ID}:jvm"
VOLUME="${RUN_ID}-data"
CONTAINERS=("${RUN_ID}-a" "${RUN_ID}-b" "${RUN_ID}-notoken" "${RUN_ID}-m0" "${RUN_ID}-m1" "${RUN_ID}-m2")
MEMBER_VOLUMES=("${RUN_ID}-m0-data" "${RUN_ID}-m1-data" "${RUN_ID}-m2-data")
TOKEN="t-$RANDOM$RANDOM$RANDOM"
WORK=$(mktemp -d "/tmp/${RUN_ID}.XXXXXX")
BACKEND_PID=
BUILT_IMAGE=0
PASSED=0
FAILED=0
START=$(date +%s)

log() { printf '%s [%3ss] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - START))" "$*"; }

# podman as it works here: runc (crun fails on this kernel) and cgroupfs. Rootful podman raises
# the open-files and process limits of a container far above what this machine lets runc set,
# so both are given, at most the shell's own hard limits.
pm() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }
cap() { if [[ $1 == unlimited ]] || (($1 > $2)); then echo "$2"; else echo "$1"; fi; }
NOFILE=$(cap "$(ulimit -Hn)" 20000)
NPROC=$(cap "$(ulimit -Hu)" 8192)
ULIMITS=(--ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=$NPROC:$NPROC")

cleanup() {
    local rc=$?
    set +e
    for c in "${CONTAINERS[@]}"; do
        pm container exists "$c" 2>/dev/null && pm rm -f -v -t 5 "$c" >/dev/null
    done
    for v in "$VOLUME" "${MEMBER_VOLUMES[@]}"; do
        pm volume exists "$v" 2>/dev/null && pm volume rm -f "$v" >/dev/null
    done
    if [[ $BUILT_IMAGE == 1 && ${WELDR_KEEP_IMAGE:-0} != 1 ]]; then
        pm image exists "$IMAGE" 2>/dev/null && pm rmi -f "$IMAGE" >/dev/null
    fi
    [[ -n $BACKEND_PID ]] && kill "$BACKEND_PID" 2>/dev/null && wait "$BACKEND_PID" 2>/dev/null
    rm -rf "$WORK"
    log "cleaned up (containers, volumes$([[ ${WELDR_KEEP_IMAGE:-0} == 1 ]] || echo ", image $IMAGE"))"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASSED=$((PASSED + 1)); log "ok   $*"; }
fail() {
    FAILED=$((FAILED + 1))
    log "FAIL $*"
    echo "image test: $PASSED passed, $FAILED failed"
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Tools
if [[ $(id -u) != 0 ]]; then
    echo "docker/test-image.sh runs rootful podman and may install packages: run it as root" >&2
    exit 2
fi
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# Base image: made once per machine, under a lock so that two runs do not both make it.
make_base() {
    local root="$WORK/rootfs" ctx="$WORK/base" stage="localhost/${RUN_ID}-rootfs:bookworm"
    # minbase has no CA certificates, which apt in the image needs for an https mirror
    local include=()
    if [[ $MIRROR == https:* || $SECURITY_MIRROR == https:* ]]; then
        include=(--include=ca-certificates)
    fi
    log "making the base image $BASE_IMAGE_DEFAULT (once per machine): debootstrap bookworm from $MIRROR, security from $SECURITY_MIRROR"
    debootstrap --variant=minbase "${include[@]}" bookworm "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    tar -C "$root" -c . | pm import - "$stage" >/dev/null
    rm -rf "$root"
    mkdir -p "$ctx"
    cat >"$ctx/Containerfile" <<EOF
FROM $stage
RUN printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' '$MIRROR' '$MIRROR' '$SECURITY_MIRROR' > /etc/apt/sources.list \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
EOF
    if ! pm build --network host --pull=never --layers=false -t "$BASE_IMAGE_DEFAULT" "$ctx" >"$WORK/base.log" 2>&1; then
        tail -20 "$WORK/base.log"
        pm rmi -f "$stage" >/dev/null 2>&1
        fail "building the base image"
    fi
    pm rmi -f "$stage" >/dev/null
    log "base image $BASE_IMAGE_DEFAULT made"
}

if [[ -n ${WELDR_BASE_IMAGE:-} ]]; then
    BASE_IMAGE=$WELDR_BASE_IMAGE
else
    BASE_IMAGE=$BASE_IMAGE_DEFAULT
    exec 9>/var/lock/weldr-base-image.lock
    flock 9
    pm image exists "$BASE_IMAGE" || make_base
    flock -u 9
fi
log "base image: $BASE_IMAGE"

# ---------------------------------------------------------------------------------------------
# Application and image
if [[ ${WELDR_SKIP_PACKAGE:-0} != 1 ]]; then
    log "packaging: ./mvnw -B package -DskipTests"
    ./mvnw -B -q package -DskipTests >"$WORK/package.log" 2>&1 || { tail -40 "$WORK/package.log"; fail "packaging"; }
fi
[[ -f target/quarkus-app/quarkus-run.jar ]] || fail "target/quarkus-app/quarkus-run.jar is missing"

log "building $IMAGE from docker/Dockerfile.jvm"
BUILT_IMAGE=1
pm build --pull=never --layers=false --build-arg "BASE_IMAGE=$BASE_IMAGE" -f docker/Dockerfile.jvm -t "$IMAGE" . \
    >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail "podman build -f docker/Dockerfile.jvm"; }
pass "image built from docker/Dockerfile.jvm on $BASE_IMAGE ($(pm image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"

user=$(pm image inspect -f '{{.Config.User}}' "$IMAGE")
[[ -n $user && $user != 0 && $user != root ]] || fail "the image's USER is '$user', not a non-root user"
ports=$(pm image inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE")
for p in 8080/tcp 8443/tcp 8687/tcp 8688/tcp; do
    [[ " $ports " == *" $p "* ]] || fail "the image does not expose $p (it exposes: $ports)"
done
pm image inspect -f '{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}' "$IMAGE" | grep -qw /data \
    || fail "the image has no /data volume"
pass "image metadata: USER $user, EXPOSE $ports, VOLUME /data"

# ---------------------------------------------------------------------------------------------
# Free ports on this host (the containers share its network), and a backend on 127.0.0.1
read -r PROXY ADMIN RAFT BACKEND R0 R1 R2 A0 A1 A2 P0 P1 P2 <<<"$(python3 -c '
import socket
ss = [socket.socket() for _ in range(13)]
for s in ss:
    s.bind(("", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss:
    s.close()')"
mkdir -p "$WORK/www"
MARK="hello from backend $RUN_ID"
echo "$MARK" >"$WORK/www/hello.txt"
python3 -m http.server "$BACKEND" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/backend.log" 2>&1 &
BACKEND_PID=$!
for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$BACKEND/hello.txt" && break
    sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$BACKEND/hello.txt" || fail "the test backend did not start"
log "ports: proxy $PROXY, admin $ADMIN, raft $RAFT, backend $BACKEND"

pm volume create "$VOLUME" >/dev/null

# Run like the Kubernetes manifests do: read-only root, /tmp writable (and executable: RocksDB
# loads its native library from there), no capabilities, no privilege escalation.
run_node() {
    pm run -d --name "$1" --network host \
        --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,exec,nosuid,nodev,size=256m \
        --cap-drop ALL --security-opt no-new-privileges \
        "${ULIMITS[@]}" \
        -v "$VOLUME:/data" \
        -e WELDR_ADMIN_TOKEN="$TOKEN" \
        -e WELDR_PROXY_PORT="$PROXY" -e WELDR_PROXY_TLS_PORT=0 -e QUARKUS_HTTP_PORT="$ADMIN" -e WELDR_RAFT_PORT="$RAFT" \
        "$IMAGE" >/dev/null
}

# Sets TOOK to the seconds it took.
wait_ready() {
    local c=$1 t0 code
    t0=$(date +%s)
    while true; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/q/health/ready" || true)
        [[ $code == 200 ]] && break
        if [[ $(pm container inspect -f '{{.State.Running}}' "$c") != true ]]; then
            pm logs "$c" | tail -30
            fail "container $c stopped before it became ready"
        fi
        if (($(date +%s) - t0 > 90)); then
            pm logs "$c" | tail -30
            fail "container $c not ready after 90 s (last /q/health/ready answer: $code)"
        fi
        sleep 0.25
    done
    TOOK=$(($(date +%s) - t0))
}

auth=(-H "Authorization: Bearer $TOKEN")

# ---------------------------------------------------------------------------------------------
log "starting ${CONTAINERS[0]}"
run_node "${CONTAINERS[0]}"
wait_ready "${CONTAINERS[0]}"
pass "ready (/q/health/ready 200) ${TOOK}s after podman run"

uid=$(pm exec "${CONTAINERS[0]}" id -u)
[[ $uid != 0 ]] || fail "weldr runs as root in the container"
pass "runs as uid $uid"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/servers")
[[ $code == 401 ]] || fail "GET /servers without the token answered $code, not 401"
pass "the admin API needs the token (401 without it)"

code=$(curl -s -o "$WORK/post.json" -w '%{http_code}' "${auth[@]}" -d "{\"url\":\"http://127.0.0.1:$BACKEND\"}" \
    "http://127.0.0.1:$ADMIN/servers")
[[ $code == 201 ]] || fail "POST /servers answered $code: $(cat "$WORK/post.json")"
body=$(curl -s "http://127.0.0.1:$PROXY/hello.txt")
[[ $body == "$MARK" ]] || fail "the proxy answered '$body', not the backend's '$MARK'"
pass "POST /servers 201, and the proxy on $PROXY answers with the backend's body"

pm exec "${CONTAINERS[0]}" test -f /data/cluster-id || fail "no /data/cluster-id: the pool is not in the volume"

log "stopping and removing ${CONTAINERS[0]} (SIGTERM)"
pm stop -t 30 "${CONTAINERS[0]}" >/dev/null
exit_code=$(pm container inspect -f '{{.State.ExitCode}}' "${CONTAINERS[0]}")
pm rm -v "${CONTAINERS[0]}" >/dev/null
# 143 is the JVM's own exit on SIGTERM (128 + 15) after its shutdown hooks; 137 would mean
# podman had to SIGKILL it.
[[ $exit_code == 0 || $exit_code == 143 ]] || fail "exit code $exit_code after SIGTERM, not a graceful stop"
pass "stopped on SIGTERM (exit code $exit_code), container removed"

# ---------------------------------------------------------------------------------------------
# No token: one line, non-zero exit code.
set +e
out=$(timeout 90 podman --runtime runc --cgroup-manager cgroupfs run --name "${CONTAINERS[2]}" --network host "${ULIMITS[@]}" \
    -e WELDR_PROXY_PORT="$PROXY" -e WELDR_PROXY_TLS_PORT=0 -e QUARKUS_HTTP_PORT="$ADMIN" -e WELDR_RAFT_PORT="$RAFT" \
    -e WELDR_RAFT_DATA_DIR=/tmp/data "$IMAGE" 2>&1)
rc=$?
set -e
pm rm -f -v "${CONTAINERS[2]}" >/dev/null 2>&1 || true
lines=$(printf '%s\n' "$out" | grep -c '')
[[ $rc != 0 && $rc != 124 ]] || fail "without a token the container exited with $rc; output: $out"
[[ $lines == 1 ]] || fail "without a token the container printed $lines lines, not one: $out"
[[ $out == "weldr: invalid configuration: weldr.admin.token: "* ]] || fail "unexpected refusal line: $out"
pass "without WELDR_ADMIN_TOKEN: exit code $rc, one line: $out"

# ---------------------------------------------------------------------------------------------
log "starting ${CONTAINERS[1]} on the same volume"
run_node "${CONTAINERS[1]}"
wait_ready "${CONTAINERS[1]}"
servers=$(curl -s "${auth[@]}" "http://127.0.0.1:$ADMIN/servers")
[[ $servers == *"\"url\":\"http://127.0.0.1:$BACKEND\""* ]] || fail "the pool is gone after the restart: $servers"
body=$(curl -s "http://127.0.0.1:$PROXY/hello.txt")
[[ $body == "$MARK" ]] || fail "after the restart the proxy answered '$body'"
pass "a new container on the same volume is ready in ${TOOK}s, still has the server, and proxies to it"

pm stop -t 30 "${CONTAINERS[1]}" >/dev/null
pm rm -v "${CONTAINERS[1]}" >/dev/null

# ---------------------------------------------------------------------------------------------
# Three members, named as in the StatefulSet.
DOMAIN=weldr-raft.weldr-test.svc.cluster.local
RAFT_PORTS=("$R0" "$R1" "$R2")
ADMIN_PORTS=("$A0" "$A1" "$A2")
PROXY_PORTS=("$P0" "$P1" "$P2")
PEERS="weldr-0.$DOMAIN:$R0,weldr-1.$DOMAIN:$R1,weldr-2.$DOMAIN:$R2"
hosts=()
for i in 0 1 2; do
    hosts+=(--add-host "weldr-$i.$DOMAIN:127.0.0.1")
done
log "starting three members: $PEERS"
for i in 0 1 2; do
    pm volume create "${MEMBER_VOLUMES[$i]}" >/dev/null
    pm run -d --name "${CONTAINERS[$((3 + i))]}" --network host "${hosts[@]}" \
        --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,exec,nosuid,nodev,size=256m \
        --cap-drop ALL --security-opt no-new-privileges "${ULIMITS[@]}" \
        -v "${MEMBER_VOLUMES[$i]}:/data" \
        -e WELDR_ADMIN_TOKEN="$TOKEN" \
        -e WELDR_RAFT_HOST="weldr-$i.$DOMAIN" -e WELDR_RAFT_PORT="${RAFT_PORTS[$i]}" -e WELDR_RAFT_PEERS="$PEERS" \
        -e QUARKUS_HTTP_PORT="${ADMIN_PORTS[$i]}" -e WELDR_PROXY_PORT="${PROXY_PORTS[$i]}" -e WELDR_PROXY_TLS_PORT=0 \
        "$IMAGE" >/dev/null
done

# Sets READY to the indexes of the members whose /q/health/ready answers 200, among those given.
ready_members() {
    READY=()
    for i in "$@"; do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ADMIN_PORTS[$i]}/q/health/ready" || true) == 200 ]] && READY+=("$i")
    done
    return 0
}
# Waits until exactly one of the given members is ready, and that one stays the only one for a
# second; sets LEADER.
wait_single_ready() {
    local t0 stable=0
    t0=$(date +%s)
    while true; do
        ready_members "$@"
        if ((${#READY[@]} == 1)); then
            stable=$((stable + 1))
            ((stable >= 4)) && break
        else
            stable=0
        fi
        if (($(date +%s) - t0 > 120)); then
            for i in "$@"; do pm logs "${CONTAINERS[$((3 + i))]}" 2>&1 | tail -8; done
            fail "members $*: expected exactly one ready, got [${READY[*]}] after 120 s"
        fi
        sleep 0.25
    done
    LEADER=${READY[0]}
    TOOK=$(($(date +%s) - t0))
}
wait_single_ready 0 1 2
cluster=$(curl -s "${auth[@]}" "http://127.0.0.1:${ADMIN_PORTS[$LEADER]}/cluster")
[[ $cluster == *"\"leader\":\"weldr-$LEADER.$DOMAIN:${RAFT_PORTS[$LEADER]}\""* ]] \
    || fail "the ready member is not the leader its /cluster names: $cluster"
pass "three members: weldr-$LEADER is leader and the only ready one, ${TOOK}s after start; node ids are the stable names"

FOLLOWER=$(((LEADER + 1) % 3))
code=$(curl -s -o "$WORK/post3.json" -D "$WORK/post3.headers" -w '%{http_code}' "${auth[@]}" \
    -d "{\"url\":\"http://127.0.0.1:$BACKEND\"}" "http://127.0.0.1:${ADMIN_PORTS[$FOLLOWER]}/servers")
[[ $code == 201 ]] || fail "POST /servers to follower weldr-$FOLLOWER answered $code: $(cat "$WORK/post3.json")"
grep -qi "^X-Weldr-Leader: weldr-$LEADER.$DOMAIN:${RAFT_PORTS[$LEADER]}" "$WORK/post3.headers" \
    || fail "no X-Weldr-Leader naming weldr-$LEADER: $(cat "$WORK/post3.headers")"
for i in 0 1 2; do
    servers=$(curl -s "${auth[@]}" "http://127.0.0.1:${ADMIN_PORTS[$i]}/servers?consistent=true")
    [[ $servers == *"\"url\":\"http://127.0.0.1:$BACKEND\""* ]] || fail "weldr-$i does not have the server: $servers"
done
body=$(curl -s "http://127.0.0.1:${PROXY_PORTS[$LEADER]}/hello.txt")
[[ $body == "$MARK" ]] || fail "the leader's proxy answered '$body'"
pass "a write sent to follower weldr-$FOLLOWER is forwarded to the leader by name, every member has it, the leader proxies"

OLD=$LEADER
log "stopping the leader weldr-$OLD (SIGTERM)"
pm stop -t 30 "${CONTAINERS[$((3 + OLD))]}" >/dev/null
rest=()
for i in 0 1 2; do ((i != OLD)) && rest+=("$i"); done
wait_single_ready "${rest[@]}"
pass "after the leader stopped, weldr-$LEADER is the only ready member ${TOOK}s later"

echo "image test: $PASSED passed, $FAILED failed ($(($(date +%s) - START)) s)"
