package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import wsexec.websocket.RawClient;
import wsexec.client.Clients;

/** The whole job, end to end: a real server on a loopback port and the real {@code run} client. */
@Timeout(60)
class ExecEndToEndTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.exec(new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ZERO, true));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void fiveDatesArriveOneSecondApart() {
        Clients.Result r = Clients.run(server.url(), "for i in $(seq 1 5); do date; sleep 1; done");
        assertEquals(0, r.status());
        assertEquals(5, r.out().lines().count(), r.out());
        List<Clients.Write> writes = r.stdoutWrites();
        assertEquals(5, writes.size(), "each line is its own output event, written as it arrives");
        for (int i = 1; i < writes.size(); i++) {
            long gapMillis = (writes.get(i).nanos() - writes.get(i - 1).nanos()) / 1_000_000;
            assertTrue(gapMillis >= 500, "line " + i + " came " + gapMillis + " ms after the one before");
        }
    }

    @Test
    void stdoutAndStderrLandOnTheClientsStdoutAndStderr() {
        Clients.Result r = Clients.run(server.url(), "echo to-out; echo to-err >&2");
        assertEquals(0, r.status());
        assertEquals("to-out\n", r.out());
        assertEquals("to-err\n", r.err());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 42})
    void exitCodesPropagate(int code) {
        assertEquals(code, Clients.run(server.url(), "exit " + code).status());
    }

    @Test
    void unknownCommandIs127() {
        Clients.Result r = Clients.run(server.url(), "no-such-command-wsexec-test");
        assertEquals(127, r.status());
        assertTrue(r.err().contains("not found"), r.err());
    }

    @Test
    void argvNamingAMissingProgramIs127WithAClearMessage() {
        Clients.Result r = Clients.run(server.url(), "no-such-program-wsexec", "arg");
        assertEquals(127, r.status());
        assertTrue(r.err().contains("program not found: no-such-program-wsexec"), r.err());
    }

    @Test
    void severalWordsRunAsAProgramWithoutAShell() {
        Clients.Result r = Clients.run(server.url(), "printf", "%s|", "a b", "$HOME", "*");
        assertEquals(0, r.status());
        assertEquals("a b|$HOME|*|", r.out());
    }

    @Test
    void tenMegabytesOfRandomBytesArriveByteIdentical(@TempDir Path dir) throws Exception {
        byte[] data = new byte[10_000_000];
        new Random(42).nextBytes(data);
        Path file = dir.resolve("random.bin");
        Files.write(file, data);
        Clients.Result r = Clients.run(server.url(), "cat " + file);
        assertEquals(0, r.status());
        assertEquals(data.length, r.stdout().length);
        assertArrayEquals(sha256(data), sha256(r.stdout()));
    }

    @Test
    void tenMegabytesOfTextArriveByteIdentical(@TempDir Path dir) throws Exception {
        StringBuilder text = new StringBuilder();
        int line = 0;
        while (text.length() < 10_000_000) {
            text.append("line ").append(line++).append(" ünïcödé ✓ \"quoted\" \\ tab\there\r\n");
        }
        byte[] data = text.toString().getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("text.txt");
        Files.write(file, data);
        Clients.Result r = Clients.run(server.url(), "cat " + file);
        assertEquals(0, r.status());
        assertArrayEquals(sha256(data), sha256(r.stdout()));
    }

    @Test
    void outputWithoutTrailingNewlineAndShortLivedCommandsArriveBeforeExit() {
        for (int i = 0; i < 20; i++) {
            Clients.Result r = Clients.run(server.url(), "printf 'no newline %d' " + i);
            assertEquals(0, r.status());
            assertEquals("no newline " + i, r.out());
        }
    }

    @Test
    void twoClientsAtOnceEachGetOnlyTheirOwnOutput() throws Exception {
        CompletableFuture<Clients.Result> a = CompletableFuture.supplyAsync(
                () -> Clients.run(server.url(), "for i in 1 2 3 4 5; do echo AAA$i; sleep 0.1; done"));
        CompletableFuture<Clients.Result> b = CompletableFuture.supplyAsync(
                () -> Clients.run(server.url(), "for i in 1 2 3 4 5; do echo BBB$i; sleep 0.1; done"));
        Clients.Result ra = a.get();
        Clients.Result rb = b.get();
        assertEquals("AAA1\nAAA2\nAAA3\nAAA4\nAAA5\n", ra.out());
        assertEquals("BBB1\nBBB2\nBBB3\nBBB4\nBBB5\n", rb.out());
    }

    @Test
    void clientThatDisconnectsMidJobLeavesNoProcessBehind() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (RawClient client = RawClient.open(server.port())) {
            client.sendText("{\"type\":\"exec\",\"id\":\"j\",\"command\":\"sleep 600 & sleep 600 & wait\",\"env\":{\"WSEXEC_TEST_MARK\":\"" + mark + "\"}}");
            assertTrue(client.readFrame().text().contains("\"type\":\"started\""));
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3),
                    "the shell and both sleeps should be running");
        } // the socket closes here with no closing handshake: a vanished client
        assertTrue(Processes.await(10_000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                "left behind: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
    }

    @Test
    void stdinIsForwardedAndClosed() {
        Clients.Result r = Clients.runWithInput(server.url(), "a\nb\n".getBytes(StandardCharsets.UTF_8), "sort", "-r");
        assertEquals(0, r.status());
        assertEquals("b\na\n", r.out());
    }

    @Test
    void multibyteCharactersCutInPiecesArriveWhole() {
        // 3-byte characters written in pieces that cut them in half. The run client takes binary
        // output, raw bytes written as they come, so pieces may be written apart; what matters is
        // the sum. (JSON output events never split a character: OutputFidelityTest.)
        Clients.Result r = Clients.run(server.url(), "printf '\\342\\202'; sleep 0.2; printf '\\254 and more \\342'; sleep 0.2; printf '\\202\\254'");
        assertEquals(0, r.status());
        assertEquals("€ and more €", r.out());
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
