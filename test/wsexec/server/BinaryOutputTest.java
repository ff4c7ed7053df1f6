package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.websocket.RawClient;
import wsexec.websocket.Handshake;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Message;
import wsexec.websocket.Opcode;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;
import wsexec.client.Clients;
import wsexec.common.Json;

/**
 * {@code "binary":true} on exec (docs/PROTOCOL.md, "Binary output"): the job's output comes as
 * binary frames of stream byte, id length, id and raw bytes; started, exit and error stay JSON.
 * Checked byte by byte on a raw socket, and through the real {@code run} client.
 */
@Timeout(60)
class BinaryOutputTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.exec();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** One binary output frame, taken apart as the protocol lays it out. */
    record Output(int stream, String id, byte[] bytes) {
        static Output parse(byte[] payload) {
            assertTrue(payload.length >= 2, "a binary output frame has at least a stream byte and an id length");
            int idLength = payload[1] & 0xFF;
            assertTrue(payload.length > 2 + idLength, "an output frame carries at least one byte of output");
            String id = new String(payload, 2, idLength, StandardCharsets.UTF_8);
            return new Output(payload[0], id, java.util.Arrays.copyOfRange(payload, 2 + idLength, payload.length));
        }
    }

    /** What jobs on one connection sent, in arrival order: their binary output and their JSON events. */
    static final class Collected {
        final List<Object> frames = new ArrayList<>(); // Output or Map (a JSON event)
        final Map<String, ByteArrayOutputStream> stdout = new HashMap<>();
        final Map<String, ByteArrayOutputStream> stderr = new HashMap<>();
        final Map<String, Map<String, Object>> exits = new HashMap<>();
        /** Output frames that arrived for a job after its exit. */
        final List<String> late = new ArrayList<>();
        int outputFrames;
        int nonUtf8Frames;
        int jsonOutputEvents;

        byte[] out(String id) {
            return stdout.getOrDefault(id, new ByteArrayOutputStream()).toByteArray();
        }

        byte[] err(String id) {
            return stderr.getOrDefault(id, new ByteArrayOutputStream()).toByteArray();
        }
    }

    /** Reads frames until every one of the jobs has exited (or had an error). */
    static Collected collect(RawClient client, String... ids) throws IOException, Json.ParseException {
        Collected c = new Collected();
        List<String> waiting = new ArrayList<>(List.of(ids));
        while (!waiting.isEmpty()) {
            RawClient.Frame frame = client.readFrame();
            assertNotNull(frame, "connection ended while waiting for " + waiting);
            if (frame.opcode() == Opcode.BINARY) {
                Output o = Output.parse(frame.payload());
                c.frames.add(o);
                c.outputFrames++;
                if (!wsexec.websocket.Utf8Validator.isValid(o.bytes, 0, o.bytes.length)) {
                    c.nonUtf8Frames++;
                }
                if (c.exits.containsKey(o.id)) {
                    c.late.add(o.id);
                }
                assertTrue(o.stream == 1 || o.stream == 2, "stream byte " + o.stream);
                (o.stream == 1 ? c.stdout : c.stderr).computeIfAbsent(o.id, k -> new ByteArrayOutputStream()).writeBytes(o.bytes);
                continue;
            }
            assertEquals(Opcode.TEXT, frame.opcode(), "only text and binary frames while jobs run");
            @SuppressWarnings("unchecked")
            Map<String, Object> event = (Map<String, Object>) Json.parse(frame.text());
            c.frames.add(event);
            String id = String.valueOf(event.get("id"));
            switch (String.valueOf(event.get("type"))) {
                case "output" -> c.jsonOutputEvents++;
                case "exit", "error" -> {
                    c.exits.put(id, event);
                    waiting.remove(id);
                }
                default -> {
                }
            }
        }
        return c;
    }

    private static String exec(String id, String command) {
        StringBuilder json = new StringBuilder("{\"type\":\"exec\",\"id\":");
        Json.quote(json, id).append(",\"command\":");
        return Json.quote(json, command).append(",\"binary\":true}").toString();
    }

    @Test
    void tenMegabytesOfRandomBytesArriveRawAndByteExact(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("random.bin");
        try (RawClient client = RawClient.open(server.port())) {
            client.sendText(exec("r", "head -c 10000000 /dev/urandom | tee " + file));
            Collected c = collect(client, "r");
            assertEquals(0L, c.exits.get("r").get("code"), c.exits.get("r").toString());
            byte[] written = Files.readAllBytes(file);
            assertEquals(10_000_000, written.length);
            assertEquals(written.length, c.out("r").length, "raw bytes, not base64 (which would be 4/3 as long)");
            assertArrayEquals(sha256(written), sha256(c.out("r")));
            assertEquals(0, c.jsonOutputEvents, "no JSON output events for a binary job");
            assertTrue(c.nonUtf8Frames > 0, "random bytes travel as they are");
            assertTrue(c.frames.get(0) instanceof Map<?, ?> m && "started".equals(m.get("type")), "started comes first");
        }
    }

    @Test
    void stderrComesWithItsOwnStreamByte() throws Exception {
        try (RawClient client = RawClient.open(server.port())) {
            client.sendText(exec("e", "printf to-out; printf 'to-err\\377' >&2; exit 3"));
            Collected c = collect(client, "e");
            assertEquals(3L, c.exits.get("e").get("code"));
            assertEquals("to-out", new String(c.out("e"), StandardCharsets.UTF_8));
            assertArrayEquals("to-err\377".getBytes(StandardCharsets.ISO_8859_1), c.err("e"));
        }
    }

    @Test
    void exitComesAfterEveryOutputFrameOfItsJob() throws Exception {
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 200_000; i++) {
            expected.append(i).append('\n');
        }
        try (RawClient client = RawClient.open(server.port())) {
            for (int round = 0; round < 5; round++) {
                String id = "x" + round;
                client.sendText(exec(id, "seq 1 200000; printf tail >&2"));
                Collected c = collect(client, id);
                assertEquals(expected.toString(), new String(c.out(id), StandardCharsets.US_ASCII), "all of stdout before exit");
                assertEquals("tail", new String(c.err(id), StandardCharsets.US_ASCII), "all of stderr before exit");
                // Nothing of the job may follow its exit: the next job's events come next.
                client.sendText(exec("next" + round, "printf n"));
                Collected after = collect(client, "next" + round);
                assertTrue(after.frames.stream().noneMatch(f -> f instanceof Output o && o.id.equals(id)), "output after exit");
                assertEquals("n", new String(after.out("next" + round), StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void twoJobsOnOneConnectionKeepTheirIdsApart() throws Exception {
        String a = "jöb-€-a"; // more bytes than characters: the length byte counts bytes
        String b = "2";
        try (RawClient client = RawClient.open(server.port())) {
            client.sendText(exec(a, "seq 1 300000"));
            client.sendText(exec(b, "seq 500000 800000; seq 1 1000 >&2"));
            Collected c = collect(client, a, b);
            assertEquals(0L, c.exits.get(a).get("code"));
            assertEquals(0L, c.exits.get(b).get("code"));
            assertEquals(seq(1, 300_000), new String(c.out(a), StandardCharsets.US_ASCII));
            assertEquals(seq(500_000, 800_000), new String(c.out(b), StandardCharsets.US_ASCII));
            assertEquals(seq(1, 1000), new String(c.err(b), StandardCharsets.US_ASCII));
            assertEquals(0, c.err(a).length);
            assertEquals(List.of(), c.late, "output after exit");
            assertEquals(java.util.Set.of(a, b), java.util.Set.copyOf(c.stdout.keySet()), "ids as sent");
        }
    }

    @Test
    void binaryMustBeABooleanAndTheIdMustFitItsLengthByte() throws Exception {
        try (RawClient client = RawClient.open(server.port())) {
            for (String value : List.of("\"yes\"", "\"true\"", "1", "{}")) {
                client.sendText("{\"type\":\"exec\",\"id\":\"b\",\"command\":\"echo hi\",\"binary\":" + value + "}");
                Collected c = collect(client, "b");
                Map<String, Object> error = c.exits.get("b");
                assertEquals("error", error.get("type"), value);
                assertEquals("bad_request", error.get("code"), value);
                assertTrue(String.valueOf(error.get("message")).contains("binary"), String.valueOf(error.get("message")));
            }
            // 128 characters are allowed as an id, but 128 euro signs are 384 bytes: too long for the length byte.
            String longId = "€".repeat(128);
            client.sendText(exec(longId, "echo hi"));
            Map<String, Object> error = collect(client, longId).exits.get(longId);
            assertEquals("bad_request", error.get("code"));
            // 85 euro signs are 255 bytes: fits exactly.
            String fits = "€".repeat(85);
            client.sendText(exec(fits, "echo hi"));
            Collected c = collect(client, fits);
            assertEquals("exit", c.exits.get(fits).get("type"));
            assertEquals("hi\n", new String(c.out(fits), StandardCharsets.UTF_8));
            // And false means JSON output events, as without the field.
            client.sendText("{\"type\":\"exec\",\"id\":\"j\",\"command\":\"echo hi\",\"binary\":false}");
            Collected json = collect(client, "j");
            assertEquals(1, json.jsonOutputEvents);
            assertEquals(0, json.outputFrames);
        }
    }

    @Test
    void theRunClientWritesBinaryOutputByteExact(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.bin");
        Path err = dir.resolve("err.bin");
        Clients.Result r = Clients.run(server.url(),
                "head -c 3000000 /dev/urandom | tee " + out + "; head -c 300000 /dev/urandom | tee " + err + " >&2");
        assertEquals(0, r.status(), new String(r.stderr(), StandardCharsets.ISO_8859_1));
        assertArrayEquals(sha256(Files.readAllBytes(out)), sha256(r.stdout()));
        assertArrayEquals(sha256(Files.readAllBytes(err)), sha256(r.stderr()));
    }

    @Test
    void theRunClientWithJsonStillPrintsJsonOutputEvents() {
        Clients.Result r = Clients.main(new byte[0], "run", "--url", server.url(), "--json", "--", "printf hi");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("\"type\":\"output\"") && r.out().contains("\"data\":\"hi\""), r.out());
        assertFalse(r.out().contains("binary"), r.out());
    }

    @Test
    void theRunClientAsksForBinaryAndGathersFramesTheJdkDeliversInParts() throws Exception {
        byte[] big = new byte[3 << 20]; // larger than the JDK client's receive buffer: delivered in parts
        new java.util.Random(5).nextBytes(big);
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> scripted = CompletableFuture.runAsync(() -> {
                try (Socket socket = listener.accept()) {
                    InputStream in = new BufferedInputStream(socket.getInputStream());
                    byte[] head = Handshake.readHead(in, Handshake.MAX_HEAD_BYTES);
                    socket.getOutputStream().write(Handshake.switchingProtocols(Handshake.accept(HttpRequest.parse(head, head.length))));
                    WebSocket webSocket = new WebSocket(socket, in, WebSocketLimits.DEFAULTS, null);
                    Message exec = webSocket.receive();
                    assertTrue(exec instanceof Message.Text t && t.text().contains("\"binary\":true"), String.valueOf(exec));
                    webSocket.sendText("{\"type\":\"started\",\"id\":\"1\",\"pid\":1}");
                    webSocket.sendBinary(concat(new byte[] {1, 1, '1'}, "small ".getBytes(StandardCharsets.US_ASCII)));
                    webSocket.sendBinary(concat(new byte[] {1, 2, '1', '1'}, "job 11 is not ours".getBytes(StandardCharsets.US_ASCII)));
                    webSocket.sendBinary(concat(new byte[] {2, 1, '1'}, "to stderr".getBytes(StandardCharsets.US_ASCII)));
                    webSocket.sendBinary(concat(new byte[] {1, 1, '1'}, big));
                    webSocket.sendBinary(concat(new byte[] {1, 1, '1'}, " end".getBytes(StandardCharsets.US_ASCII)));
                    webSocket.sendText("{\"type\":\"exit\",\"id\":\"1\",\"code\":4}");
                    while (webSocket.receive() != null) {
                        // the client's stdin EOF and its close
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, task -> Thread.ofPlatform().name("scripted-server").start(task));
            Clients.Result r = Clients.run("ws://127.0.0.1:" + listener.getLocalPort() + "/", "anything");
            scripted.get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(4, r.status(), r.err());
            byte[] expected = concat(concat("small ".getBytes(StandardCharsets.US_ASCII), big), " end".getBytes(StandardCharsets.US_ASCII));
            assertEquals(expected.length, r.stdout().length);
            assertArrayEquals(expected, r.stdout());
            assertEquals("to stderr", r.err());
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static String seq(int from, int to) {
        StringBuilder s = new StringBuilder();
        for (int i = from; i <= to; i++) {
            s.append(i).append('\n');
        }
        return s.toString();
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
