#!/usr/bin/env bash
# Where weldr's CPU goes under keep-alive load: JFR execution samples, summed by method (self and
# total), printed as the top entries. Loopback only; stops what it starts (by PID).
#
#   bench/profile.sh                  # 20 s of wrk -c50 against weldr in front of one nginx backend
#   DURATION=30 TOP=40 bench/profile.sh
#   WELDR_JAR=/elsewhere/quarkus-run.jar bench/profile.sh
set -euo pipefail
DURATION=${DURATION:-20}
TOP=${TOP:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_NAME=profile
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
needs wrk nginx jfr
weldr_jar

one_backend

# The JDK's profile settings, sampling every millisecond instead of every 10.
JFC="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc"
sed 's|<setting name="period" control="method-sampling-java-interval">10 ms</setting>|<setting name="period" control="method-sampling-java-interval">1 ms</setting>|' "$JFC" > "$WORK/sampling.jfc"

weldr_in_front "$JAR"
wrk -t1 -c50 -d5s "http://127.0.0.1:$WP/" >/dev/null   # warm-up, not recorded below
jcmd "$WELDR_PID" JFR.start name=load filename="$WORK/load.jfr" settings="$WORK/sampling.jfc" >/dev/null
wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$WP/" | grep -E "Requests/sec|Latency"
jcmd "$WELDR_PID" JFR.dump name=load filename="$WORK/load.jfr" >/dev/null
jfr print --events jdk.ExecutionSample --stack-depth 96 "$WORK/load.jfr" > "$WORK/samples.txt"
python3 - "$WORK/samples.txt" "$TOP" <<'PY'
import collections, re, sys
path, top = sys.argv[1], int(sys.argv[2])
self_count, total_count, samples = collections.Counter(), collections.Counter(), 0
frames = None
stacks = []
for line in open(path):
    line = line.rstrip()
    if line.startswith("jdk.ExecutionSample"):
        frames = []
    elif frames is not None and re.match(r"\s+[\w$.<>/]+\(.*\)", line) and "line:" in line:
        frames.append(re.sub(r"\(.*", "", line.strip()))
    elif frames is not None and line.strip() == "]":
        if frames:
            stacks.append(frames)
            samples += 1
            self_count[frames[0]] += 1
            for f in set(frames):
                total_count[f] += 1
        frames = None
print(f"{samples} samples")
print(f"\ntop {top} by self time")
for f, n in self_count.most_common(top):
    print(f"  {100.0 * n / samples:5.1f}%  {f}")
components = ["dev.weldr", "io.vertx.httpproxy", "io.micrometer", "java.time", "io.vertx.core.http.impl",
              "io.netty.handler.codec.http", "io.vertx.core.impl.future", "io.netty.channel", "io.netty.buffer"]
print("\nshare of samples inside each component (nested calls counted once)")
for c in components:
    n = sum(1 for st in stacks if any(f.startswith(c) for f in st))
    print(f"  {100.0 * n / samples:5.1f}%  {c}")
print(f"\ntop {top} by total time (the method and what it calls)")
for f, n in total_count.most_common(top):
    print(f"  {100.0 * n / samples:5.1f}%  {f}")
PY
