# Sourced by docker/test-image.sh (and run by DebianMirrorTest): the Debian archive and security
# archive this machine's apt already uses, so that the base image is made through the same mirror
# or caching proxy rather than from a host written into the script. apt reads sources.list, then
# sources.list.d/*.list (one line per source) and *.sources (deb822 stanzas) in name order; the
# first enabled binary source of a Debian suite wins. Other distributions' and third-party
# repositories name other suites (jammy, nodistro, cloud-sdk-bookworm) and are never taken.

DEBIAN_SUITES='sid|unstable|testing|stable|oldstable|oldoldstable|stretch|buster|bullseye|bookworm|trixie|forky|duke'

# apt_sources [apt dir]: one "uri suite" line for each enabled deb source, in apt's order.
apt_sources() {
    local dir=${1:-/etc/apt} files=() f
    [[ -f $dir/sources.list ]] && files+=("$dir/sources.list")
    for f in "$dir"/sources.list.d/*.list "$dir"/sources.list.d/*.sources; do
        [[ -f $f ]] && files+=("$f")
    done
    # Each file is read in turn, so that the order across both formats stays apt's.
    for f in "${files[@]}"; do
        if [[ $f == *.sources ]]; then
            awk '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
                        n = split(uris, u, " "); m = split(suites, s, " ")
                        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
                    }
                    types = uris = suites = enabled = field = ""
                }
                /^#/ { next }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]/ { value = $0; sub(/^[ \t]+/, "", value); set(field, value, 1); next }
                {
                    field = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
                    gsub(/^[ \t]+|[ \t]+$/, "", value); set(field, value, 0)
                }
                function set(name, v, more) {
                    if (name == "types") types = (more ? types " " : "") v
                    else if (name == "uris") uris = (more ? uris " " : "") v
                    else if (name == "suites") suites = (more ? suites " " : "") v
                    else if (name == "enabled") enabled = v
                }
                END { flush() }
            ' "$f"
        else
            sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
        fi
    done
}

# debian_mirror [apt dir]: the archive's URI, empty when no Debian source is found. (awk reads
# to the end: leaving early could kill apt_sources with SIGPIPE, a failure under pipefail.)
debian_mirror() {
    apt_sources "$@" | awk -v suites="^($DEBIAN_SUITES)(-updates|-backports|-proposed-updates)?$" \
        '$2 ~ suites && !found { sub(/\/+$/, "", $1); print $1; found = 1 }'
}

# debian_security_mirror [apt dir]: the security archive's URI, empty when none is found.
debian_security_mirror() {
    apt_sources "$@" | awk -v suites="^($DEBIAN_SUITES)(-security|/updates)$" \
        '$2 ~ suites && !found { sub(/\/+$/, "", $1); print $1; found = 1 }'
}

# choose_mirrors [apt dir]: sets MIRROR and SECURITY_MIRROR from DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR when given, else from this machine's apt sources, else deb.debian.org.
choose_mirrors() {
    MIRROR=${DEBIAN_MIRROR:-$(debian_mirror "$@")}
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
    SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-$(debian_security_mirror "$@")}
    SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
}
