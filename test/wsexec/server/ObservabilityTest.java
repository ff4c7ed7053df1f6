package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.WireFrames;
import wsexec.websocket.FrameHeader;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Opcode;
import wsexec.websocket.WebSocketLimits;
import wsexec.CommandLine;
import wsexec.Main;
import wsexec.common.Json;
import wsexec.common.Log;
import wsexec.common.Version;

/**
 * What the server shows of itself: the console page at /, /healthz, /metrics and who may read
 * them, 404 elsewhere, the counters moving, and the --trace format.
 */
@Timeout(60)
class ObservabilityTest {
    static final String TOKEN = "observability-token-0123456789";
    /** RFC 6455 §5.7: "Hello" from a client, masked with the key 37 fa 21 3d. */
    static final byte[] MASKED_HELLO = java.util.HexFormat.of().parseHex("8185" + "37fa213d" + "7f9f4d5158");
    static TestServer server;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.exec(TestServer.serverConfig(TestServer.policy(TOKEN, List.of(), List.of(), null)),
                ExecEndpoint.Config.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String get(String target) throws IOException {
        return request("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\n\r\n");
    }

    static String request(String head) throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(head.getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll();
        }
    }

    static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    /** The value of one sample in Prometheus text, e.g. {@code wsexec_jobs_total{exit="ok"}}; 0 when absent. */
    static long sample(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\d+)$").matcher(metrics);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * Runs a command over a raw connection and returns its exit code; closes with 1000 after the
     * exit event. (Not the `run` client: its end of input may reach the server as the job ends,
     * and these tests are about counting, not that race.)
     */
    static long exec(int port, String token, String command) throws IOException {
        try (RawClient client = RawClient.open(port, "/?token=" + token)) {
            client.sendText(Json.object().field("type", "exec").field("id", "j").field("command", command).toString());
            while (true) {
                RawClient.Frame frame = client.readFrame();
                assertNotNull(frame, "the connection ended before the exit event");
                Map<?, ?> event;
                try {
                    event = (Map<?, ?>) Json.parse(frame.text());
                } catch (Json.ParseException e) {
                    throw new AssertionError(frame.text(), e);
                }
                if ("exit".equals(event.get("type"))) {
                    client.sendClose(1000, "");
                    assertEquals(1000, client.readUntilClose().closeCode());
                    return (Long) event.get("code");
                }
            }
        }
    }

    static String metrics() throws IOException {
        String response = get("/metrics");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.contains("Content-Type: text/plain; version=0.0.4"), response);
        return body(response);
    }

    // ---- routes

    @Test
    void theConsoleIsServedAtTheRootWithoutTheTokenAndWithAStrictPolicy() throws IOException {
        String response = get("/");
        assertTrue(response.startsWith("HTTP/1.1 200 OK"), response);
        assertTrue(response.contains("Content-Type: text/html; charset=utf-8"), response);
        assertTrue(response.contains("Content-Security-Policy: default-src 'none'; script-src 'sha256-"), response);
        assertTrue(response.contains("connect-src 'self'"), response);
        assertTrue(response.contains("Referrer-Policy: no-referrer"), response);
        assertEquals(new String(Console.page(), StandardCharsets.UTF_8), body(response));
        assertTrue(body(response).contains("new WebSocket(wsUrl)"), "the page connects back by WebSocket");
        // ...while the WebSocket at the same path still needs the token.
        assertTrue(request(RawClient.upgradeRequest("/", "")).startsWith("HTTP/1.1 401"));
    }

    @Test
    void theConsoleNeedsAHostTheServerAnswersTo() throws IOException {
        String response = request("GET / HTTP/1.1\r\nHost: attacker.example:" + server.port() + "\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 421"), response);
    }

    @Test
    void unknownPathsAre404() throws IOException {
        for (String path : new String[] {"/nope", "/metrics/x", "/healthz.json", "/favicon.ico"}) {
            String response = get(path);
            assertTrue(response.startsWith("HTTP/1.1 404"), path + ": " + response);
        }
    }

    @Test
    void healthzIsSmallJson() throws IOException, Json.ParseException {
        String response = get("/healthz");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.contains("Content-Type: application/json"), response);
        Map<?, ?> health = assertInstanceOf(Map.class, Json.parse(body(response).strip()));
        assertEquals("ok", health.get("status"));
        assertEquals(Main.VERSION, health.get("version"));
        assertInstanceOf(Long.class, health.get("uptimeSeconds"));
        assertInstanceOf(Long.class, health.get("connections"));
        assertInstanceOf(Long.class, health.get("runningJobs"));
    }

    @Test
    void healthzCountsOpenConnectionsAndRunningJobs() throws Exception {
        try (RawClient client = RawClient.open(server.port(), "/?token=" + TOKEN)) {
            client.sendText("{\"type\":\"exec\",\"id\":\"sleeper\",\"command\":\"sleep 30\"}");
            assertEquals("started", ((Map<?, ?>) Json.parse(client.readFrame().text())).get("type"));
            Map<?, ?> health = (Map<?, ?>) Json.parse(body(get("/healthz")).strip());
            assertTrue((Long) health.get("connections") >= 1, health.toString());
            assertTrue((Long) health.get("runningJobs") >= 1, health.toString());
        }
        assertTrue(Processes.await(10_000, () -> {
            try {
                return ((Map<?, ?>) Json.parse(body(get("/healthz")).strip())).get("runningJobs").equals(0L);
            } catch (IOException | Json.ParseException e) {
                return false;
            }
        }), "the job ends with its connection");
    }

    // ---- metrics

    @Test
    void metricsMoveWhenAJobRuns() throws Exception {
        String before = metrics();
        assertEquals(0, exec(server.port(), TOKEN, "echo hello"));
        assertEquals(3, exec(server.port(), TOKEN, "exit 3"));
        String after = metrics();
        assertEquals(sample(before, "wsexec_jobs_total{exit=\"ok\"}") + 1, sample(after, "wsexec_jobs_total{exit=\"ok\"}"));
        assertEquals(sample(before, "wsexec_jobs_total{exit=\"error\"}") + 1, sample(after, "wsexec_jobs_total{exit=\"error\"}"));
        assertEquals(sample(before, "wsexec_connections_total") + 2, sample(after, "wsexec_connections_total"));
        // in: exec and Close on each connection; out: started, output (echo only), exit and Close
        assertTrue(sample(after, "wsexec_frames_received_total") >= sample(before, "wsexec_frames_received_total") + 4, after);
        assertTrue(sample(after, "wsexec_frames_sent_total") >= sample(before, "wsexec_frames_sent_total") + 7, after);
        assertTrue(sample(after, "wsexec_bytes_received_total") > sample(before, "wsexec_bytes_received_total") + 40, after);
        assertTrue(sample(after, "wsexec_bytes_sent_total") > sample(before, "wsexec_bytes_sent_total") + 100, after);
        // A connection is counted closed once its TCP connection is gone, just after the client's last read.
        long closedBefore = sample(before, "wsexec_close_codes_received_total{code=\"1000\"}");
        assertTrue(Processes.await(5000, () -> {
            try {
                return sample(metrics(), "wsexec_close_codes_received_total{code=\"1000\"}") == closedBefore + 2;
            } catch (IOException e) {
                return false;
            }
        }), metrics());
        assertTrue(after.contains("# TYPE wsexec_connections_open gauge"), after);
        assertTrue(after.contains("# TYPE wsexec_jobs_total counter"), after);
    }

    @Test
    void rejectionsAreCountedByReasonAndStatus() throws IOException {
        String before = metrics();
        assertTrue(request(RawClient.upgradeRequest("/?token=wrong", "")).startsWith("HTTP/1.1 401"));
        assertTrue(request(RawClient.upgradeRequest("/?token=" + TOKEN, "Origin: https://evil.example\r\n")).startsWith("HTTP/1.1 403"));
        assertTrue(request(RawClient.upgradeRequest("/", "").replace("Host: 127.0.0.1", "Host: rebound.example"))
                .startsWith("HTTP/1.1 421"));
        assertTrue(request(RawClient.upgradeRequest("/", "").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"))
                .startsWith("HTTP/1.1 426"));
        String after = metrics();
        for (String[] expected : new String[][] {{"token", "401"}, {"origin", "403"}, {"host", "421"}, {"bad_handshake", "426"}}) {
            assertEquals(sample(before, "wsexec_connections_rejected_total{reason=\"" + expected[0] + "\"}") + 1,
                    sample(after, "wsexec_connections_rejected_total{reason=\"" + expected[0] + "\"}"), expected[0]);
            assertEquals(sample(before, "wsexec_handshake_failures_total{status=\"" + expected[1] + "\"}") + 1,
                    sample(after, "wsexec_handshake_failures_total{status=\"" + expected[1] + "\"}"), expected[1]);
        }
    }

    @Test
    void closeCodesSentAreCounted() throws Exception {
        String before = metrics();
        try (RawClient client = RawClient.open(server.port(), "/?token=" + TOKEN)) {
            client.send(client.rawFrame(0x80 | 0x40 | 0x1, new byte[] {'x'})); // RSV1 without an extension: 1002
            assertEquals(1002, client.readUntilClose().closeCode());
        }
        assertTrue(Processes.await(5000, () -> {
            try {
                return sample(metrics(), "wsexec_close_codes_sent_total{code=\"1002\"}")
                        == sample(before, "wsexec_close_codes_sent_total{code=\"1002\"}") + 1;
            } catch (IOException e) {
                return false;
            }
        }));
    }

    // ---- who may read /healthz and /metrics

    static Server.Peer peer(String address) throws IOException {
        return new Server.Peer(InetAddress.getByName(address), 40000);
    }

    static HttpRequest parse(String head) throws Exception {
        byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
        return HttpRequest.parse(bytes, bytes.length);
    }

    @Test
    void operationsEndpointsNeedLoopbackOrTheTokenUnlessPublic() throws Exception {
        AccessPolicy policy = TestServer.policy(TOKEN, List.of(), List.of(), null);
        HttpRequest plain = parse("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1");
        HttpRequest withQuery = parse("GET /metrics?token=" + TOKEN + " HTTP/1.1\r\nHost: 127.0.0.1");
        HttpRequest withBearer = parse("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN);
        HttpRequest wrong = parse("GET /metrics?token=nope HTTP/1.1\r\nHost: 127.0.0.1");
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): a non-loopback address nothing is sent to.
        Server.Peer remote = peer("192.0.2.7");
        assertTrue(policy.mayObserve(plain, peer("127.0.0.1"), false));
        assertTrue(policy.mayObserve(plain, peer("127.0.0.2"), false), "all of 127/8 is loopback");
        assertTrue(policy.mayObserve(plain, peer("::1"), false));
        assertFalse(policy.mayObserve(plain, remote, false));
        assertFalse(policy.mayObserve(wrong, remote, false));
        assertTrue(policy.mayObserve(withQuery, remote, false));
        assertTrue(policy.mayObserve(withBearer, remote, false));
        assertTrue(policy.mayObserve(plain, remote, true), "--metrics-public");
        AccessPolicy noToken = TestServer.policy(null, List.of(), List.of(), null);
        assertFalse(noToken.mayObserve(withQuery, remote, false), "without a server token there is nothing to present");
    }

    @Test
    void theServerAnswers401ToARemoteClientWithoutTheToken() throws Exception {
        // The server's own routing, called with a remote peer (tests cannot connect from a non-loopback address).
        String metrics = new String(server.server.http(parse("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1"), peer("192.0.2.7")),
                StandardCharsets.UTF_8);
        assertTrue(metrics.startsWith("HTTP/1.1 401"), metrics);
        assertTrue(metrics.contains("WWW-Authenticate: Bearer"), metrics);
        String health = new String(server.server.http(parse("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1"), peer("192.0.2.7")),
                StandardCharsets.UTF_8);
        assertTrue(health.startsWith("HTTP/1.1 401"), health);
        String withToken = new String(server.server.http(parse("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + TOKEN), peer("192.0.2.7")), StandardCharsets.UTF_8);
        assertTrue(withToken.startsWith("HTTP/1.1 200"), withToken);
        String console = new String(server.server.http(parse("GET / HTTP/1.1\r\nHost: 127.0.0.1"), peer("192.0.2.7")),
                StandardCharsets.UTF_8);
        assertTrue(console.startsWith("HTTP/1.1 200"), "the page itself holds no secret: " + console.substring(0, 40));
    }

    @Test
    void thePagesOwnOriginIsAcceptedForEveryNameTheServerAnswersTo() throws Exception {
        AccessPolicy policy = TestServer.policy(TOKEN, List.of(), List.of(), null);
        int port = 8023;
        for (String host : new String[] {"127.0.0.1", "localhost", "[::1]", "wsexec.test", "LOCALHOST"}) {
            HttpRequest request = parse("GET /?token=" + TOKEN + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nOrigin: http://" + host + ":" + port);
            policy.admit(request, peer("127.0.0.1"), port, false); // throws HandshakeException if refused
        }
        // Not another port's page, nor another scheme.
        for (String origin : new String[] {"http://127.0.0.1:8024", "https://127.0.0.1:8023", "http://evil.example:8023"}) {
            HttpRequest request = parse("GET /?token=" + TOKEN + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: " + origin);
            assertEquals(403, org.junit.jupiter.api.Assertions.assertThrows(wsexec.websocket.HandshakeException.class,
                    () -> policy.admit(request, peer("127.0.0.1"), port, false)).status(), origin);
        }
    }

    // ---- --trace

    @Test
    void framesAreDescribedAsTheRfcDrawsThem() {
        // RFC 6455 §5.7
        byte[] hello = "Hello".getBytes(StandardCharsets.US_ASCII);
        assertEquals("FIN=1 RSV=000 TEXT   MASK=1 key=37fa213d len=5 (7-bit) \"Hello\"",
                Trace.describe(new FrameHeader(true, 0, Opcode.TEXT, true, 0x37fa213d, 5, 7), Opcode.TEXT, hello, 0, 5));
        assertEquals("FIN=1 RSV=000 TEXT   MASK=0 len=5 (7-bit) \"Hello\"",
                Trace.describe(new FrameHeader(true, 0, Opcode.TEXT, false, 0, 5, 7), Opcode.TEXT, hello, 0, 5));
        assertEquals("FIN=1 RSV=000 PING   MASK=0 len=5 (7-bit) 48656c6c6f",
                Trace.describe(new FrameHeader(true, 0, Opcode.PING, false, 0, 5, 7), Opcode.PING, hello, 0, 5));
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        assertEquals("FIN=1 RSV=000 BINARY MASK=0 len=256 (16-bit) 00010203040506070809 …",
                Trace.describe(new FrameHeader(true, 0, Opcode.BINARY, false, 0, 256, 16), Opcode.BINARY, binary, 0, 10));
        assertEquals("FIN=1 RSV=000 BINARY MASK=0 len=65536 (64-bit) 0001 …",
                Trace.describe(new FrameHeader(true, 0, Opcode.BINARY, false, 0, 65536, 64), Opcode.BINARY, binary, 0, 2));
        assertEquals("FIN=0 RSV=100 TEXT   MASK=0 len=3 (7-bit) \"a\\n\\\"\"",
                Trace.describe(new FrameHeader(false, 4, Opcode.TEXT, false, 0, 3, 7), Opcode.TEXT, new byte[] {'a', '\n', '"'}, 0, 3));
        byte[] close = WireFrames.closeBody(1000, "bye");
        assertEquals("FIN=1 RSV=000 CLOSE  MASK=0 len=5 (7-bit) code=1000 \"bye\"",
                Trace.describe(new FrameHeader(true, 0, Opcode.CLOSE, false, 0, 5, 7), Opcode.CLOSE, close, 0, 5));
        assertEquals("FIN=1 RSV=000 PONG   MASK=0 len=0 (7-bit)",
                Trace.describe(new FrameHeader(true, 0, Opcode.PONG, false, 0, 0, 7), Opcode.PONG, new byte[0], 0, 0));
    }

    @Test
    void tokensAreRedactedFromHeads() {
        String head = "GET /?a=1&token=s3cret&b=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nX-Other: token=keep";
        String redacted = Trace.redact(head);
        assertFalse(redacted.contains("s3cret"), redacted);
        assertEquals("GET /?a=1&token=<redacted>&b=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer <redacted>\r\nX-Other: token=keep",
                redacted);
        assertEquals("GET /?token=<redacted> HTTP/1.1", Trace.redact("GET /?token=abc HTTP/1.1"));
    }

    @Test
    void traceShowsAWholeExchangeOverARealSocket() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
        String secret = "trace-secret-" + System.nanoTime();
        try (Server echo = new Server(TestServer.serverConfig(WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2))),
                new EchoEndpoint(), new Server.Observability(true, false)).start();
             RawClient client = RawClient.open(echo.port(), "/?token=" + secret)) {
            client.send(MASKED_HELLO);
            assertEquals("Hello", client.readFrame().text());
            client.sendClose(1000, "");
            assertEquals(1000, client.readUntilClose().closeCode());
            assertTrue(client.awaitEof());
            assertTrue(Processes.await(5000, () -> log.toString(StandardCharsets.UTF_8).contains("S->C FIN=1 RSV=000 CLOSE")));
        } finally {
            Log.to(System.err);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("C->S HTTP request head"), text);
        assertTrue(text.contains("    | GET /?token=<redacted> HTTP/1.1"), text);
        assertTrue(text.contains("    | HTTP/1.1 101 Switching Protocols"), text);
        assertTrue(text.contains("    | Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), text);
        assertTrue(text.contains("C->S FIN=1 RSV=000 TEXT   MASK=1 key=37fa213d len=5 (7-bit) \"Hello\""), text);
        assertTrue(text.contains("S->C FIN=1 RSV=000 TEXT   MASK=0 len=5 (7-bit) \"Hello\""), text);
        assertTrue(text.contains("C->S FIN=1 RSV=000 CLOSE  MASK=1 key="), text);
        assertTrue(text.contains("S->C FIN=1 RSV=000 CLOSE  MASK=0 len=2 (7-bit) code=1000"), text);
        assertFalse(text.contains(secret), text);
        // Request head, then 101, then the frames: in that order.
        assertTrue(text.indexOf("HTTP request head") < text.indexOf("101 Switching") && text.indexOf("101 Switching") < text.indexOf("key=37fa213d"), text);
    }

    // ---- flags

    @Test
    void theFlagsAreParsedForServeAndEcho() throws CommandLine.UsageException {
        CommandLine.Serve plain = (CommandLine.Serve) CommandLine.parse(new String[] {"serve"});
        assertEquals(Server.Observability.DEFAULTS, plain.observability());
        assertEquals(Log.Format.TEXT, plain.logFormat());
        CommandLine.Serve all = (CommandLine.Serve) CommandLine.parse(new String[] {"serve", "--trace", "--metrics-public", "--log-format=json"});
        assertEquals(new Server.Observability(true, true), all.observability());
        assertEquals(Log.Format.JSON, all.logFormat());
        CommandLine.Echo echo = (CommandLine.Echo) CommandLine.parse(new String[] {"echo", "--trace", "--log-format", "json"});
        assertEquals(new Server.Observability(true, false), echo.observability());
        assertEquals(Log.Format.JSON, echo.logFormat());
        CommandLine.UsageException e = org.junit.jupiter.api.Assertions.assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"serve", "--log-format", "xml"}));
        assertEquals("--log-format must be text, json or journal, got 'xml'", e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"serve", "--trace=yes"}));
    }

    // ---- logs

    @Test
    void aTextLogLineCannotBeSplitByWhatAClientSent() {
        assertEquals("job a\\nFAKE line\\r\\u0007 exited", Log.printable("job a\nFAKE line\r\u0007 exited"));
        assertEquals("plain", Log.printable("plain"));
    }
}
