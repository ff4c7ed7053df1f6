package wsexec.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import wsexec.websocket.WebSocket;
import wsexec.common.Log;
import wsexec.job.Timers;

/**
 * The one timer item of a connection. It pings every interval (RFC 6455 §5.5.2) and drops a peer
 * that has sent nothing at all — not even the Pong it owes (§5.5.3) — for two intervals: a client
 * whose machine vanished otherwise holds its jobs until TCP gives up, which can take a quarter of
 * an hour. At the same look it runs the endpoint's own watch ({@link Server.Handler#watch()}: the
 * exec session's idle timeout), so that a connection costs one queued item, not one per watch.
 *
 * <p>The watch is a {@link Timers.Watch}, not a thread: this object is its own queue entry. A
 * Ping goes out on a short-lived virtual thread of its own, so a send blocked behind a full socket
 * never holds up the watches' thread or the silence check; dropping the peer closes the socket,
 * which ends that send, the read loop, and (through the session) the jobs.
 */
final class KeepAlive extends Timers.Watch {
    private static final byte[] PAYLOAD = "wsexec".getBytes(StandardCharsets.US_ASCII);

    private final WebSocket webSocket;
    /** Nanoseconds between pings; zero for no pings. */
    private final long interval;
    private final Server.Peer peer;
    private final Server.Handler handler;
    /** Whether a Ping is on its way. Set only by the steps, cleared by the ping's thread. */
    private volatile boolean pinging;
    private long nextPing;

    private KeepAlive(WebSocket webSocket, long interval, Server.Peer peer, Server.Handler handler) {
        this.webSocket = webSocket;
        this.interval = interval;
        this.peer = peer;
        this.handler = handler;
        this.nextPing = System.nanoTime() + interval;
    }

    /**
     * Starts watching a connection; cancel the returned watch when the connection ends. Null when
     * there is nothing to watch (no pings, and the handler wants no looks).
     *
     * @param interval between pings; zero for none
     */
    static KeepAlive start(WebSocket webSocket, Duration interval, Server.Peer peer, Server.Handler handler) {
        KeepAlive watch = new KeepAlive(webSocket, interval.toNanos(), peer, handler);
        long first = watch.step(); // nothing is due yet: this asks how long until something is
        if (first < 0) {
            return null;
        }
        watch.start(first);
        return watch;
    }

    /** One look at the connection, on the watches' thread; returns the nanoseconds until the next, or -1. */
    @Override
    protected long step() {
        if (webSocket.state() != WebSocket.State.OPEN) {
            return -1;
        }
        long wait = -1;
        if (interval > 0) {
            wait = pingStep();
            if (wait < 0) {
                return -1;
            }
        }
        long handlerWait = handler.watch();
        return handlerWait < 0 ? wait : wait < 0 ? handlerWait : Math.min(wait, handlerWait);
    }

    /** Pings when due, drops a silent peer; the nanoseconds until the next ping or drop, or -1 once dropped. */
    private long pingStep() {
        long now = System.nanoTime();
        if (now - webSocket.lastReceivedNanos() >= 2 * interval) {
            Log.info("connection " + peer + " dropped: no answer to pings for "
                    + TimeUnit.NANOSECONDS.toMillis(2 * interval) + " ms");
            webSocket.abort();
            return -1;
        }
        if (now - nextPing >= 0) {
            nextPing = now + interval;
            if (!pinging) {
                pinging = true;
                Thread.ofVirtual().name("wsexec-ping-" + peer.port()).start(() -> {
                    try {
                        webSocket.ping(PAYLOAD);
                    } catch (IOException e) {
                        // the connection is failing; the read loop sees it
                    } finally {
                        pinging = false;
                    }
                });
            }
        }
        long dropAt = webSocket.lastReceivedNanos() + 2 * interval;
        return Math.max(0, Math.min(nextPing - now, dropAt - now));
    }
}
