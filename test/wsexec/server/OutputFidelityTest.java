package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import wsexec.client.Clients;

/**
 * Every byte a job writes reaches the client, in order, byte-identical — large
 * text, raw random bytes, no final newline, carriage returns, characters cut
 * by pipe reads — and before the exit event, however short the job.
 */
@Timeout(120)
class OutputFidelityTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.exec();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void hundredMegabytesOfBase64TextArriveByteIdentical(@TempDir Path dir) throws Exception {
        Path random = dir.resolve("random.bin");
        shell("head -c 75000000 /dev/urandom > " + random);
        // What base64 prints locally is what must arrive: the same program, the same input.
        String expected = sha256OfCommand("base64 " + random);
        Clients.Result r = Clients.run(server.url(), "base64 " + random);
        assertEquals(0, r.status(), r.err());
        assertEquals(100_000_000 + 100_000_000 / 76 + 1, r.stdout().length, "75 MB as base64 in 76-column lines");
        assertEquals(expected, hex(sha256(r.stdout())));
    }

    @Test
    void tenMegabytesFromDevUrandomArriveByteIdentical(@TempDir Path dir) throws Exception {
        Path random = dir.resolve("urandom.bin");
        shell("head -c 10M /dev/urandom > " + random);
        byte[] data = Files.readAllBytes(random);
        assertEquals(10 << 20, data.length);
        try (ExecClient client = ExecClient.open(server.port())) {
            ExecClient.Finished f = client.run("u", "cat " + random);
            assertEquals(0, f.code());
            assertEquals(data.length, f.stdout().length);
            assertArrayEquals(sha256(data), sha256(f.stdout()));
            assertTrue(f.outputs().stream().anyMatch(e -> e.get("base64") != null), "random bytes travel as base64");
        }
    }

    @Test
    void outputWithoutTrailingNewlineIsKeptExactly() throws Exception {
        try (ExecClient client = ExecClient.open(server.port())) {
            ExecClient.Finished f = client.run("n", "printf 'first line\\nno newline at the end'");
            assertEquals("first line\nno newline at the end", f.out());
            List<ExecClient.Event> outputs = f.outputs();
            String last = (String) outputs.get(outputs.size() - 1).get("data");
            assertTrue(last.endsWith("end"), "the last event ends where the program stopped: " + last);
        }
    }

    @Test
    void carriageReturnProgressLinesArriveUnchanged() throws Exception {
        String command = "for p in 10 50 100; do printf 'progress %3d%%\\r' $p; sleep 0.1; done; printf 'done\\r\\nbye\\n'";
        try (ExecClient client = ExecClient.open(server.port())) {
            ExecClient.Finished f = client.run("p", command);
            assertEquals(0, f.code());
            assertEquals("progress  10%\rprogress  50%\rprogress 100%\rdone\r\nbye\n", f.out());
            assertTrue(f.outputs().size() >= 3, "each progress update is sent as it is printed, not held for a newline: " + f.outputs());
            assertEquals("progress  10%\r", f.outputs().get(0).get("data"));
        }
        // The run client writes them through untouched, too.
        Clients.Result r = Clients.run(server.url(), "printf 'a\\rb\\r\\nc\\n\\r'");
        assertArrayEquals("a\rb\r\nc\n\r".getBytes(StandardCharsets.US_ASCII), r.stdout());
    }

    @Test
    void multibyteCharactersCutByPipeReadsAreNeverSplitAcrossEvents(@TempDir Path dir) throws Exception {
        // One ASCII byte, then 3- and 4-byte characters: the 64 KiB read boundaries fall inside characters.
        StringBuilder text = new StringBuilder("x");
        for (int i = 0; i < 150_000; i++) {
            text.append(i % 2 == 0 ? "€" : "😀");
        }
        byte[] data = text.toString().getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("utf8.txt");
        Files.write(file, data);
        try (ExecClient client = ExecClient.open(server.port())) {
            ExecClient.Finished f = client.run("m", "cat " + file);
            assertArrayEquals(data, f.stdout());
            assertTrue(f.outputs().size() > 1, "the file should take several reads");
            for (ExecClient.Event e : f.outputs()) {
                assertNotNull(e.get("data"), "valid UTF-8 must never fall back to base64: a character was split");
            }
            // Bytes written one at a time, with pauses, are also reassembled into whole characters.
            ExecClient.Finished slow = client.run("s", "printf '\\360\\237'; sleep 0.2; printf '\\230\\200!'");
            assertEquals("😀!", slow.out());
            for (ExecClient.Event e : slow.outputs()) {
                assertNotNull(e.get("data"), "half a character was sent: " + e.json());
            }
        }
    }

    @Test
    void shortLivedCommandsAlwaysDeliverTheirOutputBeforeExit() throws Exception {
        try (ExecClient client = ExecClient.open(server.port())) {
            for (int i = 0; i < 300; i++) {
                String id = "e" + i;
                ExecClient.Finished f = client.run(id, "echo hi");
                assertEquals("started", f.events().get(0).type(), "run " + i);
                assertEquals("hi\n", f.out(), "run " + i + " lost its output: " + f.events());
                assertEquals("exit", f.exit().type());
                assertEquals(0, f.code());
            }
        }
        for (int i = 0; i < 20; i++) {
            Clients.Result r = Clients.run(server.url(), "echo", "hi");
            assertEquals("hi\n", r.out(), "client run " + i);
        }
    }

    static void shell(String command) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", command).inheritIO().start();
        assertEquals(0, p.waitFor(), command);
    }

    /** Runs a command here, without wsexec, and digests its stdout. */
    static String sha256OfCommand(String command) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = p.getInputStream()) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        assertEquals(0, p.waitFor(), command);
        return hex(digest.digest());
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
