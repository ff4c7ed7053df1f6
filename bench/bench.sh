#!/usr/bin/env bash
# make bench: builds wsexec, installs the peers and the neutral client, makes the test data,
# and runs bench.js (all workloads, every server). BENCH_QUICK=1 for a small smoke run.
# Needs root for apt-get (as on CI); installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
./build.sh >/dev/null
JAVA=$(./build.sh --print-java)
JDK=$(./build.sh --print-jdk)
export JAVA

need=()
command -v websocketd >/dev/null || need+=(websocketd)
/usr/bin/python3 -c 'import websockets' 2>/dev/null || need+=(python3-websockets)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -d bench/node_modules/ws ] || [ ! -d bench/node_modules/socket.io ]; then
    (cd bench && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

mkdir -p bench/work build/bench-classes
for size in 5000000 50000000; do
    [ -f "bench/work/random-$size.bin" ] || head -c "$size" /dev/urandom > "bench/work/random-$size.bin"
done

# The codec and echo-path microbenchmarks (plain Java classes, no test framework).
# shellcheck disable=SC2046
"$JDK/bin/javac" --release 21 -Werror -Xlint:all -encoding UTF-8 -cp build/classes -d build/bench-classes $(find bench/java -name '*.java')

# W4 holds thousands of sockets in the client and the server at once.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 12000 ] || echo "bench: warning: ulimit -n is $(ulimit -n); W4 may fail for lack of file descriptors" >&2

node bench/bench.js
results=$(ls -t bench/results/*.md | head -1)
{
    echo
    echo "Codec, unmasking large frames (bench/java/wsexec/websocket/UnmaskBench.java):"
    echo
    "$JAVA" -cp build/classes:build/bench-classes wsexec.websocket.UnmaskBench | sed 's/^/    /'
    echo
    echo "Echo path, 16-byte messages on one connection against \`wsexec echo\` (bench/java/wsexec/websocket/EchoBench.java):"
    echo
    "$JAVA" -cp build/classes:build/bench-classes wsexec.websocket.EchoBench "$JAVA" build/wsexec.jar | sed 's/^/    /'
    echo
    echo "Server hot path alone, OutputPump into a loopback socket (bench/java/wsexec/server/PumpBench.java):"
    echo
    "$JAVA" -cp build/classes:build/bench-classes wsexec.server.PumpBench | sed 's/^/    /'
    echo
    echo "A kept job's floor: output copied into memory never touched before, and kept, with the server's JVM options (bench/java/wsexec/job/FreshMemoryFloor.java):"
    echo
    # shellcheck disable=SC2046
    "$JAVA" $(./build.sh --print-server-opts) -cp build/classes:build/bench-classes wsexec.job.FreshMemoryFloor | sed 's/^/    /'
} | tee -a "$results"
