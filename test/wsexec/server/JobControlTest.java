package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import wsexec.JarProcess;
import wsexec.common.Json;
import wsexec.job.JobSignal;

/**
 * Controlling a running job: its stdin (in order, then end of input), signals
 * to its whole process tree, and Ctrl-C on the {@code run} client.
 */
@Timeout(60)
class JobControlTest {
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
    void stdinMessagesArriveInOrderAndEofEndsTheInput() throws Exception {
        StringBuilder expected = new StringBuilder();
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("c", "cat; echo end-of-input");
            assertEquals("started", client.nextOf("c").type());
            for (int i = 0; i < 500; i++) {
                String line = "line " + i + " ✓\n";
                expected.append(line);
                client.send("{\"type\":\"stdin\",\"id\":\"c\",\"data\":" + Json.quote(new StringBuilder(), line) + "}");
            }
            // raw bytes too, and eof in the same message as the last data
            client.send("{\"type\":\"stdin\",\"id\":\"c\",\"base64\":\"/wAK\"}");
            client.send("{\"type\":\"stdin\",\"id\":\"c\",\"data\":\"last\",\"eof\":true}");
            ExecClient.Finished f = client.awaitExit("c");
            assertEquals(0, f.code(), "cat saw end of input and the shell went on");
            java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
            want.writeBytes(expected.toString().getBytes(StandardCharsets.UTF_8));
            want.writeBytes(new byte[] {(byte) 0xFF, 0, '\n'});
            want.writeBytes("lastend-of-input\n".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals(want.toByteArray(), f.stdout());
        }
    }

    @Test
    void runForwardsItsOwnStdin() throws Exception {
        // Literally: printf 'a\nb\n' | wsexec run -- sort -r
        try (JarProcess run = JarProcess.start("a\nb\n".getBytes(StandardCharsets.UTF_8),
                "run", "--url", server.url(), "--", "sort", "-r")) {
            assertEquals(0, run.waitFor(20_000), run.err());
            assertEquals("b\na\n", run.out());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM", "KILL"})
    void aSignalReachesTheShellAndAllItsChildren(String signal) throws Exception {
        String mark = UUID.randomUUID().toString();
        try (ExecClient client = ExecClient.open(server.port())) {
            // A foreground pipeline: neither sleep ignores INT (background jobs of sh would).
            client.exec("s", "sleep 600 | sleep 601; echo not-reached", env(mark));
            assertEquals("started", client.nextOf("s").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3),
                    "the shell and both sleeps should be running");
            client.send("{\"type\":\"signal\",\"id\":\"s\",\"signal\":\"" + signal + "\"}");
            ExecClient.Finished f = client.awaitExit("s");
            int number = JobSignal.byName(signal).number;
            assertEquals(128 + number, f.code(), f.events().toString());
            assertEquals(signal, f.exit().get("signal"));
            assertEquals("", f.out(), "the shell itself was signalled, not just its children");
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "still running after " + signal + ": " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }

    @Test
    void backgroundChildrenGetTermToo() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("b", "sleep 600 & sleep 600 & wait", env(mark));
            assertEquals("started", client.nextOf("b").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3));
            client.send("{\"type\":\"signal\",\"id\":\"b\",\"signal\":\"TERM\"}");
            assertEquals(143, client.awaitExit("b").code());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left behind: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }

    @Test
    void whatAFinishedJobLeftRunningInItsGroupIsEnded() throws Exception {
        // The background child lets go of the job's pipes, so the job ends at once, with no
        // linger; only the look through /proc after it (LeftoverSweep) can find the child.
        String mark = UUID.randomUUID().toString();
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("left", "sleep 600 </dev/null >/dev/null 2>&1 & echo $!", env(mark));
            ExecClient.Finished job = client.awaitExit("left");
            assertEquals(0, job.code());
            assertTrue(job.out().strip().matches("[0-9]+"), "the shell started a background child: " + job.out());
            assertTrue(Processes.await(10_000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left running: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }

    @Test
    void ctrlCOnTheClientInterruptsTheJobAndExitsWithItsCode() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (JarProcess run = JarProcess.start("run", "--url", server.url(), "--env", "WSEXEC_TEST_MARK=" + mark,
                "--", "trap 'echo interrupted; exit 42' INT; echo ready; sleep 600 | sleep 601")) {
            assertTrue(Processes.await(20_000, () -> run.out().contains("ready")
                    && Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3), "the job did not start: " + run.err());
            run.signal("INT");
            // Not 130: that would be the client dying of the signal itself. 42 comes from the job's trap.
            assertEquals(42, run.waitFor(10_000), "the job's exit code after its INT trap; stderr: " + run.err());
            assertEquals("ready\ninterrupted\n", run.out());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()));
        }
    }

    @Test
    void ctrlCOnAJobThatIgnoresIntEndsInKillAfterTheGrace() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (JarProcess run = JarProcess.start("run", "--url", server.url(), "--kill-after", "1s", "--env", "WSEXEC_TEST_MARK=" + mark,
                "--", "trap '' INT; echo ready; sleep 600")) {
            assertTrue(Processes.await(20_000, () -> run.out().contains("ready")
                    && Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 2), "the job did not start: " + run.err());
            long t0 = System.nanoTime();
            run.signal("INT");
            assertFalse(Processes.await(700, () -> !run.process.isAlive()),
                    "the client must wait --kill-after before it escalates");
            assertEquals(137, run.waitFor(10_000), "the job ignored INT and was KILLed; stderr: " + run.err());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis >= 900, "KILL came after " + millis + " ms, before --kill-after");
            assertTrue(run.err().contains("KILL"), run.err());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()));
        }
    }

    static String env(String mark) {
        return ",\"env\":{\"WSEXEC_TEST_MARK\":\"" + mark + "\"}";
    }
}
