#!/bin/sh
# weldr's container entrypoint: JAVA_OPTS (split on spaces) go to the JVM, the container's
# arguments to weldr. exec, so that weldr is PID 1 and gets SIGTERM itself (a leader hands
# over leadership before it stops).
set -eu
app=${WELDR_HOME:-/opt/weldr}
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -jar "$app/quarkus-run.jar" "$@"
