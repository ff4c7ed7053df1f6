package wsexec.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import wsexec.websocket.WebSocket;
import wsexec.common.Log;
import wsexec.job.Timers;

/**
 * Pings a connection every interval (RFC 6455 §5.5.2) and drops a peer that has sent nothing at all
 * — not even the Pong it owes (§5.5.3) — for two intervals: a client whose machine vanished
 * otherwise holds its jobs until TCP gives up, which can take a quarter of an hour.
 *
 * <p>The watch is a {@link Timers#loop} step, not a thread: an idle connection costs one queued
 * timer item. A Ping goes out on a short-lived virtual thread of its own, so a send blocked behind
 * a full socket never holds up the timer thread or the silence check; dropping the peer closes the
 * socket, which ends that send, the read loop, and (through the session) the jobs.
 */
final class KeepAlive {
    private static final byte[] PAYLOAD = "wsexec".getBytes(StandardCharsets.US_ASCII);

    private final WebSocket webSocket;
    private final long interval;
    private final Server.Peer peer;
    private final AtomicBoolean pinging = new AtomicBoolean();
    private long nextPing;

    private KeepAlive(WebSocket webSocket, long interval, Server.Peer peer) {
        this.webSocket = webSocket;
        this.interval = interval;
        this.peer = peer;
        this.nextPing = System.nanoTime() + interval;
    }

    /** Starts watching; cancel the returned loop when the connection ends. */
    static Timers.Loop start(WebSocket webSocket, Duration interval, Server.Peer peer) {
        KeepAlive watch = new KeepAlive(webSocket, interval.toNanos(), peer);
        return Timers.loop(interval.toNanos(), watch::step);
    }

    /** One look at the connection, on the timer thread; returns the nanoseconds until the next. */
    private long step() {
        if (webSocket.state() != WebSocket.State.OPEN) {
            return -1;
        }
        long now = System.nanoTime();
        if (now - webSocket.lastReceivedNanos() >= 2 * interval) {
            Log.info("connection " + peer + " dropped: no answer to pings for "
                    + TimeUnit.NANOSECONDS.toMillis(2 * interval) + " ms");
            webSocket.abort();
            return -1;
        }
        if (now >= nextPing) {
            nextPing = now + interval;
            if (pinging.compareAndSet(false, true)) {
                Thread.ofVirtual().name("wsexec-ping-" + peer.port()).start(() -> {
                    try {
                        webSocket.ping(PAYLOAD);
                    } catch (IOException e) {
                        // the connection is failing; the read loop sees it
                    } finally {
                        pinging.set(false);
                    }
                });
            }
        }
        long dropAt = webSocket.lastReceivedNanos() + 2 * interval;
        return Math.max(0, Math.min(nextPing, dropAt) - now);
    }
}
