package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import wsexec.common.Json;

/**
 * Output arrives as it is printed even from programs that buffer when they
 * write to a pipe (line buffering is set up by default, and the opt-out
 * really turns it off), and {@code "pty":true} gives a job a terminal.
 */
@Timeout(60)
class RealTimeTest {
    /** Python prints three lines a second apart; on a pipe it would buffer them all. */
    static final String PYTHON = "import time\nfor i in range(3):\n    print(i)\n    time.sleep(1)\n";
    /** sed (C stdio) copies three lines that come 0.6 s apart. */
    static final String SED = "for i in 1 2 3; do echo $i; sleep 0.6; done | sed s/^/sed/";

    static ExecEndpoint.Config config(boolean lineBuffered) {
        return new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ZERO, lineBuffered);
    }

    @Test
    void bufferingProgramsPrintLineByLineByDefault() throws Exception {
        try (TestServer server = TestServer.exec(config(true)); ExecClient client = ExecClient.open(server.port())) {
            client.send("{\"type\":\"exec\",\"id\":\"py\",\"argv\":[\"/usr/bin/python3\",\"-c\"," + Json.quote(new StringBuilder(), PYTHON) + "]}");
            client.exec("sed", SED);
            ExecClient.Finished py = client.awaitExit("py");
            ExecClient.Finished sed = client.awaitExit("sed");
            assertEquals("0\n1\n2\n", py.out());
            assertSpacedOut(py.outputs(), 3, 500);
            assertEquals("sed1\nsed2\nsed3\n", sed.out());
            assertSpacedOut(sed.outputs(), 3, 300);
        }
    }

    @Test
    void noLineBufferLeavesProgramsToBufferAsTheyLike() throws Exception {
        try (TestServer server = TestServer.exec(config(false)); ExecClient client = ExecClient.open(server.port())) {
            // env -u: in case this test itself runs with PYTHONUNBUFFERED set
            client.send("{\"type\":\"exec\",\"id\":\"py\",\"argv\":[\"/usr/bin/env\",\"-u\",\"PYTHONUNBUFFERED\",\"/usr/bin/python3\",\"-c\","
                    + Json.quote(new StringBuilder(), PYTHON) + "]}");
            client.exec("sed", SED);
            ExecClient.Finished py = client.awaitExit("py");
            ExecClient.Finished sed = client.awaitExit("sed");
            assertEquals(1, py.outputs().size(), "python buffered all three lines into one write at exit: " + py.outputs());
            assertEquals("0\n1\n2\n", py.out());
            assertEquals(1, sed.outputs().size(), "sed buffered its output: " + sed.outputs());
            long started = py.events().get(0).nanos();
            long arrived = py.outputs().get(0).nanos();
            assertTrue((arrived - started) / 1_000_000 >= 1500, "the lines came at the end, not as printed");
        }
    }

    @Test
    void ptyGivesTheJobATerminalWithOneMergedStream() throws Exception {
        try (TestServer server = TestServer.exec(config(true)); ExecClient client = ExecClient.open(server.port())) {
            String probe = "if test -t 1; then echo tty; else echo notty; fi; echo to-stderr >&2";
            client.exec("t", probe, ",\"pty\":true");
            ExecClient.Finished t = client.awaitExit("t");
            assertEquals(0, t.code());
            // A terminal turns \n into \r\n (stty onlcr), and stderr goes to the same terminal.
            assertEquals("tty\r\nto-stderr\r\n", t.out());
            assertEquals("", t.err(), "under a pty there is no separate stderr");
            assertTrue(t.outputs().stream().allMatch(e -> "stdout".equals(e.get("stream"))));

            client.exec("n", probe);
            ExecClient.Finished n = client.awaitExit("n");
            assertEquals("notty\n", n.out());
            assertEquals("to-stderr\n", n.err());
        }
    }

    @Test
    void ptyJobsPassTheExitCodeOnAndAreSignalledAsAWhole() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(config(true)); ExecClient client = ExecClient.open(server.port())) {
            client.exec("x", "exit 7", ",\"pty\":true");
            assertEquals(7, client.awaitExit("x").code());
            client.exec("s", "sleep 600 | sleep 601", ",\"pty\":true" + JobControlTest.env(mark));
            assertEquals("started", client.nextOf("s").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3));
            client.send("{\"type\":\"signal\",\"id\":\"s\",\"signal\":\"INT\"}");
            ExecClient.Finished s = client.awaitExit("s");
            assertEquals(130, s.code(), "script passes on the death of the command by INT: " + s.events());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left behind under the pty: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }

    /**
     * Each of {@code count} lines was complete at least {@code gapMillis} after the one before.
     * (Unbuffered Python writes a line's text and its newline separately, so a line may
     * take two events; what matters is when each line is there.)
     */
    static void assertSpacedOut(List<ExecClient.Event> outputs, int count, long gapMillis) {
        List<Long> lineEnds = new java.util.ArrayList<>();
        for (ExecClient.Event e : outputs) {
            ((String) e.get("data")).chars().filter(c -> c == '\n').forEach(c -> lineEnds.add(e.nanos()));
        }
        assertEquals(count, lineEnds.size(), "lines: " + outputs);
        for (int i = 1; i < lineEnds.size(); i++) {
            long gap = (lineEnds.get(i) - lineEnds.get(i - 1)) / 1_000_000;
            assertTrue(gap >= gapMillis, "line " + i + " came " + gap + " ms after the one before: " + outputs);
        }
    }
}
