#!/usr/bin/env python3
"""Start-up timing loop behind bench/README.md "Start-up": wall time and the CPU time the JVM used.

  startup.py serve N -- CMD...   launch CMD (a server; {port} and {tokfile} are filled in), try a
                                 WebSocket handshake every 1 ms until a 101, then SIGTERM. Wall ms to
                                 the 101, and the server's CPU ms at that moment (all its threads).
  startup.py run N -- CMD...     run CMD to its end. Wall ms and CPU ms (user + system, from wait4).

Prints the median, min and max of N runs. CPU time moves much less than wall time when the
machine is shared, so both are printed.
"""
import glob
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_ms(pid):
    total = 0
    for f in glob.glob(f'/proc/{pid}/task/*/schedstat'):
        try:
            with open(f) as stat:
                total += int(stat.read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return total / 1e6


def handshake(port, token):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=2)
    except OSError:
        return False
    with s:
        s.sendall((f'GET /?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n'
                   'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                   'Sec-WebSocket-Version: 13\r\n\r\n').encode())
        head = b''
        while b'\r\n\r\n' not in head:
            try:
                data = s.recv(4096)
            except OSError:
                return False
            if not data:
                break
            head += data
    return head.startswith(b'HTTP/1.1 101')


def serve(cmd, token_file, token):
    port = free_port()
    argv = [a.replace('{port}', str(port)).replace('{tokfile}', token_file) for a in cmd]
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not handshake(port, token):
            if p.poll() is not None:
                sys.exit('the server exited: ' + p.stderr.read().decode(errors='replace'))
            if time.monotonic() - start > 20:
                sys.exit('no handshake in 20 s')
            time.sleep(0.001)
        return (time.monotonic() - start) * 1000, cpu_ms(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run(cmd):
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'exit status {os.waitstatus_to_exitcode(status)}: {" ".join(cmd)}')
    return (time.monotonic() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ('serve', 'run') or '--' not in sys.argv:
        sys.exit(__doc__)
    mode, runs = sys.argv[1], int(sys.argv[2])
    cmd = sys.argv[sys.argv.index('--') + 1:]
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as work:
        token = secrets.token_urlsafe(24)
        token_file = os.path.join(work, 'token')
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
            f.write(token)
        for _ in range(runs):
            wall, cpu = serve(cmd, token_file, token) if mode == 'serve' else run(cmd)
            walls.append(wall)
            cpus.append(cpu)
            time.sleep(0.2)
    print(f'wall median {statistics.median(walls):.1f} ms (min {min(walls):.1f}, max {max(walls):.1f}) · '
          f'CPU median {statistics.median(cpus):.1f} ms (min {min(cpus):.1f}) · {runs} runs')


if __name__ == '__main__':
    main()
