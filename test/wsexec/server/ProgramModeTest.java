package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;

/** {@code serve --program}: websocketd's model — one program per connection, lines in, lines out. */
@Timeout(60)
class ProgramModeTest {
    static final String TOKEN = "program-token-0123456789";

    static TestServer start(List<String> program, boolean passStderr) throws IOException {
        Server.Config config = TestServer.serverConfig(TestServer.policy(TOKEN, List.of(), List.of(), program));
        return TestServer.program(config, new ProgramEndpoint.Config(passStderr, ProgramEndpoint.Config.DEFAULT_PASS_ENV,
                Duration.ofSeconds(1), ProgramEndpoint.Config.DEFAULT_MAX_LINE_BYTES));
    }

    static RawClient open(TestServer server, String target, String headers) throws IOException {
        RawClient client = RawClient.connect(server.port());
        client.send(RawClient.upgradeRequest(target, headers).getBytes(StandardCharsets.ISO_8859_1));
        String head = client.readResponseHead();
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        return client;
    }

    /** Text messages until the server's Close frame, which is returned last (null if none came). */
    static List<RawClient.Frame> untilClose(RawClient client) throws IOException {
        List<RawClient.Frame> frames = new ArrayList<>();
        RawClient.Frame frame;
        do {
            frame = client.readFrame();
            frames.add(frame);
        } while (frame != null && frame.opcode() != Opcode.CLOSE);
        return frames;
    }

    @Test
    void eachMessageIsALineOnStdinAndEachStdoutLineIsAMessage() throws IOException {
        try (TestServer server = start(List.of("/bin/sh", "-c", "while read -r l; do echo \"got:$l\"; done"), false);
             RawClient client = open(server, "/?token=" + TOKEN, "")) {
            client.sendText("first");
            assertEquals("got:first", client.readFrame().text());
            client.sendText("second line");
            client.sendText("héllo ✓");
            assertEquals("got:second line", client.readFrame().text());
            assertEquals("got:héllo ✓", client.readFrame().text());
        }
    }

    @Test
    void theProgramExitingClosesWith1000AfterItsOutput() throws IOException {
        try (TestServer server = start(List.of("/bin/sh", "-c", "echo one; printf 'two\\r\\nthree'"), false);
             RawClient client = open(server, "/?token=" + TOKEN, "")) {
            List<RawClient.Frame> frames = untilClose(client);
            assertEquals(4, frames.size(), frames.toString());
            assertEquals("one", frames.get(0).text());
            assertEquals("two", frames.get(1).text());
            assertEquals("three", frames.get(2).text());
            assertEquals(1000, frames.get(3).closeCode());
        }
    }

    @Test
    void clientsCannotChooseWhatRuns() throws IOException {
        try (TestServer server = start(List.of("/bin/sh", "-c", "read -r l; echo \"line:$l\""), false);
             RawClient client = open(server, "/?token=" + TOKEN, "")) {
            client.sendText("{\"type\":\"exec\",\"id\":\"1\",\"command\":\"id\"}");
            List<RawClient.Frame> frames = untilClose(client);
            assertEquals("line:{\"type\":\"exec\",\"id\":\"1\",\"command\":\"id\"}", frames.get(0).text());
            assertEquals(1000, frames.get(frames.size() - 1).closeCode());
        }
    }

    @Test
    void theProgramStillNeedsTheToken() throws IOException {
        try (TestServer server = start(List.of("cat"), false); RawClient client = RawClient.connect(server.port())) {
            client.send(RawClient.upgradeRequest("/", "").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(client.readAll().startsWith("HTTP/1.1 401 "));
        }
    }

    @Test
    void theProgramGetsCgiVariablesAndACleanEnvironmentWithoutTheToken() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        try (TestServer server = start(List.of("env"), false);
             RawClient client = open(server, "/some/path?a=1&token=" + TOKEN + "&b=two",
                     "X-Custom-Thing: v1\r\nAuthorization: Bearer " + TOKEN + "\r\n")) {
            List<RawClient.Frame> frames = untilClose(client);
            for (RawClient.Frame f : frames.subList(0, frames.size() - 1)) {
                String line = f.text();
                assertFalse(line.contains(TOKEN), "the token reached the program: " + line);
                int eq = line.indexOf('=');
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
            assertEquals("127.0.0.1", env.get("REMOTE_ADDR"));
            assertEquals(Integer.toString(client.socket().getLocalPort()), env.get("REMOTE_PORT"));
            assertEquals("127.0.0.1", env.get("SERVER_NAME"));
            assertEquals(Integer.toString(server.port()), env.get("SERVER_PORT"));
            assertEquals("GET", env.get("REQUEST_METHOD"));
            assertEquals("/some/path?a=1&b=two", env.get("REQUEST_URI"));
            assertEquals("a=1&b=two", env.get("QUERY_STRING"));
            assertEquals("/some/path", env.get("PATH_INFO"));
            assertEquals("HTTP/1.1", env.get("SERVER_PROTOCOL"));
            assertEquals("v1", env.get("HTTP_X_CUSTOM_THING"));
            assertEquals("websocket", env.get("HTTP_UPGRADE"));
            assertFalse(env.containsKey("HTTP_AUTHORIZATION"), env.toString());
            assertEquals(System.getenv("PATH"), env.get("PATH"), "PATH is passed by default");
            assertFalse(env.containsKey("HOME"), "only --pass-env names come from the server's environment: " + env.keySet());
        }
    }

    @Test
    void stderrGoesToTheClientTaggedWithPassStderr() throws IOException {
        try (TestServer server = start(List.of("/bin/sh", "-c", "echo out; echo 'oops \"quoted\"' >&2"), true);
             RawClient client = open(server, "/?token=" + TOKEN, "")) {
            List<String> texts = new ArrayList<>();
            for (RawClient.Frame f : untilClose(client)) {
                if (f.opcode() == Opcode.TEXT) {
                    texts.add(f.text());
                }
            }
            assertTrue(texts.contains("out"), texts.toString());
            assertTrue(texts.contains("{\"type\":\"stderr\",\"data\":\"oops \\\"quoted\\\"\"}"), texts.toString());
        }
    }

    @Test
    void stderrStaysOffTheWireWithoutPassStderr() throws IOException {
        try (TestServer server = start(List.of("/bin/sh", "-c", "echo secret-diagnostic >&2; echo out"), false);
             RawClient client = open(server, "/?token=" + TOKEN, "")) {
            List<RawClient.Frame> frames = untilClose(client);
            assertEquals(2, frames.size(), frames.toString());
            assertEquals("out", frames.get(0).text());
        }
    }

    @Test
    void whenTheClientLeavesTheProgramGetsTermThenKill() throws Exception {
        String marker = UUID.randomUUID().toString();
        // Ignores TERM (and so does its sleep): only the KILL after the grace ends it.
        try (TestServer server = start(List.of("/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30; echo survived"), false)) {
            RawClient client = open(server, "/?token=" + TOKEN, "X-Marker: " + marker + "\r\n");
            assertEquals("ready", client.readFrame().text());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("HTTP_X_MARKER", marker).size() == 2), "sh and sleep");
            client.close();
            long left = System.nanoTime();
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("HTTP_X_MARKER", marker).isEmpty()),
                    "the program outlived its client");
            long millis = (System.nanoTime() - left) / 1_000_000;
            assertTrue(millis >= 700, "gone after " + millis + " ms: before the 1 s grace, so not by KILL");
        }
    }

    @Test
    void aProgramThatHonoursTermEndsAtOnce() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (TestServer server = start(List.of("/bin/sh", "-c", "echo ready; exec sleep 30"), false)) {
            RawClient client = open(server, "/?token=" + TOKEN, "X-Marker: " + marker + "\r\n");
            assertNotNull(client.readFrame());
            client.close();
            long left = System.nanoTime();
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("HTTP_X_MARKER", marker).isEmpty()));
            long millis = (System.nanoTime() - left) / 1_000_000;
            assertTrue(millis < 900, "TERM should end it before the grace; took " + millis + " ms");
        }
    }
}
