package wsexec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import wsexec.websocket.WebSocket;

/**
 * Pings a connection every interval (RFC 6455 §5.5.2) and drops a peer that has sent nothing at all
 * — not even the Pong it owes (§5.5.3) — for two intervals: a client whose machine vanished
 * otherwise holds its jobs until TCP gives up, which can take a quarter of an hour.
 *
 * <p>One virtual thread per connection, asleep nearly always. A Ping goes out on a thread of its
 * own, so a send blocked behind a full socket never keeps the silence check from running; dropping
 * the peer closes the socket, which ends that send, the read loop, and (through the session) the jobs.
 */
final class KeepAlive {
    private KeepAlive() {
    }

    static Thread start(WebSocket webSocket, Duration interval, Server.Peer peer) {
        return Thread.ofVirtual().name("wsexec-keepalive-" + peer.port()).start(() -> watch(webSocket, interval.toNanos(), peer));
    }

    private static void watch(WebSocket webSocket, long interval, Server.Peer peer) {
        AtomicBoolean pinging = new AtomicBoolean();
        byte[] payload = "wsexec".getBytes(StandardCharsets.US_ASCII);
        long nextPing = System.nanoTime() + interval;
        try {
            while (webSocket.state() == WebSocket.State.OPEN) {
                long dropAt = webSocket.lastReceivedNanos() + 2 * interval;
                long wake = Math.min(nextPing, dropAt);
                long wait = wake - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                long now = System.nanoTime();
                if (webSocket.state() != WebSocket.State.OPEN) {
                    return;
                }
                if (now - webSocket.lastReceivedNanos() >= 2 * interval) {
                    Log.info("connection " + peer + " dropped: no answer to pings for "
                            + TimeUnit.NANOSECONDS.toMillis(2 * interval) + " ms");
                    webSocket.abort();
                    return;
                }
                if (now >= nextPing) {
                    nextPing = now + interval;
                    if (pinging.compareAndSet(false, true)) {
                        Thread.ofVirtual().name("wsexec-ping-" + peer.port()).start(() -> {
                            try {
                                webSocket.ping(payload);
                            } catch (IOException e) {
                                // the connection is failing; the read loop sees it
                            } finally {
                                pinging.set(false);
                            }
                        });
                    }
                }
            }
        } catch (InterruptedException e) {
            // the connection ended
        }
    }
}
