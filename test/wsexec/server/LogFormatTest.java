package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.websocket.RawClient;
import wsexec.TokenFileTest;
import wsexec.common.Json;

/**
 * The log of a real {@code wsexec serve} process: with {@code --log-format json} every line is one
 * JSON object; the events operators need are there with their numbers; the token, a wrong token a
 * client presented, and the output of commands are not. With {@code --trace} too, the frames and
 * heads are JSON lines and the token stays redacted.
 */
@Timeout(90)
class LogFormatTest {
    static final Pattern CONSOLE_URL = Pattern.compile("open (http://127\\.0\\.0\\.1:(\\d+)/\\?token=[^ ]+) in a browser");

    @TempDir
    Path dir;

    /** A running server: its URL without the token, its port, and the file its stderr goes to. */
    record Served(Process process, String url, int port, Path log) {
    }

    Served serve(String token, String... flags) throws IOException {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, token + "\n");
        Path log = dir.resolve("serve-" + System.nanoTime() + ".log");
        List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--token-file", tokenFile.toString()));
        args.addAll(List.of(flags));
        Process p = TokenFileTest.wsexec(Map.of("XDG_RUNTIME_DIR", dir.toString()), args.toArray(String[]::new))
                .redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        out.readLine(); // ws://…
        String second = out.readLine();
        assertNotNull(second, "serve printed one line only");
        Matcher m = CONSOLE_URL.matcher(second);
        assertTrue(m.find(), "serve did not print the browser URL: " + second);
        assertTrue(second.contains("?token=" + token), second);
        int port = Integer.parseInt(m.group(2));
        return new Served(p, "ws://127.0.0.1:" + port + "/", port, log);
    }

    static List<Map<?, ?>> jsonLines(Path log) throws IOException, Json.ParseException {
        List<Map<?, ?>> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Object parsed = Json.parse(line);
            Map<?, ?> object = assertInstanceOf(Map.class, parsed, "not a JSON object: " + line);
            assertInstanceOf(String.class, object.get("time"), line);
            assertInstanceOf(String.class, object.get("level"), line);
            assertInstanceOf(String.class, object.get("msg"), line);
            lines.add(object);
        }
        return lines;
    }

    static Map<?, ?> event(List<Map<?, ?>> lines, String name) {
        return lines.stream().filter(l -> name.equals(l.get("event"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " event in " + lines));
    }

    static String refuse(int port, String target) throws IOException {
        try (RawClient client = RawClient.connect(port)) {
            client.send(RawClient.upgradeRequest(target, "").getBytes(StandardCharsets.ISO_8859_1));
            return client.readAll();
        }
    }

    @Test
    void jsonLogsAreOneObjectPerLineWithTheEventsAndWithoutSecretsOrOutput() throws Exception {
        String token = "json-log-token-" + Long.toHexString(System.nanoTime()) + "abcdef";
        String wrong = "wrong-presented-" + Long.toHexString(System.nanoTime()) + "abcdef";
        String marker = "output-marker-" + System.nanoTime();
        Served served = serve(token, "--log-format", "json");
        try {
            assertEquals(0, ObservabilityTest.exec(served.port(), token, "echo " + marker));
            assertEquals(4, ObservabilityTest.exec(served.port(), token, "echo " + marker + " >&2; exit 4"));
            assertTrue(refuse(served.port(), "/?token=" + wrong).startsWith("HTTP/1.1 401"));
            TokenFileTest.stop(served.process());
        } finally {
            served.process().destroyForcibly();
        }
        String raw = Files.readString(served.log());
        assertFalse(raw.contains(token), raw);
        assertFalse(raw.contains(wrong), raw);
        assertFalse(raw.contains(marker), "command output or the command itself reached the log: " + raw);
        List<Map<?, ?>> lines = jsonLines(served.log());
        Map<?, ?> opened = event(lines, "connection.opened");
        assertTrue(((String) opened.get("peer")).startsWith("127.0.0.1:"), opened.toString());
        Map<?, ?> started = event(lines, "job.started");
        assertInstanceOf(Long.class, started.get("pid"));
        List<Map<?, ?>> exited = lines.stream().filter(l -> "job.exited".equals(l.get("event"))).toList();
        assertEquals(List.of(0L, 4L), exited.stream().map(l -> l.get("code")).toList(), exited.toString());
        assertInstanceOf(Long.class, exited.get(0).get("durationMs"));
        Map<?, ?> closed = event(lines, "connection.closed");
        assertEquals(1000L, closed.get("codeReceived"), closed.toString());
        assertEquals(1000L, closed.get("codeSent"), closed.toString());
        Map<?, ?> refused = event(lines, "connection.refused");
        assertEquals(401L, refused.get("status"));
        assertEquals("token", refused.get("reason"));
    }

    @Test
    void traceLinesAreJsonTooAndRedactTheToken() throws Exception {
        String token = "trace-log-token-" + Long.toHexString(System.nanoTime()) + "abcdef";
        Served served = serve(token, "--log-format", "json", "--trace", "--quiet");
        try {
            assertEquals(0, ObservabilityTest.exec(served.port(), token, "echo traced"));
            TokenFileTest.stop(served.process());
        } finally {
            served.process().destroyForcibly();
        }
        String raw = Files.readString(served.log());
        assertFalse(raw.contains(token), raw);
        List<Map<?, ?>> lines = jsonLines(served.log());
        Map<?, ?> head = event(lines, "http");
        assertTrue(((String) head.get("msg")).contains("| GET /?token=<redacted> HTTP/1.1"), head.toString());
        assertTrue(lines.stream().anyMatch(l -> "frame".equals(l.get("event")) && "in".equals(l.get("direction"))
                && ((String) l.get("msg")).contains("C->S FIN=1 RSV=000 TEXT   MASK=1 key=")), raw);
        assertTrue(lines.stream().anyMatch(l -> "frame".equals(l.get("event"))
                && ((String) l.get("msg")).contains("S->C FIN=1 RSV=000 CLOSE  MASK=0 len=2 (7-bit) code=1000")), raw);
        assertTrue(lines.stream().noneMatch(l -> "job.started".equals(l.get("event"))), "--quiet keeps events out, not the trace");
    }
}
