#!/usr/bin/env bash
# Builds build/wsexec.jar with nothing but a JDK (21 or newer).
#   ./build.sh          compile src/ and write the jar
#   ./build.sh --print-java   print the path of the java binary it chose (used by the Makefile)
# The JDK is looked for in JAVA_HOME, then on PATH, then under /usr/lib/jvm.
set -euo pipefail
cd "$(dirname "$0")"

jdk_major() { # prints the major version of the JDK whose javac is $1, or nothing
    local v
    v=$("$1" -version 2>&1 | awk '{print $2; exit}') || return 0
    v=${v%%.*}
    [[ $v =~ ^[0-9]+$ ]] && echo "$v"
}

find_jdk() { # prints a JDK home with javac >= 21
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v javac >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
    fi
    local d
    for d in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -V -r); do candidates+=("${d%/}"); done
    for d in "${candidates[@]}"; do
        if [ -x "$d/bin/javac" ] && [ -x "$d/bin/jar" ]; then
            local major
            major=$(jdk_major "$d/bin/javac")
            if [ -n "$major" ] && [ "$major" -ge 21 ]; then
                echo "$d"
                return 0
            fi
        fi
    done
    return 1
}

if ! JDK=$(find_jdk); then
    echo "build.sh: no JDK 21 or newer found (looked at JAVA_HOME, javac on PATH, /usr/lib/jvm/*)." >&2
    echo "build.sh: install one, e.g. 'apt-get install openjdk-21-jdk-headless' (Debian 12: temurin-21-jdk or openjdk-25-jdk from backports), then run again." >&2
    exit 1
fi

if [ "${1:-}" = "--print-java" ]; then
    echo "$JDK/bin/java"
    exit 0
fi
if [ "${1:-}" = "--print-jdk" ]; then
    echo "$JDK"
    exit 0
fi

rm -rf build/classes
mkdir -p build/classes
find src -name '*.java' > build/sources.txt
"$JDK/bin/javac" --release 21 -Werror -Xlint:all -encoding UTF-8 -d build/classes @build/sources.txt
# Resources (the browser console page, version) travel inside the jar.
(cd src && find . -type f ! -name '*.java' -exec cp --parents {} ../build/classes/ \;)
"$JDK/bin/jar" --create --file build/wsexec.jar --main-class wsexec.Main -C build/classes .
echo "built build/wsexec.jar with $JDK"

# Class-data-sharing archives for a faster start (bench/README.md, W5): one training run of a
# server and of the client records the classes they load. A jar's manifest cannot add JVM flags,
# so they are used by naming them:
#   java -XX:SharedArchiveFile=build/wsexec.jsa -jar build/wsexec.jar serve
#   java -XX:SharedArchiveFile=build/wsexec-run.jsa -jar build/wsexec.jar run -- ...
# An archive only fits the JDK that made it and this very jar; java warns and starts without it
# otherwise. WSEXEC_NO_CDS=1 skips this step; a failed training only warns.
train_cds() {
    local java=$JDK/bin/java log=build/cds-training.log url="" server
    rm -f build/wsexec.jsa build/wsexec-run.jsa
    "$java" -XX:ArchiveClassesAtExit=build/wsexec.jsa -Xlog:cds=off -Xlog:cds+dynamic=off \
        -jar build/wsexec.jar serve --port 0 --quiet >"$log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        url=$(grep -oE 'ws://[^ ]+' "$log" || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    if [ -n "$url" ]; then
        "$java" -XX:ArchiveClassesAtExit=build/wsexec-run.jsa -Xlog:cds=off -Xlog:cds+dynamic=off \
            -jar build/wsexec.jar run --url "$url" -- 'echo trained' </dev/null >>"$log" 2>&1 || true
    fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    if [ -s build/wsexec.jsa ] && [ -s build/wsexec-run.jsa ]; then
        echo "built build/wsexec.jsa and build/wsexec-run.jsa (class-data-sharing archives)"
    else
        echo "build.sh: warning: no class-data-sharing archive (see $log); the jar works without it" >&2
    fi
}
if [ "${WSEXEC_NO_CDS:-}" != 1 ]; then
    train_cds
fi

# build/wsexec: a launcher that uses the JDK found above (the default `java` of a machine may be
# older than 21) and the archive that fits the subcommand, when there is one.
cat >build/wsexec <<LAUNCHER
#!/bin/sh
# Written by build.sh: runs build/wsexec.jar with the JDK it was built with.
here=\$(dirname "\$0")
archive=""
case "\${1:-}" in
    run) [ -s "\$here/wsexec-run.jsa" ] && archive="-XX:SharedArchiveFile=\$here/wsexec-run.jsa -Xshare:auto" ;;
    serve|echo) [ -s "\$here/wsexec.jsa" ] && archive="-XX:SharedArchiveFile=\$here/wsexec.jsa -Xshare:auto" ;;
esac
# shellcheck disable=SC2086
exec "$JDK/bin/java" \$archive -jar "\$here/wsexec.jar" "\$@"
LAUNCHER
chmod +x build/wsexec
echo "wrote build/wsexec (launcher: build/wsexec serve | run -- COMMAND | echo)"
