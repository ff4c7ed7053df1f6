# W2's yardstick for one loopback TCP hop: no WebSocket, no framing, no protocol. The first line a
# client sends is a shell command; each read of its stdout goes to the socket as it was read; the
# connection ends with the command: a normal close for exit code 0, a reset for any other.
# One connection at a time, one thread, blocking calls: the least a server can do per line.
#   python3 tcp_relay.py PORT
import os
import socket
import struct
import subprocess
import sys

listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print("PORT %d" % listener.getsockname()[1], file=sys.stderr, flush=True)
while True:
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    command = b""
    while not command.endswith(b"\n"):
        more = conn.recv(4096)
        if not more:
            break
        command += more
    proc = subprocess.Popen(["/bin/sh", "-c", command.decode()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        while True:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            conn.sendall(chunk)
    except OSError:
        proc.kill()  # the client went away
    if proc.wait() != 0:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
    conn.close()
