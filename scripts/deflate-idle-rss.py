#!/usr/bin/env python3
"""The native memory of idle permessage-deflate connections (RFC 7692), measured.

Usage: scripts/deflate-idle-rss.py [N]   (default 10000; needs `ulimit -n` above N + 100)

Starts `wsexec echo` twice, opens N connections to each, and on every connection sends one
1 KiB text message and reads its echo: once with permessage-deflate offered (the message goes
compressed both ways, so each connection has used a Deflater and an Inflater), once without.
Then all connections stay open and idle, and the server's RSS (VmRSS) is read after a full GC.
Prints both and their ratio; the target is at most 2x.
"""
import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import time
import zlib

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGE = "idle connection %05d says hello; " + "the same words again and again; " * 31


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def masked_frame(first_octet, payload):
    key = os.urandom(4)
    n = len(payload)
    head = bytes([first_octet]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return b0, await reader.readexactly(n)


async def one(port, deflate, i, keep):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4096)
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if deflate else ""
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(("GET /rss HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (key, offer)).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert (b"permessage-deflate" in head) == deflate, head
    text = (MESSAGE % i).encode()[:1024]
    if deflate:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
        writer.write(masked_frame(0xC1, body[:-4]))  # FIN, RSV1, text; tail removed (RFC 7692 §7.2.1)
    else:
        writer.write(masked_frame(0x81, text))
    b0, payload = await read_frame(reader)
    if b0 & 0x40:
        d = zlib.decompressobj(-15)
        payload = d.decompress(payload + b"\x00\x00\xff\xff")
    assert payload == text, (b0, payload[:40])
    keep.append(writer)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


async def measure(deflate):
    port = free_port()
    server = subprocess.Popen([os.path.join(ROOT, "build", "wsexec"), "echo", "--port", str(port), "--quiet",
                               "--deflate", "on" if deflate else "off"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    server.stdout.readline()  # its URL: listening
    try:
        idle_before = rss_kib(server.pid)
        keep = []
        start = time.monotonic()
        for batch in range(0, N, 500):
            await asyncio.gather(*(one(port, deflate, i, keep) for i in range(batch, min(N, batch + 500))))
        took = time.monotonic() - start
        # the JVM's heap after a full collection, so that garbage does not count: jcmd GC.run
        jdk = subprocess.check_output([os.path.join(ROOT, "build.sh"), "--print-jdk"], text=True).strip()
        subprocess.run([os.path.join(jdk, "bin", "jcmd"), str(server.pid), "GC.run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(2)
        rss = rss_kib(server.pid)
        for w in keep:
            w.close()
        return idle_before, rss, took
    finally:
        server.terminate()
        server.wait()


async def main():
    plain = await measure(False)
    deflate = await measure(True)
    print("%d idle connections, each after one 1 KiB message both ways" % N)
    print("  without deflate: server RSS %7d KiB (%d KiB before connecting), %.1f s to connect" % (plain[1], plain[0], plain[2]))
    print("  with deflate:    server RSS %7d KiB (%d KiB before connecting), %.1f s to connect" % (deflate[1], deflate[0], deflate[2]))
    print("  ratio %.2f (target at most 2)" % (deflate[1] / plain[1]))


asyncio.run(main())
