#!/usr/bin/env bash
# make interop: independent WebSocket clients against `wsexec echo` and `wsexec serve`.
#
# Clients: Python's websockets (Debian python3-websockets, run with /usr/bin/python3), Node's ws and a
# headless Chromium driven by playwright-core (both from interop/node_modules: `npm ci` in interop/).
# Each client prints one PASS/FAIL line per check; this script adds the server-side checks (the echo
# server logs the close codes of each connection) and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

JAVA=$(./build.sh --print-java) || exit 1
JAR=build/wsexec.jar
work=$(mktemp -d "${TMPDIR:-/tmp}/wsexec-interop.XXXXXX")

# serve requires a token: give it one from a file and put it in the clients' URL (the query
# parameter is what browsers can send). The browser's test page is served from a fixed free port,
# and only that origin is allowed, exactly as a user would configure it.
head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40 >"$work/token"
PAGE_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PAGE_PORT
SERVE_ARGS=(--port 0 --bind 127.0.0.1 --token-file "$work/token" --allow-origin "http://127.0.0.1:$PAGE_PORT")
ECHO_ARGS=(--port 0 --bind 127.0.0.1)
SERVE_URL_SUFFIX="?token=$(cat "$work/token")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
result() { # result PASS|FAIL name [detail]
    echo "$1 $2${3:+: $3}"
    if [ "$1" = FAIL ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
}

# start NAME ARGS...: runs `wsexec ARGS` in the background and sets URL from its first stdout line.
start() {
    local name=$1
    shift
    "$JAVA" -jar "$JAR" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    local deadline=$((SECONDS + 30))
    URL=""
    while [ $SECONDS -lt $deadline ]; do
        URL=$(head -n 1 "$work/$name.out" | grep -oE 'ws://[^ ]+/' || true)
        [ -n "$URL" ] && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    result FAIL "start $name" "no URL on stdout; stderr: $(tr '\n' ' ' <"$work/$name.err")"
    return 1
}

# server_saw_clean_close CLIENT: the echo server logged Close 1000 received and sent for /CLIENT.
server_saw_clean_close() {
    local deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        if grep -q " /$1 closed: received 1000, sent 1000" "$work/echo.err"; then
            result PASS "$1 echo close 1000 (server side)"
            return
        fi
        sleep 0.1
    done
    result FAIL "$1 echo close 1000 (server side)" "$(grep " /$1 closed" "$work/echo.err" || echo 'no close logged')"
}

# client NAME COMMAND...: runs a client, passing its PASS/FAIL lines through and counting failures.
client() {
    local name=$1
    shift
    local out status
    out=$(timeout 180 "$@" "$echo_url" "$serve_url" 2>"$work/$name-client.err")
    status=$?
    [ -n "$out" ] && echo "$out"
    local fails
    fails=$(grep -c '^FAIL' <<<"$out")
    failed=$((failed + fails))
    passed=$((passed + $(grep -c '^PASS' <<<"$out")))
    if [ "$status" -ne 0 ] && [ "$fails" -eq 0 ]; then
        result FAIL "$name client" "exit $status: $(tail -n 3 "$work/$name-client.err" | tr '\n' ' ')"
    fi
    if ! grep -q "^PASS $name" <<<"$out"; then
        result FAIL "$name client" "no check passed"
    fi
    server_saw_clean_close "$name"
}

start echo echo "${ECHO_ARGS[@]}" || exit 1
echo_url=$URL
start serve serve "${SERVE_ARGS[@]}" || exit 1
serve_url=$URL$SERVE_URL_SUFFIX
echo "echo at $echo_url, serve at $URL"

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    client python /usr/bin/python3 interop/python_client.py
else
    result FAIL "python client" "python3-websockets is not installed (apt-get install python3-websockets)"
fi

if [ -d interop/node_modules/ws ] && [ -d interop/node_modules/playwright-core ]; then
    client node node interop/node_client.mjs
    if [ -x /usr/bin/chromium ]; then
        client chromium node interop/browser_client.mjs
    else
        result FAIL "chromium client" "chromium is not installed (apt-get install chromium)"
    fi
else
    result FAIL "node and chromium clients" "interop/node_modules is missing (cd interop && npm ci)"
fi

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
