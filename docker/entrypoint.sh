#!/bin/sh
# weldr's container entrypoint: JAVA_OPTS (split on spaces) go to the JVM, the container's
# arguments to weldr. exec, so that weldr is PID 1 and gets SIGTERM itself (a leader hands
# over leadership before it stops).
set -eu
app=${WELDR_HOME:-/opt/weldr}
# The AOT cache the build trained (Java 25+; see aot-train.sh), unless JAVA_OPTS says otherwise
# (-XX:AOTMode=off turns it off). A cache the JVM cannot use is skipped with a warning, not an error.
aot=
if [ -f "$app/weldr.aot" ]; then
    case " ${JAVA_OPTS:-} " in
        *" -XX:AOTCache="* | *" -XX:AOTMode="*) ;;
        *) aot="-XX:AOTCache=$app/weldr.aot" ;;
    esac
fi
# shellcheck disable=SC2086
exec java $aot ${JAVA_OPTS:-} -jar "$app/quarkus-run.jar" "$@"
