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

# JVM options of the server (serve, echo), used by the launcher, the cache training and the bench.
# A server's heap holds little that lives long (an idle connection is a few KB), but every job start
# makes ~100 KB of garbage. With G1's defaults on this 24 GB machine the young generation grew to
# hundreds of MB during a burst of job starts and stayed: 120+ KB of RSS per idle connection after
# 5,000 one-job connections. The serial collector with a 4 MB young generation keeps that garbage in
# 4 MB (under 10 KB per connection; bench/README.md, W4); pauses stay short because the live heap is
# small. 4 MB, not 8: a burst touches all of the young generation, so 4 MB less of it is 4 MB less
# RSS. At 5,000 one-job connections: 9.7-9.8 KB per connection with 4 MB, 10.1-10.4 with 8 MB, 10.4
# with 6 MB, 10.3 with 2 MB (objects then reach the old generation too early); the throughput of
# seq 1 10000000 is unchanged. After a burst, the server runs one full collection
# (Server.HEAP_TRIM_PEAK): the heap then shrinks at once to 40 % free (not in steps, not below
# -Xms), and the C heap is trimmed every 5 s, so RSS returns near idle when the connections close.
# -Xms8m, not 16m: a burst touches every page of the initial heap, and the shrink stops there. After
# 5,000 connections closed: 72.5 MB with 16m, 64.0 MB with 8m (idle 46 MB, per connection the same).
server_jvm_opts() {
    local opts="-XX:+UseSerialGC -Xms8m -Xmn4m -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40 -XX:-ShrinkHeapInSteps"
    # An unknown -XX option stops the JVM, so each is tried first (one JVM start on JDK 25 and later).
    # TrimNativeHeapInterval is in JDK 22 and later updates of 21. Compact object headers (JEP 519,
    # a product option from JDK 25, experimental before): 8-byte headers instead of 12, about 6 % less
    # live heap per idle connection (bench/README.md, W4).
    if "$JDK/bin/java" -XX:TrimNativeHeapInterval=5000 -XX:+UseCompactObjectHeaders -version >/dev/null 2>&1; then
        opts="$opts -XX:TrimNativeHeapInterval=5000 -XX:+UseCompactObjectHeaders"
    elif "$JDK/bin/java" -XX:TrimNativeHeapInterval=5000 -version >/dev/null 2>&1; then
        opts="$opts -XX:TrimNativeHeapInterval=5000"
    fi
    echo "$opts"
}
if [ "${1:-}" = "--print-server-opts" ]; then
    server_jvm_opts
    exit 0
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
# A start-up cache fits only the jar it was trained with, and JDK 25 does not always notice when the
# jar changed (it then runs the cached, old classes): drop them before the jar is rewritten.
rm -f build/wsexec.aot build/wsexec-run.aot build/wsexec.jsa build/wsexec-run.jsa
mkdir -p build/classes
find src -name "*.java" > build/sources.txt
"$JDK/bin/javac" --release 21 -Werror -Xlint:all -encoding UTF-8 -d build/classes @build/sources.txt
# Resources (the browser console page, version) travel inside the jar.
(cd src && find . -type f ! -name '*.java' -exec cp --parents {} ../build/classes/ \;)
"$JDK/bin/jar" --create --file build/wsexec.jar --main-class wsexec.Main -C build/classes .
echo "built build/wsexec.jar with $JDK"

# Start-up caches (README "Faster start", bench/README.md "Start-up"): one training run of a server
# and of the client running a job on it records what they load. With JDK 25 or newer that makes AOT
# caches (JEP 483/514/515: classes loaded and linked ahead of time, plus method profiles):
#   java -XX:AOTCache=build/wsexec.aot -jar build/wsexec.jar serve
#   java -XX:AOTCache=build/wsexec-run.aot -jar build/wsexec.jar run -- ...
# With JDK 21-24, dynamic class-data-sharing archives instead (build/wsexec.jsa, build/wsexec-run.jsa,
# used with -XX:SharedArchiveFile=). Either fits only the JDK that made it and this very jar; the
# launcher below uses one only when it is newer than the jar. WSEXEC_NO_CDS=1 skips this step; a
# failed training only warns.
JDK_MAJOR=$(jdk_major "$JDK/bin/javac")
SERVER_JVM_OPTS=$(server_jvm_opts)
train_caches() {
    local java=$JDK/bin/java log=build/cache-training.log url="" server client ext record quiet
    if [ "$JDK_MAJOR" -ge 25 ]; then
        ext=aot record=-XX:AOTCacheOutput= quiet="-Xlog:aot=off -Xlog:cds=off"
    else
        ext=jsa record=-XX:ArchiveClassesAtExit= quiet="-Xlog:cds=off -Xlog:cds+dynamic=off"
    fi
    : >"$log"
    # shellcheck disable=SC2086
    "$java" $SERVER_JVM_OPTS "${record}build/wsexec.$ext" $quiet -jar build/wsexec.jar serve --port 0 --quiet >>"$log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        url=$(grep -oE 'ws://[^ ]+' "$log" || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    if [ -n "$url" ]; then
        # The client's real path: handshake, one job with output, the exit event, the close.
        # shellcheck disable=SC2086
        "$java" "${record}build/wsexec-run.$ext" $quiet -jar build/wsexec.jar run --url "$url" -- 'echo trained' \
            </dev/null >build/cache-training-run.log 2>&1 &
        client=$!
        # Once the job's output is in, the server has done its part: stop it, so that both JVMs
        # write their caches at the same time (an AOT cache takes a few seconds to assemble).
        for _ in $(seq 1 300); do
            grep -q '^trained$' build/cache-training-run.log 2>/dev/null && break
            kill -0 "$client" 2>/dev/null || break
            sleep 0.05
        done
        kill "$server" 2>/dev/null || true
        wait "$client" 2>/dev/null || true
        cat build/cache-training-run.log >>"$log"
        rm -f build/cache-training-run.log
    fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    # A cache the JVM cannot map is worse than none (it warns at every start): check each once,
    # with the mode that fails instead of falling back.
    local f check opts
    for f in build/wsexec.$ext build/wsexec-run.$ext; do
        opts=""
        [ "$f" = build/wsexec.$ext ] && opts=$SERVER_JVM_OPTS
        if [ "$ext" = aot ]; then check="$opts -XX:AOTMode=on -XX:AOTCache=$f"; else check="$opts -Xshare:on -XX:SharedArchiveFile=$f"; fi
        # shellcheck disable=SC2086
        if [ -s "$f" ] && ! "$java" $check -jar build/wsexec.jar --version >>"$log" 2>&1; then
            rm -f "$f"
        fi
    done
    if [ -s build/wsexec.$ext ] && [ -s build/wsexec-run.$ext ]; then
        if [ "$ext" = aot ]; then
            echo "built build/wsexec.aot and build/wsexec-run.aot (AOT caches)"
        else
            echo "built build/wsexec.jsa and build/wsexec-run.jsa (class-data-sharing archives)"
        fi
    else
        echo "build.sh: warning: no start-up cache (see $log); the jar works without it" >&2
    fi
}
if [ "${WSEXEC_NO_CDS:-}" != 1 ]; then
    train_caches
fi

# build/wsexec: a launcher that uses the JDK found above (the default `java` of a machine may be
# older than 21) and the start-up cache that fits the subcommand, when there is one that is newer
# than the jar (an AOT cache only if that JDK reads them). JVM warnings go to stderr: stdout of
# `run` is the job's output.
if [ "$JDK_MAJOR" -ge 25 ]; then kinds="aot jsa"; else kinds="jsa"; fi
cat >build/wsexec <<LAUNCHER
#!/bin/sh
# Written by build.sh: runs build/wsexec.jar with the JDK it was built with.
here=\$(dirname "\$0")
jar=\$here/wsexec.jar
opts=""
case "\${1:-}" in
    run) name=wsexec-run ;;
    serve|echo) name=wsexec opts="$SERVER_JVM_OPTS" ;;
    *) name="" ;;
esac
# A server holds a descriptor per connection and three per running job: raise the soft limit on
# open files to the hard limit (capped at 1048576: "unlimited" is not a value ulimit -n takes
# everywhere). Without this, 1024 (a common soft limit) would cap a server at about 960 clients.
case "\${1:-}" in
    serve|echo)
        hard=\$(ulimit -Hn 2>/dev/null || echo 0)
        case \$hard in unlimited) hard=1048576 ;; esac
        if [ "\$hard" -gt 1048576 ] 2>/dev/null; then hard=1048576; fi
        ulimit -n "\$hard" 2>/dev/null || true
        ;;
esac
cache=""
for kind in $kinds; do
    if [ -z "\$cache" ] && [ -n "\$name" ] && [ "\$here/\$name.\$kind" -nt "\$jar" ]; then
        case \$kind in
            aot) cache="-XX:AOTCache=\$here/\$name.aot" ;;
            jsa) cache="-XX:SharedArchiveFile=\$here/\$name.jsa" ;;
        esac
    fi
done
# shellcheck disable=SC2086
exec "$JDK/bin/java" \$opts -Xlog:disable -Xlog:all=warning:stderr:uptime,level,tags \${cache:+"\$cache"} -jar "\$jar" "\$@"
LAUNCHER
chmod +x build/wsexec
echo "wrote build/wsexec (launcher: build/wsexec serve | run -- COMMAND | echo)"
