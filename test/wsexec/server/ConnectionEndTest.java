package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.Handshake;
import wsexec.websocket.Opcode;
import wsexec.websocket.WebSocketLimits;
import wsexec.job.InputBudget;
import wsexec.job.Timers;

/**
 * Whichever way a connection ends, the jobs it owns end with it, in bounded time — even when its
 * reader is waiting for stdin room and when its writer is blocked on a peer that reads nothing.
 * Raw-socket clients, so that each case is exactly the bytes (and the silence) it describes.
 */
@Timeout(60)
class ConnectionEndTest {
    private static final Duration GRACE = Duration.ofSeconds(1);
    /** Scheduling slack on a busy 2-core machine, added to every bound the server promises. */
    private static final long SLACK_MS = 1500;

    private static Server.Config server(Duration pingInterval, Duration closeTimeout) throws IOException {
        return new Server.Config(InetAddress.getByName("127.0.0.1"), 0, WebSocketLimits.DEFAULTS.withCloseTimeout(closeTimeout),
                Duration.ofSeconds(10), Handshake.MAX_HEAD_BYTES, 1024).withPingInterval(pingInterval);
    }

    private static ExecEndpoint.Config jobs(int stdinBuffer) {
        return new ExecEndpoint.Config(64, 512, GRACE, Duration.ofSeconds(2), Duration.ZERO, true)
                .withStdinBuffer(stdinBuffer);
    }

    /** Starts {@code sleep 300} (which reads no stdin) tagged with a marker; returns its pid. */
    private static long startSleeper(RawClient client, String marker) throws IOException, InterruptedException {
        client.sendText("{\"type\":\"exec\",\"id\":\"s\",\"argv\":[\"sleep\",\"300\"],\"env\":{\"WSEXEC_MARKER\":\"" + marker + "\"}}");
        RawClient.Frame frame = client.readFrame();
        while (frame != null && frame.opcode() == Opcode.PING) {
            frame = client.readFrame();
        }
        assertTrue(frame != null && frame.text().contains("\"started\""), "expected started, got " + frame);
        assertTrue(Processes.await(5000, () -> !Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty()));
        return Long.parseLong(frame.text().replaceAll(".*\"pid\":(\\d+).*", "$1"));
    }

    /** Sends {@code count} stdin messages of 60 KB on a thread of its own; waits for all to be in the kernel. */
    private static void fillStdin(RawClient client, int count) throws Exception {
        client.socket().setSendBufferSize(4 << 20);
        char[] chunk = new char[60_000];
        Arrays.fill(chunk, 'x');
        String message = "{\"type\":\"stdin\",\"id\":\"s\",\"data\":\"" + new String(chunk) + "\"}";
        CountDownLatch sent = new CountDownLatch(1);
        Thread sender = Thread.ofPlatform().daemon().start(() -> {
            try {
                for (int i = 0; i < count; i++) {
                    client.sendText(message);
                }
                sent.countDown();
            } catch (IOException e) {
                // the assertion below reports it
            }
        });
        assertTrue(sent.await(20, TimeUnit.SECONDS), "the stdin messages did not fit in the socket buffers");
        sender.join();
    }

    private static void assertGoneWithin(String marker, long millis, String what) throws InterruptedException {
        long start = System.nanoTime();
        boolean gone = Processes.await(millis + SLACK_MS, () -> Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty());
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(gone, what + ": the job still runs after " + took + " ms (bound " + millis + " ms)");
    }

    @Test
    void fullStdinThenEndOfStreamEndsTheJob() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(server(Duration.ofSeconds(1), Duration.ofSeconds(5)), jobs(4 << 20));
             RawClient client = RawClient.open(server.port())) {
            startSleeper(client, marker);
            fillStdin(client, 40);
            client.socket().shutdownOutput(); // FIN: a client process that exits, no Close frame
            assertGoneWithin(marker, 2 * 1000 + GRACE.toMillis(), "40 x 60 KB of stdin, then FIN");
        }
    }

    @Test
    void fullStdinThenCloseFrameEndsTheJobWithinTheKillGrace() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(server(Duration.ofSeconds(30), Duration.ofSeconds(5)), jobs(4 << 20));
             RawClient client = RawClient.open(server.port())) {
            startSleeper(client, marker);
            fillStdin(client, 40);
            client.sendClose(1000, "");
            assertGoneWithin(marker, GRACE.toMillis(), "40 x 60 KB of stdin, then Close (no pings to help)");
        }
    }

    @Test
    void stdinPastTheBufferStopsTheReaderYetPingSilenceStillEndsTheJob() throws Exception {
        // --stdin-buffer 64KiB: the reader waits for room and cannot see the FIN behind the data;
        // the keepalive's drop must reach it there.
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(server(Duration.ofSeconds(1), Duration.ofSeconds(5)), jobs(64 << 10));
             RawClient client = RawClient.open(server.port())) {
            startSleeper(client, marker);
            fillStdin(client, 20);
            client.socket().shutdownOutput();
            assertGoneWithin(marker, 2 * 1000 + GRACE.toMillis(), "1.2 MB of stdin past a 64 KiB buffer, then FIN");
        }
    }

    @Test
    void aCloseWhileTheServersSendIsBlockedEndsTheJobAndTheConnection() throws Exception {
        String marker = UUID.randomUUID().toString();
        Duration closeTimeout = Duration.ofSeconds(3);
        try (TestServer server = TestServer.exec(server(Duration.ofSeconds(30), closeTimeout), jobs(4 << 20));
             RawClient client = RawClient.open(server.port())) {
            client.socket().setReceiveBufferSize(4096);
            client.sendText("{\"type\":\"exec\",\"id\":\"y\",\"argv\":[\"yes\"],\"env\":{\"WSEXEC_MARKER\":\"" + marker + "\"}}");
            RawClient.Frame started = client.readFrame();
            assertTrue(started.text().contains("\"started\""), started.text());
            long pid = Long.parseLong(started.text().replaceAll(".*\"pid\":(\\d+).*", "$1"));
            // We read nothing more. Once the socket is full the pump's send blocks, the pump stops
            // reading, and yes blocks writing its pipe: that is the state we want to close in.
            Path wchan = Path.of("/proc/" + pid + "/wchan");
            assertTrue(Processes.await(10_000, () -> read(wchan).endsWith("pipe_write")),
                    "yes never blocked on its pipe: " + read(wchan));
            long closed = System.nanoTime();
            client.sendClose(1000, "");
            assertGoneWithin(marker, GRACE.toMillis(), "Close while the server's send is blocked");
            // Still reading nothing: the server gives up on the closing handshake at the close timeout.
            assertTrue(Processes.await(closeTimeout.toMillis() + SLACK_MS, () -> server.server.openConnections() == 0),
                    "the connection is still open " + (System.nanoTime() - closed) / 1_000_000 + " ms after the Close");
        }
    }

    @Test
    void aHandshakeDeadlineFiresOnTimeWhileFiftyJobsAreKilled() throws Exception {
        // Jobs that ignore TERM, so that both signals go out; meanwhile a client that never sends
        // its request head must still be cut at the handshake timeout, not after the kills.
        Duration handshakeTimeout = Duration.ofMillis(500);
        Server.Config config = new Server.Config(InetAddress.getByName("127.0.0.1"), 0,
                WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2)), handshakeTimeout, Handshake.MAX_HEAD_BYTES, 1024);
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(config, jobs(4 << 20))) {
            RawClient owner = RawClient.open(server.port());
            for (int i = 0; i < 50; i++) {
                owner.sendText("{\"type\":\"exec\",\"id\":\"" + i + "\",\"command\":\"trap '' TERM; sleep 300\","
                        + "\"env\":{\"WSEXEC_MARKER\":\"" + marker + "\"}}");
            }
            for (int started = 0; started < 50; ) {
                RawClient.Frame frame = owner.readFrame();
                assertTrue(frame.text().contains("\"started\""), frame.text());
                started++;
            }
            AtomicLong cutAfter = new AtomicLong(-1);
            try (RawClient silent = RawClient.connect(server.port())) {
                silent.socket().setSoTimeout(10_000);
                owner.close(); // 50 jobs: TERM now, KILL after the grace
                long start = System.nanoTime();
                assertTrue(silent.awaitEof(), "the silent client was never cut");
                cutAfter.set((System.nanoTime() - start) / 1_000_000);
            }
            assertTrue(cutAfter.get() < handshakeTimeout.toMillis() + SLACK_MS,
                    "handshake deadline fired after " + cutAfter.get() + " ms");
            assertGoneWithin(marker, GRACE.toMillis() + 1000, "50 jobs that ignore TERM");
        }
    }

    @Test
    void blockingTimerWorkRunsOffTheTimerThread() throws Exception {
        CountDownLatch blockerRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        String[] thread = new String[1];
        Timers.afterBlocking(0, "test-blocker", () -> {
            thread[0] = Thread.currentThread().getName();
            blockerRunning.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertTrue(blockerRunning.await(5, TimeUnit.SECONDS));
            assertFalse(thread[0].equals("wsexec-timers"), "blocking work ran on the timer thread");
            CountDownLatch fired = new CountDownLatch(1);
            Timers.after(10, fired::countDown);
            assertTrue(fired.await(2, TimeUnit.SECONDS), "a timer waited for blocking work");
        } finally {
            release.countDown();
        }
    }

    @Test
    void inputBudgetWaitsWhileSpentAndWakesWhenClosed() throws Exception {
        InputBudget budget = new InputBudget(100);
        assertTrue(budget.acquire(60));
        assertTrue(budget.acquire(40));
        assertEquals(100, budget.used());
        CountDownLatch returned = new CountDownLatch(1);
        boolean[] result = {true};
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                result[0] = budget.acquire(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            returned.countDown();
        });
        assertFalse(returned.await(200, TimeUnit.MILLISECONDS), "took bytes from a spent budget");
        budget.close();
        assertTrue(returned.await(2, TimeUnit.SECONDS), "close did not wake the waiter");
        waiter.join();
        assertFalse(result[0], "a closed budget gave bytes");
        // One message larger than the whole budget passes when nothing else is held.
        InputBudget small = new InputBudget(10);
        assertTrue(small.acquire(1000));
        small.release(1000);
        assertEquals(0, small.used());
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "gone";
        }
    }
}
