package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.common.Log;
import wsexec.websocket.RawClient;

/**
 * serve --base-path and --trusted-proxy over real sockets: what lives under the prefix, which
 * address is logged and counted, and the Origin check behind a proxy.
 */
@Timeout(60)
class DeploymentTest {

    static TestServer server(String basePath, String trusted, int perAddress) throws IOException {
        Server.Config config = TestServer.serverConfig(TestServer.policy(null, List.of(), List.of(), null))
                .withMaxConnectionsPerAddress(perAddress);
        TrustedProxies proxies = trusted == null ? TrustedProxies.NONE : new TrustedProxies(List.of(TrustedProxies.Cidr.parse(trusted)));
        return TestServer.exec(config, ExecEndpoint.Config.DEFAULTS, new Server.Deployment(basePath, proxies));
    }

    static String exchange(TestServer server, String request) throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll();
        }
    }

    static String get(String target, String headers) {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
    }

    static String status(String response) {
        return response.substring(0, Math.min(12, response.length()));
    }

    /** Runs the body with the log captured (not quiet), and returns what was logged. */
    static String logged(IoAction body) throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
        Log.quiet(false);
        try {
            body.run();
            // the close is logged by the connection's thread, after the client saw it
            long end = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < end && !log.toString(StandardCharsets.UTF_8).contains("closed")) {
                Thread.onSpinWait();
            }
        } finally {
            Log.quiet(true);
            Log.to(System.err);
        }
        return log.toString(StandardCharsets.UTF_8);
    }

    interface IoAction {
        void run() throws IOException;
    }

    @Test
    void everythingLivesUnderTheBasePathAndNothingOutside() throws IOException {
        try (TestServer server = server("/exec/", null, 256)) {
            assertEquals("HTTP/1.1 200", status(exchange(server, get("/exec/", ""))));
            assertTrue(exchange(server, get("/exec/", "")).contains("<html"), "the console");
            assertEquals("HTTP/1.1 200", status(exchange(server, get("/exec/healthz", ""))));
            assertEquals("HTTP/1.1 200", status(exchange(server, get("/exec/metrics", ""))));
            for (String outside : new String[] {"/", "/healthz", "/metrics", "/execx/", "/other/exec/", "/index.html"}) {
                assertEquals("HTTP/1.1 404", status(exchange(server, get(outside, ""))), outside);
            }
            assertEquals("HTTP/1.1 404", status(exchange(server, RawClient.upgradeRequest("/", ""))), "a WebSocket outside");
            String redirect = exchange(server, get("/exec?token=x", ""));
            assertEquals("HTTP/1.1 301", status(redirect), redirect);
            assertTrue(redirect.contains("\r\nLocation: exec/?token=x\r\n"), redirect);
            try (RawClient client = RawClient.open(server.port(), "/exec/")) {
                client.sendText("{\"type\":\"exec\",\"id\":\"a\",\"command\":\"echo under-the-prefix\"}");
                String seen = "";
                for (int i = 0; i < 20 && !seen.contains("\"exit\""); i++) {
                    seen += client.readFrame().text();
                }
                assertTrue(seen.contains("under-the-prefix"), seen);
            }
        }
    }

    @Test
    void proxiesSendConnectionKeepAliveUpgradeAndThatIsAnUpgrade() throws IOException {
        try (TestServer server = server("/", null, 256); RawClient client = RawClient.connect(server.port())) {
            String request = RawClient.upgradeRequest("/", "").replace("Connection: Upgrade", "connection: keep-alive, Upgrade")
                    .replace("Upgrade: websocket", "upgrade: WebSocket");
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            String head = client.readResponseHead();
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
        }
    }

    @Test
    void forgedForwardedForFromAnUntrustedPeerIsIgnoredAndNeverLogged() throws IOException {
        try (TestServer server = server("/", "10.0.0.0/8", 256)) {
            String log = logged(() -> {
                try (RawClient client = RawClient.connect(server.port())) {
                    client.send(RawClient.upgradeRequest("/", "X-Forwarded-For: 203.0.113.66\r\nForwarded: for=203.0.113.67\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"));
                    client.sendClose(1000, "");
                    client.readAll();
                }
            });
            assertTrue(log.contains("connection 127.0.0.1:"), log);
            assertFalse(log.contains("203.0.113.6"), log);
        }
    }

    @Test
    void aTrustedProxysClientIsLoggedAndCountedByItsForwardedAddress() throws IOException {
        try (TestServer server = server("/", "127.0.0.1/32", 1)) {
            String log = logged(() -> {
                List<RawClient> open = new ArrayList<>();
                try {
                    for (String client : new String[] {"203.0.113.9", "203.0.113.10"}) {
                        RawClient c = RawClient.connect(server.port());
                        open.add(c);
                        c.send(RawClient.upgradeRequest("/", "X-Forwarded-For: 1.1.1.1, " + client + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        assertTrue(c.readResponseHead().startsWith("HTTP/1.1 101"), "one connection each: under the limit of 1");
                    }
                    String second = exchange(server, RawClient.upgradeRequest("/", "X-Forwarded-For: 203.0.113.9\r\n"));
                    assertEquals("HTTP/1.1 429", status(second), "a second from the same forwarded client is over the limit");
                    assertTrue(second.contains("203.0.113.9"), second);
                } finally {
                    for (RawClient c : open) {
                        c.close();
                    }
                }
            });
            assertTrue(log.contains("connection 203.0.113.9 via 127.0.0.1:"), log);
            assertTrue(log.contains("connection 203.0.113.10 via 127.0.0.1:"), log);
            assertFalse(log.contains("1.1.1.1"), "the forged entry left of the client's is not believed: " + log);
        }
    }

    @Test
    void theTraceNamesTheForwardedClientFromTheRequestHeadOn() throws IOException {
        Server.Config config = TestServer.serverConfig(TestServer.policy(null, List.of(), List.of(), null));
        Server.Deployment deployment = new Server.Deployment("/", new TrustedProxies(List.of(TrustedProxies.Cidr.parse("127.0.0.1/32"))));
        try (TestServer server = TestServer.exec(config, ExecEndpoint.Config.DEFAULTS, deployment, new Server.Observability(true, false))) {
            String log = logged(() -> {
                try (RawClient client = RawClient.connect(server.port())) {
                    client.send(RawClient.upgradeRequest("/", "X-Forwarded-For: 203.0.113.21\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"));
                    client.sendClose(1000, "");
                    client.readAll();
                }
            });
            assertTrue(log.contains("203.0.113.21 via 127.0.0.1:") && log.contains(" C->S HTTP request head"), log);
            assertTrue(log.lines().filter(l -> l.contains("HTTP request head") || l.contains("HTTP response head") || l.contains("C->S") || l.contains("S->C"))
                    .allMatch(l -> l.contains("203.0.113.21 via 127.0.0.1:")), "every trace line names the client: " + log);
        }
    }

    @Test
    void theOriginTheBrowserSawThroughTheProxyPassesWithoutAllowOrigin() throws IOException {
        String forwarded = "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: wsexec.test\r\n";
        try (TestServer trusted = server("/", "127.0.0.1/32", 256); TestServer untrusted = server("/", null, 256)) {
            String request = RawClient.upgradeRequest("/", forwarded + "Origin: https://wsexec.test\r\n");
            try (RawClient client = RawClient.connect(trusted.port())) {
                client.send(request.getBytes(StandardCharsets.ISO_8859_1));
                assertEquals("HTTP/1.1 101", status(client.readResponseHead()));
            }
            assertEquals("HTTP/1.1 403", status(exchange(untrusted, request)), "without --trusted-proxy the headers mean nothing");
            assertEquals("HTTP/1.1 403", status(exchange(trusted, RawClient.upgradeRequest("/", forwarded + "Origin: http://wsexec.test\r\n"))));
            assertEquals("HTTP/1.1 403", status(exchange(trusted, RawClient.upgradeRequest("/", forwarded + "Origin: https://evil.example\r\n"))));
            String rebound = "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nOrigin: https://evil.example\r\n";
            assertEquals("HTTP/1.1 421", status(exchange(trusted, RawClient.upgradeRequest("/", rebound))),
                    "a forwarded host must still be a name the server answers to");
        }
    }

    @Test
    void metricsAreNotFreeForARemoteClientJustBecauseTheProxyIsLocal() throws IOException {
        try (TestServer server = server("/", "127.0.0.1/32", 256)) {
            assertEquals("HTTP/1.1 200", status(exchange(server, get("/metrics", ""))));
            // the policy of this server has no token, so only loopback may observe; the forwarded client is not loopback
            assertEquals("HTTP/1.1 401", status(exchange(server, get("/metrics", "X-Forwarded-For: 203.0.113.9\r\n"))));
        }
    }
}
