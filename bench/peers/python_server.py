# A tiny exec server with Python's `websockets` (Debian python3-websockets 10.x, asyncio API):
# the first message is a shell command; each read of its stdout (up to 64 KiB) goes out as one
# binary frame, then a text frame {"exit": N}. `await ws.send` waits for the socket to drain.
#   python3 python_server.py PORT off|deflate
import asyncio
import json
import sys

import websockets


async def handler(ws, path=None):
    command = await ws.recv()
    proc = await asyncio.create_subprocess_shell(
        command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
    while True:
        chunk = await proc.stdout.read(65536)
        if not chunk:
            break
        await ws.send(chunk)
    code = await proc.wait()
    await ws.send(json.dumps({"exit": code}))
    await ws.wait_closed()


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    compression = "deflate" if len(sys.argv) > 2 and sys.argv[2] == "deflate" else None
    async with websockets.serve(handler, "127.0.0.1", port, compression=compression,
                                max_size=None, max_queue=None) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], file=sys.stderr, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
