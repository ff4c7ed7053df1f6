package wsexec.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.server.TestServer;

/**
 * {@code wsexec run --keep} through a TCP relay that cuts the connection (a reset, no Close
 * frame) three times in the middle of the output: the client reconnects, attaches from the
 * offsets it has, and ends byte-exact with the job's own exit code.
 */
@Timeout(60)
class KeepReconnectTest {

    /** Forwards loopback connections to the server; cuts the first {@code cuts} after {@code after} bytes downstream. */
    private static final class CuttingRelay implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger cutsLeft;
        final AtomicInteger connections = new AtomicInteger();
        final long after;
        final int target;

        CuttingRelay(int target, int cuts, long after) throws IOException {
            this.target = target;
            this.cutsLeft = new AtomicInteger(cuts);
            this.after = after;
            Thread.ofPlatform().daemon().start(this::accept);
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    connections.incrementAndGet();
                    boolean cut = cutsLeft.getAndDecrement() > 0;
                    Thread.ofPlatform().daemon().start(() -> copy(client, server, Long.MAX_VALUE, client, server));
                    Thread.ofPlatform().daemon().start(() -> copy(server, client, cut ? after : Long.MAX_VALUE, client, server));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void copy(Socket from, Socket to, long limit, Socket a, Socket b) {
            byte[] buffer = new byte[8192];
            long forwarded = 0;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    forwarded += n;
                    if (forwarded >= limit) {
                        break; // the cut: both sides get a reset
                    }
                }
            } catch (IOException e) {
                // one side is gone: end both
            }
            reset(a);
            reset(b);
        }

        private static void reset(Socket s) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        String url() {
            return "ws://127.0.0.1:" + listener.getLocalPort() + "/";
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    @Test
    void runKeepSurvivesThreeCutsByteExactWithItsExitCode() throws Exception {
        String command = "seq 1 400000; exit 7";
        Process local = new ProcessBuilder("/bin/sh", "-c", "seq 1 400000").start();
        byte[] expected = local.getInputStream().readAllBytes();
        local.waitFor();
        try (TestServer server = TestServer.exec();
             CuttingRelay relay = new CuttingRelay(server.port(), 3, 300_000)) {
            Clients.Result r = Clients.main(new byte[0], "run", "--keep", "60s", "--url", relay.url(), "--", command);
            String err = r.err();
            assertEquals(7, r.status(), err);
            assertArrayEquals(sha256(expected), sha256(r.stdout()), "stdout across three cuts differs; stderr: " + err);
            assertEquals(3, count(err, "wsexec: reconnected"), err);
            assertEquals(3, count(err, "wsexec: connection lost"), err);
            assertEquals(4, relay.connections.get());
        }
    }

    @Test
    void withoutKeepACutEndsTheRunWith255() throws Exception {
        try (TestServer server = TestServer.exec();
             CuttingRelay relay = new CuttingRelay(server.port(), 1, 100_000)) {
            Clients.Result r = Clients.main(new byte[0], "run", "--url", relay.url(), "--", "seq 1 400000");
            assertEquals(255, r.status(), r.err());
            assertTrue(r.err().contains("connection"), r.err());
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
