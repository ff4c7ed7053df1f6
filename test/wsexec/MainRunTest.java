package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** {@link Main#run(PrintStream, PrintStream, String...)}: the command line without a process. */
class MainRunTest {

    private record Outcome(int status, String out, String err) {
    }

    private static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void versionIsOneLineOnStdout() {
        Outcome o = run("--version");
        assertEquals(0, o.status());
        assertEquals("wsexec " + Main.VERSION + "\n", o.out());
        assertEquals("", o.err());
    }

    @Test
    void helpNamesEverySubcommand() {
        Outcome o = run("--help");
        assertEquals(0, o.status());
        for (String sub : new String[] {"wsexec serve", "wsexec run", "wsexec echo"}) {
            assertTrue(o.out().contains(sub), sub + " missing from --help");
        }
    }

    @Test
    void aUsageErrorIsStatus2AndOneLineOnStderr() {
        Outcome o = run("serve", "--port", "not-a-port");
        assertEquals(Main.USAGE, o.status());
        assertEquals("", o.out());
        assertTrue(o.err().startsWith("wsexec: ") && o.err().lines().count() == 1, o.err());
    }

    @Test
    void runWithNothingToReachIsStatus255() {
        // A port nobody listens on: the client prints one line and exits as ssh would.
        Outcome o = run("run", "--url", "ws://127.0.0.1:1/", "--token", "x".repeat(32), "--connect-timeout", "2s", "--", "true");
        assertEquals(255, o.status(), o.err());
    }
}
