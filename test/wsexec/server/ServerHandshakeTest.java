package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.Handshake;
import wsexec.websocket.WebSocketLimits;

/** The opening handshake over a real socket: every refusal with its status, and the socket closed after it. */
@Timeout(30)
class ServerHandshakeTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Server.Config config = new Server.Config(java.net.InetAddress.getByName("127.0.0.1"), 0,
                WebSocketLimits.DEFAULTS, Duration.ofSeconds(2), Handshake.MAX_HEAD_BYTES, 1024);
        server = TestServer.exec(config, ExecEndpoint.Config.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String exchange(String request) throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll(); // also proves the server closes the socket after answering
        }
    }

    @Test
    void validHandshakeGets101WithTheAcceptValue() throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(RawClient.upgradeRequest("/", "").getBytes(StandardCharsets.ISO_8859_1));
            String head = client.readResponseHead();
            assertTrue(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head);
            assertTrue(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head);
            assertTrue(head.toLowerCase().contains("upgrade: websocket\r\n"), head);
        }
    }

    @Test
    void firefoxStyleConnectionHeaderIsAccepted() throws IOException {
        String request = RawClient.upgradeRequest("/", "").replace("Connection: Upgrade", "Connection: keep-alive, Upgrade");
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"));
        }
    }

    @Test
    void wrongVersionIs426() throws IOException {
        String response = exchange(RawClient.upgradeRequest("/", "").replace("Version: 13", "Version: 8"));
        assertTrue(response.startsWith("HTTP/1.1 426 "), response);
        assertTrue(response.contains("Sec-WebSocket-Version: 13\r\n"), response);
    }

    @Test
    void badUpgradeRequestsAre400WithAOneLineReason() throws IOException {
        String valid = RawClient.upgradeRequest("/", "");
        for (String bad : new String[] {
                valid.replace("Sec-WebSocket-Key: " + RawClient.KEY, "Sec-WebSocket-Key: c2hvcnQ="),
                valid.replace("Host: 127.0.0.1\r\n", ""),
                valid.replace("Connection: Upgrade", "Connection: close"),
                valid.replace("GET ", "POST "),
                valid.replace("HTTP/1.1", "HTTP/1.0")}) {
            String response = exchange(bad);
            assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
            String body = response.substring(response.indexOf("\r\n\r\n") + 4);
            assertEquals(1, body.lines().count(), body);
        }
    }

    @Test
    void headOver8KiBIs431() throws IOException {
        String response = exchange(RawClient.upgradeRequest("/", "X-Big: " + "a".repeat(9000) + "\r\n"));
        assertTrue(response.startsWith("HTTP/1.1 431 "), response);
    }

    @Test
    void moreThan100HeadersIs431() throws IOException {
        StringBuilder extra = new StringBuilder();
        for (int i = 0; i < 101; i++) {
            extra.append("X-H").append(i).append(": v\r\n");
        }
        assertTrue(exchange(RawClient.upgradeRequest("/", extra.toString())).startsWith("HTTP/1.1 431 "));
    }

    @Test
    void aHeadThatNeverCompletesIsCutOffAtTheDeadline() throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long start = System.nanoTime();
            assertTrue(client.awaitEof(), "server should close a connection whose head does not arrive");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 1500, "closed after " + millis + " ms, before the 2 s deadline");
        }
    }

    @Test
    void serverKeepsServingAfterBadClients() throws IOException {
        exchange("garbage\r\n\r\n");
        exchange("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n");
        try (RawClient client = RawClient.open(server.port())) {
            client.sendText("echo still here");
            String events = client.readFrame().text() + client.readFrame().text();
            assertTrue(events.contains("still here"), events);
        }
    }
}
