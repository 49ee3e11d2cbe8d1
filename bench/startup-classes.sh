#!/usr/bin/env bash
# Writes src/main/resources/dev/weldr/startup-classes.txt: the classes a start of the packaged
# weldr loads, from main() to its first ready answer, in their order. dev.weldr.Preload loads
# them on a second thread while Quarkus starts. Run it after a change of dependencies or of
# weldr's own classes, then build again:
#
#   ./mvnw -B package -DskipTests && bench/startup-classes.sh && ./mvnw -B package -DskipTests
#
# The start it watches runs without the old list (taken out of a copy of the application), so
# the order is the start's own. Everything runs on loopback; the process is stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
APP=${WELDR_APP:-"$ROOT/target/quarkus-app"}
OUT="$ROOT/src/main/resources/dev/weldr/startup-classes.txt"
mkdir -p "$(dirname "$OUT")"
[ -f "$APP/quarkus-run.jar" ] || { echo "startup-classes: build first (./mvnw -B package -DskipTests)" >&2; exit 1; }

BENCH_NAME=startup-classes
# shellcheck source=bench/common.sh
. "$HERE/common.sh"

cp -r "$APP" "$WORK/app"
python3 - "$WORK/app/app" <<'EOF'
import pathlib, sys, zipfile
for jar in pathlib.Path(sys.argv[1]).glob("weldr-*.jar"):
    copy = jar.with_suffix(".tmp")
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "dev/weldr/startup-classes.txt":
                dst.writestr(item, src.read(item))
    copy.replace(jar)
EOF

ADMIN=$(freeport)
WELDR_PROXY_TLS_PORT=0 java -Xlog:class+load=info:file="$WORK/classes.log" \
  -Dweldr.proxy.host=127.0.0.1 -Dweldr.proxy.port="$(freeport)" -Dquarkus.http.port="$ADMIN" \
  -Dweldr.raft.port="$(freeport)" -Dweldr.raft.data-dir="$WORK/data" \
  -jar "$WORK/app/quarkus-run.jar" > "$WORK/weldr.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/q/health/ready")" = 200 ]; do
  kill -0 "${PIDS[0]}" 2>/dev/null && [ $SECONDS -lt $deadline ] || { cat "$WORK/weldr.log" >&2; exit 1; }
  sleep 0.05
done
READY_LINES=$(wc -l < "$WORK/classes.log")   # what stopping it loads is not start-up
kill "${PIDS[0]}"; wait "${PIDS[0]}" || true

# Keep what was loaded after main() began, from a jar or the JDK's modules (not the JDK's class-data
# archive, already fast, nor classes made at run time: lambdas, proxies, hidden classes).
head -n "$READY_LINES" "$WORK/classes.log" > "$WORK/start.log"
python3 - "$WORK/start.log" "$OUT" <<'EOF'
import re, sys
names, seen, started = [], set(), False
for line in open(sys.argv[1]):
    m = re.match(r"(?:\[[^]]*\])+\s*(\S+) source: (\S+)", line)
    if not m:
        continue
    name, source = m.groups()
    if name == "dev.weldr.Weldr":
        started = True
    if not started or "/" in name or not (source.startswith("file:") or source.startswith("jrt:/")):
        continue
    if name not in seen:
        seen.add(name)
        names.append(name)
with open(sys.argv[2], "w") as out:
    out.write("# The classes a start of weldr loads, from main() to its first ready answer, in their order:\n")
    out.write("# dev.weldr.Preload loads them ahead of the main thread. Written by bench/startup-classes.sh.\n")
    out.write("\n".join(names) + "\n")
print(f"startup-classes: {len(names)} classes in {sys.argv[2]}")
EOF
