# W2's yardsticks for what one loopback hop costs, written as plainly as a server can be: one
# connection at a time, one thread, blocking calls, each read of the command's stdout sent as read.
#   python3 tcp_relay.py PORT tcp   no WebSocket at all: the first line is a shell command, then its
#                                   bytes; the connection ends with it (a reset for a non-zero exit)
#   python3 tcp_relay.py PORT ws    the least a WebSocket server can do (RFC 6455): the opening
#                                   handshake, one masked text frame with the command, then each read
#                                   as one binary frame in one write, then a text frame {"exit": N}
#                                   and a Close; the bench's `raw` adapter, like the Node and Python peers
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def receive_more(conn, buf):
    more = conn.recv(4096)
    if not more:
        raise EOFError  # the client went away before it said what to run
    return buf + more


def read_until(conn, buf, end):
    while end not in buf:
        buf = receive_more(conn, buf)
    return buf


def read_at_least(conn, buf, n):
    while len(buf) < n:
        buf = receive_more(conn, buf)
    return buf


def frame(opcode, payload):  # RFC 6455 §5.2, server to client: unmasked, FIN set
    n = len(payload)
    head = bytes([0x80 | opcode, n]) if n < 126 else \
        struct.pack("!BBH", 0x80 | opcode, 126, n) if n < 65536 else struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def websocket_command(conn):
    head = read_until(conn, b"", b"\r\n\r\n")
    request, rest = head.split(b"\r\n\r\n", 1)
    key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:"))
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    buf = read_at_least(conn, rest, 2)
    n, at = buf[1] & 0x7F, 2  # the client's one text frame, masked (§5.3)
    if n == 126:
        buf = read_at_least(conn, buf, 4)
        n, at = struct.unpack("!H", buf[2:4])[0], 4
    buf = read_at_least(conn, buf, at + 4 + n)
    mask, data = buf[at:at + 4], buf[at + 4:at + 4 + n]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def main():
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    ws = len(sys.argv) > 2 and sys.argv[2] == "ws"
    print("PORT %d" % listener.getsockname()[1], file=sys.stderr, flush=True)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            command = websocket_command(conn) if ws else read_until(conn, b"", b"\n")
        except (EOFError, OSError, StopIteration):
            conn.close()
            continue
        proc = subprocess.Popen(["/bin/sh", "-c", command.decode()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        try:
            while True:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                conn.sendall(frame(0x2, chunk) if ws else chunk)
            code = proc.wait()
            if ws:
                conn.sendall(frame(0x1, json.dumps({"exit": code}).encode()) + frame(0x8, struct.pack("!H", 1000)))
            elif code != 0:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        except OSError:
            proc.kill()  # the client went away
            proc.wait()
        conn.close()


if __name__ == "__main__":
    main()
