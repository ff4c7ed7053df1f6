package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import wsexec.common.Log;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;
import wsexec.CommandLine;
import wsexec.client.Clients;

/**
 * Who may connect and what may run: every refusal of the access policy over a real socket, with
 * its status, and proof that nothing reaches a process without passing it.
 */
@Timeout(60)
class AccessPolicyTest {
    static final String TOKEN = "test-token-0123456789abcdef";
    static TestServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.exec(TestServer.serverConfig(TestServer.policy(TOKEN, List.of("https://console.example.org"),
                List.of("echo [a-z]+", "printf .*"), null)), ExecEndpoint.Config.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Sends a request head and returns everything the server answered before closing. */
    static String exchange(String request) throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll();
        }
    }

    static String upgrade(String target, String headers) {
        return RawClient.upgradeRequest(target, headers);
    }

    static String status(String response) {
        return response.substring(0, Math.min(12, response.length()));
    }

    // ---- authentication

    @Test
    void missingTokenIs401BeforeTheUpgrade() throws IOException {
        String response = exchange(upgrade("/", ""));
        assertEquals("HTTP/1.1 401", status(response), response);
        assertTrue(response.contains("WWW-Authenticate: Bearer\r\n"), response);
        assertFalse(response.contains("Sec-WebSocket-Accept"), response);
    }

    @Test
    void wrongTokenIs401WhetherInHeaderOrQuery() throws IOException {
        assertEquals("HTTP/1.1 401", status(exchange(upgrade("/?token=" + TOKEN + "x", ""))));
        assertEquals("HTTP/1.1 401", status(exchange(upgrade("/?token=" + TOKEN.substring(1), ""))));
        assertEquals("HTTP/1.1 401", status(exchange(upgrade("/", "Authorization: Bearer wrong-" + TOKEN + "\r\n"))));
        assertEquals("HTTP/1.1 401", status(exchange(upgrade("/", "Authorization: Basic " + TOKEN + "\r\n"))));
        assertEquals("HTTP/1.1 401", status(exchange(upgrade("/?tokenx=" + TOKEN, ""))));
    }

    @Test
    void rightTokenInHeaderOrQueryIsAdmitted() throws IOException {
        for (String request : new String[] {
                upgrade("/", "Authorization: Bearer " + TOKEN + "\r\n"),
                upgrade("/", "authorization: bearer " + TOKEN + "\r\n"),
                upgrade("/?token=" + TOKEN, ""),
                upgrade("/?a=1&token=" + TOKEN + "&b=2", "")}) {
            try (RawClient client = RawClient.connect(server.port())) {
                client.send(request.getBytes(StandardCharsets.ISO_8859_1));
                String head = client.readResponseHead();
                assertTrue(head.startsWith("HTTP/1.1 101"), request + "\n" + head);
            }
        }
    }

    @Test
    void refusalsAreLoggedWithoutTheToken() throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
        Log.quiet(false);
        String presented = "presented-secret-" + System.nanoTime();
        try {
            assertEquals("HTTP/1.1 401", status(exchange(upgrade("/?token=" + presented, ""))));
            assertEquals("HTTP/1.1 401", status(exchange(upgrade("/", "Authorization: Bearer " + presented + "\r\n"))));
        } finally {
            Log.quiet(true);
            Log.to(System.err);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains(": 401 "), text);
        assertFalse(text.contains(presented), text);
        assertFalse(text.contains(TOKEN), text);
    }

    @Test
    void theRunClientTakesTheTokenFromFlagFileOrUrl() throws IOException {
        Path file = dir.resolve("token");
        Files.writeString(file, TOKEN + "\n");
        String url = server.url();
        assertEquals("ok\n", Clients.main(new byte[0], "run", "--url", url, "--token", TOKEN, "--", "echo ok").out());
        assertEquals("ok\n", Clients.main(new byte[0], "run", "--url", url, "--token-file", file.toString(), "--", "echo ok").out());
        assertEquals("ok\n", Clients.main(new byte[0], "run", "--url", url + "?token=" + TOKEN, "--", "echo ok").out());
        Clients.Result refused = Clients.main(new byte[0], "run", "--url", url, "--token", "not-" + TOKEN, "--", "echo ok");
        assertEquals(255, refused.status());
        assertTrue(refused.err().contains("401"), refused.err());
        assertEquals(1, refused.err().lines().count(), refused.err());
    }

    // ---- origin (cross-site WebSocket hijacking)

    @Test
    void aForeignOriginIs403EvenWithTheToken() throws IOException {
        for (String origin : new String[] {"http://evil.example", "https://console.example.org.evil.example",
                "https://console.example.org/", "http://console.example.org", "null", "http://127.0.0.1:" + (server.port() + 1),
                "https://127.0.0.1:" + server.port(), "http://127.0.0.1:" + server.port() + "/path"}) {
            String response = exchange(upgrade("/?token=" + TOKEN, "Origin: " + origin + "\r\n"));
            assertEquals("HTTP/1.1 403", status(response), origin + "\n" + response);
        }
    }

    @Test
    void theServersOwnOriginAndListedOnesAreAdmitted() throws IOException {
        for (String origin : new String[] {"http://127.0.0.1:" + server.port(), "http://localhost:" + server.port(),
                "http://[::1]:" + server.port(), "http://wsexec.test:" + server.port(), "https://console.example.org"}) {
            try (RawClient client = RawClient.connect(server.port())) {
                client.send(upgrade("/?token=" + TOKEN, "Origin: " + origin + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"), origin);
            }
        }
    }

    @Test
    void theOriginIsCheckedBeforeTheToken() throws IOException {
        // A hijacking page cannot learn whether a token it guessed is right.
        assertEquals("HTTP/1.1 403", status(exchange(upgrade("/", "Origin: http://evil.example\r\n"))));
    }

    // ---- Host (DNS rebinding)

    @Test
    void aHostThatIsNotOursIs421() throws IOException {
        for (String host : new String[] {"evil.example:" + server.port(), "evil.example", "127.0.0.2:" + server.port(),
                "localhost.evil.example", "[::2]:" + server.port()}) {
            String response = exchange(upgrade("/?token=" + TOKEN, "").replace("Host: 127.0.0.1", "Host: " + host));
            assertEquals("HTTP/1.1 421", status(response), host + "\n" + response);
        }
        // a plain HTTP request too: a page this server serves must not be read through a rebound name
        String plain = exchange("GET / HTTP/1.1\r\nHost: evil.example:" + server.port() + "\r\n\r\n");
        assertEquals("HTTP/1.1 421", status(plain), plain);
    }

    @Test
    void loopbackNamesWithOrWithoutPortAndListedHostnamesAreOurs() throws IOException {
        for (String host : new String[] {"127.0.0.1", "127.0.0.1:" + server.port(), "localhost:" + server.port(),
                "LOCALHOST", "[::1]:" + server.port(), "wsexec.test:" + server.port()}) {
            try (RawClient client = RawClient.connect(server.port())) {
                client.send(upgrade("/?token=" + TOKEN, "").replace("Host: 127.0.0.1", "Host: " + host).getBytes(StandardCharsets.ISO_8859_1));
                assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"), host);
            }
        }
    }

    // ---- command policy

    @Test
    void aCommandOutsideTheAllowListIsForbiddenAndNeverStarts() throws IOException {
        Path marker = dir.resolve("marker");
        try (RawClient client = RawClient.connect(server.port())) {
            client.send(upgrade("/?token=" + TOKEN, "").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(client.readResponseHead().startsWith("HTTP/1.1 101"));
            client.sendText("{\"type\":\"exec\",\"id\":\"a\",\"command\":\"touch " + marker + "\"}");
            assertForbidden(client.readFrame().text(), "a");
            client.sendText("{\"type\":\"exec\",\"id\":\"b\",\"argv\":[\"touch\",\"" + marker + "\"]}");
            assertForbidden(client.readFrame().text(), "b");
            client.sendText("touch " + marker); // plain text is a command too
            assertForbidden(client.readFrame().text(), null);
            // "echo [a-z]+" must match the whole command, not a part of it
            client.sendText("{\"type\":\"exec\",\"id\":\"c\",\"command\":\"echo ok; touch " + marker + "\"}");
            assertForbidden(client.readFrame().text(), "c");
            // a forbidden program that does not exist is forbidden, not "not found": nothing is revealed
            client.sendText("{\"type\":\"exec\",\"id\":\"d\",\"argv\":[\"no-such-program\"]}");
            assertForbidden(client.readFrame().text(), "d");
            // what is allowed runs: the connection is still good, and the job completes
            client.sendText("{\"type\":\"exec\",\"id\":\"e\",\"command\":\"echo allowed\"}");
            StringBuilder events = new StringBuilder();
            while (!events.toString().contains("\"exit\"")) {
                events.append(client.readFrame().text());
            }
            assertTrue(events.toString().contains("allowed\\n"), events.toString());
            client.sendText("{\"type\":\"exec\",\"id\":\"f\",\"argv\":[\"printf\",\"%s\",\"x y\"]}");
            assertTrue(client.readFrame().text().contains("\"started\""), "argv joined with spaces matches 'printf .*'");
        }
        assertFalse(Files.exists(marker), "a forbidden command ran");
    }

    static void assertForbidden(String event, String id) {
        assertTrue(event.contains("\"type\":\"error\"") && event.contains("\"code\":\"forbidden\""), event);
        if (id != null) {
            assertTrue(event.contains("\"id\":\"" + id + "\""), event);
        }
    }

    @Test
    void anExecRidingAlongWithARefusedHandshakeNeverRuns() throws IOException {
        Path marker = dir.resolve("smuggled");
        byte[] head = upgrade("/", "").getBytes(StandardCharsets.ISO_8859_1);
        try (RawClient client = RawClient.connect(server.port())) {
            byte[] frame = client.frame(true, Opcode.TEXT, ("echo x; touch " + marker).getBytes(StandardCharsets.UTF_8));
            byte[] both = new byte[head.length + frame.length];
            System.arraycopy(head, 0, both, 0, head.length);
            System.arraycopy(frame, 0, both, head.length, frame.length);
            client.send(both);
            String response = client.readAll();
            assertEquals("HTTP/1.1 401", status(response), response);
        }
        // A job that did start would have run by the time a later job on the server finished.
        assertEquals("done\n", Clients.main(new byte[0], "run", "--url", server.url(), "--token", TOKEN, "--", "echo done").out());
        assertFalse(Files.exists(marker), "a command ran without authentication");
    }

    // ---- one place decides

    @Test
    void onlyTheAccessPolicyBuildsProcessesForClients() throws IOException {
        List<String> builders = new ArrayList<>();
        Pattern construction = Pattern.compile("new\\s+ProcessBuilder\\s*\\(|Runtime\\s*\\.\\s*getRuntime\\s*\\(\\s*\\)\\s*\\.\\s*exec|ProcessBuilder\\s*::\\s*new");
        try (Stream<Path> files = Files.walk(Path.of("src"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = construction.matcher(lines.get(i));
                    if (m.find()) {
                        builders.add(file.getFileName() + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        // ProcessGroups runs kill(1) with fixed arguments to signal a job; everything else is the policy's.
        List<String> outside = builders.stream()
                .filter(b -> !b.startsWith("AccessPolicy.java: "))
                .filter(b -> !(b.startsWith("ProcessGroups.java: ") && (b.contains("Process kill = new ProcessBuilder(command)")
                        || b.contains("new ProcessBuilder(ENV, \"--default-signal=\" + names, \"true\")"))))
                .toList();
        assertEquals(List.of(), outside, "processes built outside AccessPolicy");
        // the kill(1) that ProcessGroups runs has fixed leading words: it can only signal
        String groups = Files.readString(Path.of("src/wsexec/job/ProcessGroups.java"));
        assertEquals(1, count(groups, "new ProcessBuilder(command)"));
        assertTrue(groups.contains("List<String> command = new ArrayList<>(List.of(KILL, \"-s\", signal.name(), \"--\"));"),
                "ProcessGroups builds only kill -s SIGNAL -- -GROUP...");
        long inPolicy = builders.stream().filter(b -> b.startsWith("AccessPolicy.java: ")).count();
        assertEquals(2, inPolicy, "AccessPolicy builds jobs and the --program process, nothing else: " + builders);

        String policy = Files.readString(Path.of("src/wsexec/server/AccessPolicy.java"));
        // the builders live in Admission, and an Admission is made in one place, after the checks
        int admissionClass = policy.indexOf("final class Admission");
        assertTrue(policy.indexOf("new ProcessBuilder(") > admissionClass, "ProcessBuilders are built only by an Admission");
        assertEquals(1, count(policy, "new Admission("), "one place makes Admissions");
        String admit = policy.substring(policy.indexOf("Admission admit("), policy.indexOf("new Admission("));
        assertTrue(admit.contains("checkHost(request, peer)") && admit.contains("originAllowed(") && admit.contains("tokenPresented("),
                "admit() checks Host, Origin and token before it makes an Admission");
        String job = policy.substring(policy.indexOf("ProcessBuilder job("));
        job = job.substring(0, job.indexOf("new ProcessBuilder("));
        assertTrue(job.contains("permits(line)"), "a job is built only after the command policy");
    }

    @Test
    void anAdmissionCannotBeMadeOutsideThePolicy() {
        for (Constructor<?> c : AccessPolicy.Admission.class.getDeclaredConstructors()) {
            assertTrue(Modifier.isPrivate(c.getModifiers()), c.toString());
        }
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    // ---- turning authentication off

    @Test
    void noAuthIsRefusedUnlessTheServerIsOnLoopback() throws IOException {
        assertThrows(IllegalArgumentException.class,
                () -> new AccessPolicy(null, InetAddress.getByName("0.0.0.0"), List.of(), List.of(), List.of(), null));
        assertThrows(IllegalArgumentException.class,
                () -> new AccessPolicy(null, InetAddress.getByName("192.0.2.1"), List.of(), List.of(), List.of(), null));
        Clients.Result r = Clients.main(new byte[0], "serve", "--no-auth", "--bind", "0.0.0.0", "--port", "0");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--no-auth"), r.err());
        // on loopback it is allowed, and a server without a token takes anyone local
        assertFalse(AccessPolicy.withoutToken(InetAddress.getByName("127.0.0.1")).authenticates());
        CommandLine.Serve serve = (CommandLine.Serve) parse("serve", "--no-auth");
        assertFalse(serve.server().access().authenticates());
    }

    @Test
    void serveMakesA256BitTokenByDefault() throws Exception {
        CommandLine.Serve a = (CommandLine.Serve) parse("serve");
        CommandLine.Serve b = (CommandLine.Serve) parse("serve");
        assertTrue(a.server().access().authenticates());
        String token = a.server().access().token();
        assertTrue(token.matches("[A-Za-z0-9_-]{43}"), token); // 32 random bytes, base64url
        assertFalse(token.equals(b.server().access().token()));
    }

    @Test
    void badSecurityOptionsAreUsageErrors() {
        for (String[] args : new String[][] {
                {"serve", "--allow", "("},
                {"serve", "--allow-origin", "example.org"},
                {"serve", "--allow-origin", "https://example.org/path"},
                {"serve", "--hostname", "a b"},
                {"serve", "--program"},
                {"serve", "--program", "--allow", "x", "--", "cat"},
                {"serve", "--tls-keystore", "x.p12"},
                {"serve", "--token-file", "/nonexistent/wsexec-token"},
                {"serve", "--no-auth", "--token-file", "/nonexistent/wsexec-token"},
                {"run", "--cacert", "x.pem", "--", "true"}}) {
            Clients.Result r = Clients.main(new byte[0], args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }

    static CommandLine.Command parse(String... args) {
        try {
            return CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }
}
