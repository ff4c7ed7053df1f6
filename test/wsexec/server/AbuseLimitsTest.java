package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.Handshake;
import wsexec.websocket.Opcode;
import wsexec.websocket.WebSocketLimits;
import wsexec.CommandLine;

/** Every limit against abuse, crossed over a real socket, with the status or close code it gives. */
@Timeout(60)
class AbuseLimitsTest {
    static final ExecEndpoint.Config JOBS = new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ZERO, true);

    static Server.Config config(WebSocketLimits limits, Duration handshakeTimeout, int maxConnections) throws IOException {
        return new Server.Config(InetAddress.getByName("127.0.0.1"), 0, limits, handshakeTimeout, Handshake.MAX_HEAD_BYTES, maxConnections);
    }

    static Server.Config plain() throws IOException {
        return config(WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2)), Duration.ofSeconds(10), 1024);
    }

    static String refusal(int port) throws IOException {
        try (RawClient client = RawClient.connect(port)) {
            client.send(RawClient.upgradeRequest("/", "").getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll();
        }
    }

    @Test
    void theDocumentedDefaults() throws Exception {
        CommandLine.Serve serve = (CommandLine.Serve) CommandLine.parse(new String[] {"serve"});
        assertEquals(1024, serve.server().maxConnections());
        assertEquals(256, serve.server().maxConnectionsPerAddress());
        assertEquals(Duration.ofSeconds(30), serve.server().pingInterval());
        assertEquals(Duration.ofMinutes(10), serve.exec().idleTimeout());
        assertEquals(1024, serve.server().limits().maxFragments());
        CommandLine.Echo echo = (CommandLine.Echo) CommandLine.parse(new String[] {"echo"});
        assertTrue(echo.server().pingInterval().isZero(), "conformance suites count every frame: no pings");
        assertTrue(!echo.server().access().authenticates(), "the echo server runs nothing and asks for no token");
    }

    @Test
    void connectionsOverTheServerCapGet503() throws Exception {
        try (TestServer server = TestServer.exec(config(WebSocketLimits.DEFAULTS, Duration.ofSeconds(10), 2), JOBS);
             RawClient a = RawClient.open(server.port());
             RawClient b = RawClient.open(server.port())) {
            assertTrue(a.socket().isConnected() && b.socket().isConnected());
            String response = refusal(server.port());
            assertTrue(response.startsWith("HTTP/1.1 503 "), response);
        }
    }

    @Test
    void connectionsOverThePerAddressCapGet429AndTheSlotComesBack() throws Exception {
        try (TestServer server = TestServer.exec(plain().withMaxConnectionsPerAddress(2), JOBS)) {
            RawClient a = RawClient.open(server.port());
            try (RawClient b = RawClient.open(server.port())) {
                assertTrue(b.socket().isConnected());
                String response = refusal(server.port());
                assertTrue(response.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), response);
                a.close();
                assertTrue(Processes.await(5000, () -> server.server.openConnections() <= 1));
                try (RawClient c = RawClient.open(server.port())) {
                    assertNotNull(c, "a closed connection gives its place back");
                }
            }
        }
    }

    @Test
    void aSlowlorisTricklingBytesIsCutOffAtTheDeadline() throws Exception {
        try (TestServer server = TestServer.exec(config(WebSocketLimits.DEFAULTS, Duration.ofSeconds(1), 1024), JOBS);
             RawClient client = RawClient.connect(server.port())) {
            byte[] endless = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(4000)).getBytes(StandardCharsets.ISO_8859_1);
            long start = System.nanoTime();
            long cutOffMillis = -1;
            for (byte b : endless) {
                try {
                    client.send(new byte[] {b}); // one byte every 20 ms: the head is never too big, only too slow
                } catch (IOException e) {
                    cutOffMillis = (System.nanoTime() - start) / 1_000_000;
                    break;
                }
                Thread.sleep(20);
            }
            if (cutOffMillis < 0) {
                assertTrue(client.awaitEof(), "the server never closed the trickling connection");
                cutOffMillis = (System.nanoTime() - start) / 1_000_000;
            }
            assertTrue(cutOffMillis >= 900, "cut off after " + cutOffMillis + " ms, before the 1 s deadline");
            assertTrue(cutOffMillis < 5000, "cut off only after " + cutOffMillis + " ms");
            assertTrue(Processes.await(2000, () -> server.server.openConnections() == 0), "the connection's thread is gone");
        }
    }

    @Test
    void aMessageOverMaxMessageIsClosedWith1009() throws Exception {
        try (TestServer server = TestServer.exec(config(new WebSocketLimits(1024, 4, Duration.ofSeconds(2)), Duration.ofSeconds(10), 1024), JOBS);
             RawClient client = RawClient.open(server.port())) {
            client.sendFrame(true, Opcode.TEXT, "x".repeat(1025).getBytes(StandardCharsets.UTF_8));
            assertEquals(1009, client.readUntilClose().closeCode());
        }
    }

    @Test
    void aMessageInTooManyFragmentsIsClosedWith1008() throws Exception {
        try (TestServer server = TestServer.exec(config(new WebSocketLimits(1024, 4, Duration.ofSeconds(2)), Duration.ofSeconds(10), 1024), JOBS);
             RawClient client = RawClient.open(server.port())) {
            client.sendFrame(false, Opcode.TEXT, "e".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < 4; i++) {
                client.sendFrame(false, Opcode.CONTINUATION, "c".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(1008, client.readUntilClose().closeCode());
        }
    }

    @Test
    void aPeerThatDoesNotAnswerPingsIsDroppedAndItsJobsKilled() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(plain().withPingInterval(Duration.ofMillis(300)), JOBS);
             RawClient client = RawClient.open(server.port())) {
            client.sendText("{\"type\":\"exec\",\"id\":\"1\",\"command\":\"sleep 30\",\"env\":{\"WSEXEC_MARKER\":\"" + marker + "\"}}");
            long sent = System.nanoTime();
            int pings = 0;
            RawClient.Frame frame = client.readFrame();
            while (frame != null && frame.opcode() == Opcode.PING) { // a slow spawn: the first ping may come first
                pings++;
                frame = client.readFrame();
            }
            assertTrue(frame != null && frame.text().contains("\"started\""), "expected started, got " + frame);
            // the shell and its sleep (dash forks even a lone command)
            assertTrue(Processes.await(5000, () -> !Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty()),
                    "the job's processes should be running");
            while ((frame = client.readFrame()) != null) { // never answering
                assertEquals(Opcode.PING, frame.opcode(), "only pings until the drop, got " + frame.opcode());
                pings++;
            }
            long droppedMillis = (System.nanoTime() - sent) / 1_000_000;
            assertTrue(pings >= 1, "no ping before the drop");
            assertTrue(droppedMillis >= 550, "dropped after " + droppedMillis + " ms, before two intervals of silence");
            assertTrue(droppedMillis < 3000, "dropped only after " + droppedMillis + " ms");
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty()),
                    "the dropped peer's job is still running");
        }
    }

    @Test
    void aPeerThatAnswersPingsStays() throws Exception {
        try (TestServer server = TestServer.exec(plain().withPingInterval(Duration.ofMillis(200)), JOBS);
             RawClient client = RawClient.open(server.port())) {
            long end = System.nanoTime() + 1_500_000_000L; // more than seven intervals
            int pings = 0;
            while (System.nanoTime() < end) {
                RawClient.Frame frame = client.readFrame();
                assertNotNull(frame, "dropped although every ping was answered");
                assertEquals(Opcode.PING, frame.opcode());
                client.sendFrame(true, Opcode.PONG, frame.payload());
                pings++;
            }
            assertTrue(pings >= 5, "pings: " + pings);
            client.sendText("echo still here");
            StringBuilder events = new StringBuilder();
            while (!events.toString().contains("\"exit\"")) {
                RawClient.Frame frame = client.readFrame();
                assertNotNull(frame);
                if (frame.opcode() == Opcode.PING) {
                    client.sendFrame(true, Opcode.PONG, frame.payload());
                } else {
                    events.append(frame.text());
                }
            }
            assertTrue(events.toString().contains("still here"), events.toString());
        }
    }

    @Test
    void anIdleConnectionIsClosedWith1000() throws Exception {
        try (TestServer server = TestServer.exec(plain(), JOBS.withIdleTimeout(Duration.ofMillis(500)));
             RawClient client = RawClient.open(server.port())) {
            long start = System.nanoTime();
            RawClient.Frame close = client.readFrame();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Opcode.CLOSE, close.opcode());
            assertEquals(1000, close.closeCode());
            assertTrue(millis >= 450 && millis < 3000, "closed after " + millis + " ms");
        }
    }

    @Test
    void aConnectionWithARunningJobIsNotIdle() throws Exception {
        try (TestServer server = TestServer.exec(plain(), JOBS.withIdleTimeout(Duration.ofMillis(400)));
             RawClient client = RawClient.open(server.port())) {
            client.sendText("sleep 1.2");
            List<String> events = new ArrayList<>();
            long exitNanos = 0;
            RawClient.Frame frame;
            while ((frame = client.readFrame()).opcode() != Opcode.CLOSE) {
                events.add(frame.text());
                if (frame.text().contains("\"exit\"")) {
                    exitNanos = System.nanoTime();
                }
            }
            assertTrue(exitNanos > 0, "closed before the job ended: " + events);
            long idleMillis = (System.nanoTime() - exitNanos) / 1_000_000;
            assertEquals(1000, frame.closeCode());
            assertTrue(idleMillis >= 300, "closed " + idleMillis + " ms after the job ended");
        }
    }

    @Test
    void jobsOverThePerConnectionCapAreRefused() throws Exception {
        try (TestServer server = TestServer.exec(plain(), new ExecEndpoint.Config(1, 512, Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ZERO, true));
             RawClient client = RawClient.open(server.port())) {
            client.sendText("{\"type\":\"exec\",\"id\":\"1\",\"command\":\"sleep 5\"}");
            assertTrue(client.readFrame().text().contains("\"started\""));
            client.sendText("{\"type\":\"exec\",\"id\":\"2\",\"command\":\"true\"}");
            String event = client.readFrame().text();
            assertTrue(event.contains("\"code\":\"too_many_jobs\"") && event.contains("\"id\":\"2\""), event);
        }
    }

    @Test
    void jobsOverTheServerCapAreRefused() throws Exception {
        try (TestServer server = TestServer.exec(plain(), new ExecEndpoint.Config(64, 1, Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ZERO, true));
             RawClient a = RawClient.open(server.port());
             RawClient b = RawClient.open(server.port())) {
            a.sendText("{\"type\":\"exec\",\"id\":\"1\",\"command\":\"sleep 5\"}");
            assertTrue(a.readFrame().text().contains("\"started\""));
            b.sendText("{\"type\":\"exec\",\"id\":\"1\",\"command\":\"true\"}");
            String event = b.readFrame().text();
            assertTrue(event.contains("\"code\":\"too_many_jobs\""), event);
        }
    }
}
