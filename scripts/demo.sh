#!/usr/bin/env bash
# The classic demo: start a server, print five dates one second apart through the client, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=$(./build.sh --print-java)
log=$(mktemp)
"$JAVA" -jar build/wsexec.jar serve --port 0 --quiet >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    url=$(grep -oE 'ws://[^ ]+' "$log" || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "demo: server did not start:"; cat "$log"; exit 1; }
echo "server: $url"
echo '$ wsexec run -- '"'"'for i in $(seq 1 5); do date; sleep 1; done'"'"
set +e
"$JAVA" -jar build/wsexec.jar run --url "$url" -- 'for i in $(seq 1 5); do date; sleep 1; done'
code=$?
set -e
echo "exit code: $code"
exit "$code"
