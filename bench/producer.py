# W2 producer: N lines, one every MS milliseconds; each line is "i monotonic_ns" taken right
# before the write, so the client (same machine, same CLOCK_MONOTONIC) measures each line's delay.
import os
import sys
import time

n, ms = int(sys.argv[1]), float(sys.argv[2])
for i in range(1, n + 1):
    os.write(1, b"%d %d\n" % (i, time.monotonic_ns()))
    time.sleep(ms / 1000)
