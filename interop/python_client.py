"""make interop: Python's `websockets` (Debian python3-websockets, asyncio API) against wsexec.

Usage: /usr/bin/python3 interop/python_client.py ECHO_URL SERVE_URL
Prints one "PASS python ..." or "FAIL python ..." line per check; exits 1 if any check failed.
"""
import asyncio
import hashlib
import json
import re
import subprocess
import sys
import urllib.request

import websockets

failures = 0


def check(name, ok, detail=""):
    global failures
    print(("PASS" if ok else "FAIL") + " python " + name + ("" if ok else ": " + detail), flush=True)
    if not ok:
        failures += 1


async def step(name, coroutine):
    """Runs one check; an exception or a timeout is a FAIL, never a crash of the whole run."""
    try:
        await asyncio.wait_for(coroutine, timeout=20)
    except Exception as e:  # noqa: BLE001 - any failure is reported as this check's FAIL
        check(name, False, repr(e))


async def echo_checks(base):
    # max_size=None: the 1 MiB echo must not hit the client's own default limit.
    async with websockets.connect(base + "python", max_size=None, compression=None) as ws:
        async def text():
            await ws.send("hello κόσμε 🚀")
            reply = await ws.recv()
            check("echo text", reply == "hello κόσμε 🚀", repr(reply)[:100])

        async def binary():
            data = bytes(range(256))
            await ws.send(data)
            reply = await ws.recv()
            check("echo binary", reply == data, repr(reply)[:100])

        async def big():
            data = bytes(i * 7 % 251 for i in range(1 << 20))
            await ws.send(data)
            reply = await ws.recv()
            check("echo 1 MiB", reply == data, "got %d bytes" % len(reply))

        async def fragmented():
            # An iterable is sent as one message in several frames (first TEXT, then CONTINUATION).
            await ws.send(["frag", "men", "", "ted κό", "σμε"])
            reply = await ws.recv()
            check("echo fragmented", reply == "fragmented κόσμε", repr(reply)[:100])

        async def ping():
            pong = await ws.ping(b"python-ping")
            await pong  # resolves when the pong with this payload arrives
            check("echo ping", True)

        async def close():
            await ws.close(code=1000, reason="python done")
            rcvd = ws.close_rcvd
            check("echo close 1000 (client side)", rcvd is not None and rcvd.code == 1000,
                  "server's close frame: %r" % (rcvd,))

        await step("echo text", text())
        await step("echo binary", binary())
        await step("echo 1 MiB", big())
        await step("echo fragmented", fragmented())
        await step("echo ping", ping())
        await step("echo close 1000 (client side)", close())


async def serve_checks(url):
    async with websockets.connect(url, compression=None) as ws:
        async def job():
            await ws.send(json.dumps({"type": "exec", "id": "py", "command": "echo from-python; exit 3"}))
            out, code = "", None
            while code is None:
                event = json.loads(await ws.recv())
                if event.get("id") != "py":
                    continue
                if event["type"] == "output" and event["stream"] == "stdout":
                    out += event.get("data", "")
                elif event["type"] == "exit":
                    code = event["code"]
                elif event["type"] == "error":
                    raise RuntimeError(event)
            check("serve exec output and exit code", out == "from-python\n" and code == 3,
                  "output %r, exit %r" % (out, code))

        async def close():
            await ws.close(code=1000)
            check("serve close 1000", ws.close_rcvd is not None and ws.close_rcvd.code == 1000, repr(ws.close_rcvd))

        await step("serve exec output and exit code", job())
        await step("serve close 1000", close())


def metric(serve_url, name):
    """The sum of a counter on serve's /metrics (this client is on loopback: no token needed, but it has one)."""
    url = serve_url.replace("ws://", "http://", 1).replace("/?", "/metrics?", 1)
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return sum(int(m.group(1)) for m in re.finditer("^" + re.escape(name) + r"(?:\{[^}]*\})? (\d+)$", text, re.M))


async def deflate_checks(echo_base, serve_url):
    """RFC 7692: websockets offers permessage-deflate by default (compression="deflate")."""
    async with websockets.connect(echo_base + "python-deflate", max_size=None) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check("deflate echo negotiated", extensions.startswith("permessage-deflate"), repr(extensions))

        async def text():
            data = "".join("line %d κόσμε\n" % i for i in range(20000))
            await ws.send(data)
            check("deflate echo text", await ws.recv() == data)

        async def binary():
            data = bytes(i * 7 % 13 for i in range(1 << 20))
            await ws.send(data)
            check("deflate echo 1 MiB", await ws.recv() == data)

        async def fragmented():
            await ws.send(["frag" * 100, "men" * 100, "", "ted κό" * 100])
            check("deflate echo fragmented", await ws.recv() == "frag" * 100 + "men" * 100 + "ted κό" * 100)

        async def close():
            await ws.close(code=1000)
            check("deflate echo close 1000", ws.close_rcvd is not None and ws.close_rcvd.code == 1000, repr(ws.close_rcvd))

        await step("deflate echo text", text())
        await step("deflate echo 1 MiB", binary())
        await step("deflate echo fragmented", fragmented())
        await step("deflate echo close 1000", close())

    async with websockets.connect(serve_url, max_size=None) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check("deflate serve negotiated", extensions.startswith("permessage-deflate"), repr(extensions))
        sent_before = metric(serve_url, "wsexec_bytes_sent_total")

        async def seq():
            await ws.send(json.dumps({"type": "exec", "id": "seq", "command": "seq 1 1000000"}))
            digest, size, code = hashlib.sha256(), 0, None
            while code is None:
                event = json.loads(await ws.recv())
                if event["type"] == "output" and event["stream"] == "stdout":
                    data = event["data"].encode()
                    digest.update(data)
                    size += len(data)
                elif event["type"] == "exit":
                    code = event["code"]
                elif event["type"] == "error":
                    raise RuntimeError(event)
            expected = hashlib.sha256(subprocess.run(["seq", "1", "1000000"], capture_output=True, check=True).stdout)
            check("deflate serve seq 1 1000000 sha256", digest.hexdigest() == expected.hexdigest() and code == 0,
                  "%d bytes, exit %r" % (size, code))
            wire = metric(serve_url, "wsexec_bytes_sent_total") - sent_before
            print("INFO python seq 1 1000000: %d bytes of output, %d bytes of frames sent (%.1fx)"
                  % (size, wire, size / max(wire, 1)), flush=True)
            check("deflate serve output compressed at least 3x", wire * 3 < size, "%d bytes on the wire" % wire)

        await step("deflate serve seq 1 1000000 sha256", seq())
        await ws.close(code=1000)


async def main():
    echo_url, serve_url = sys.argv[1], sys.argv[2]
    await step("echo connection", echo_checks(echo_url))
    await step("serve connection", serve_checks(serve_url))
    await step("deflate connections", deflate_checks(echo_url, serve_url))


asyncio.run(main())
sys.exit(1 if failures else 0)
