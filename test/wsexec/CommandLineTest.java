package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import wsexec.client.Clients;

class CommandLineTest {

    @Test
    void noArgumentsOrHelpPrintUsageForEverySubcommand() {
        for (String[] args : new String[][] {{}, {"--help"}}) {
            Clients.Result r = Clients.main(new byte[0], args);
            assertEquals(0, r.status());
            for (String sub : new String[] {"wsexec serve", "wsexec run", "wsexec echo"}) {
                assertTrue(r.out().contains(sub), sub + " missing from usage");
            }
        }
    }

    @Test
    void versionPrintsTheVersion() {
        Clients.Result r = Clients.main(new byte[0], "--version");
        assertEquals(0, r.status());
        assertEquals("wsexec " + Main.VERSION + "\n", r.out());
    }

    @Test
    void unknownSubcommandOrFlagIsOneLineAndStatus2() {
        for (String[] args : new String[][] {{"frobnicate"}, {"serve", "--frobnicate"}, {"run", "--nope", "--", "ls"},
                {"serve", "--port", "70000"}, {"serve", "--max-message", "lots"}, {"run"}, {"run", "--url", "http://x/", "ls"}}) {
            Clients.Result r = Clients.main(new byte[0], args);
            assertEquals(2, r.status(), String.join(" ", args));
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("wsexec: "));
        }
    }

    @Test
    void runKillAfterDefaultsToThreeSecondsAndTakesADuration() throws Exception {
        CommandLine.Run plain = (CommandLine.Run) CommandLine.parse(new String[] {"run", "--", "ls"});
        assertEquals(Duration.ofSeconds(3), plain.options().killAfter());
        CommandLine.Run set = (CommandLine.Run) CommandLine.parse(new String[] {"run", "--kill-after", "250ms", "--", "ls"});
        assertEquals(Duration.ofMillis(250), set.options().killAfter());
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"run", "--kill-after", "soon", "ls"}));
    }

    @Test
    void sizesAndDurations() throws Exception {
        assertEquals(1 << 20, Values.size("--max-message", "1MiB"));
        assertEquals(64 << 20, Values.size("--max-message", "64MiB"));
        assertEquals(4096, Values.size("--max-message", "4KiB"));
        assertEquals(1234, Values.size("--max-message", "1234"));
        assertThrows(CommandLine.UsageException.class, () -> Values.size("--max-message", "3GiB"));
        assertEquals(Duration.ofMillis(250), Values.duration("--kill-grace", "250ms"));
        assertEquals(Duration.ofSeconds(10), Values.duration("--kill-grace", "10s"));
        assertEquals(Duration.ofSeconds(120), Values.duration("--kill-grace", "2m"));
        assertEquals(Duration.ofSeconds(3), Values.duration("--kill-grace", "3"));
    }

    @Test
    void serveDefaultsAreThePromisedOnes() throws Exception {
        CommandLine.Serve serve = (CommandLine.Serve) CommandLine.parse(new String[] {"serve"});
        assertEquals(8023, serve.server().port());
        assertEquals("127.0.0.1", serve.server().bind().getHostAddress());
        assertEquals(1 << 20, serve.server().limits().maxMessageSize());
        assertEquals(Duration.ofSeconds(10), serve.server().handshakeTimeout());
        assertEquals(8192, serve.server().maxHeadBytes());
    }

    @Test
    void refusedConnectionIsOneLineAndStatus255() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Clients.Result r = Clients.run("ws://127.0.0.1:" + port + "/", "true");
        assertEquals(255, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cannot connect"), r.err());
    }

    @Test
    void runKeepTakesAnOptionalTimeAndDetachImpliesKeep() throws Exception {
        assertEquals(Duration.ofHours(1), ((CommandLine.Run) CommandLine.parse(new String[] {"run", "--keep", "--", "ls"})).options().keep());
        assertEquals(Duration.ofHours(2), ((CommandLine.Run) CommandLine.parse(new String[] {"run", "--keep", "2h", "--", "ls"})).options().keep());
        assertEquals(Duration.ofSeconds(90), ((CommandLine.Run) CommandLine.parse(new String[] {"run", "--keep=90s", "ls"})).options().keep());
        // a command word that is not a time stays the command
        CommandLine.Run plainWord = (CommandLine.Run) CommandLine.parse(new String[] {"run", "--keep", "make", "all"});
        assertEquals(java.util.List.of("make", "all"), plainWord.options().command());
        assertEquals(null, ((CommandLine.Run) CommandLine.parse(new String[] {"run", "ls"})).options().keep());
        CommandLine.Run detached = (CommandLine.Run) CommandLine.parse(new String[] {"run", "--detach", "ls"});
        assertEquals(Duration.ofHours(1), detached.options().keep());
        assertEquals(true, detached.options().detach());
    }

    @Test
    void attachNeedsOneJobAndJobsTakesNone() throws Exception {
        CommandLine.Run attach = (CommandLine.Run) CommandLine.parse(new String[] {"attach", "--read-only", "--from", "now", "J1"});
        assertEquals(wsexec.client.RunOptions.Mode.ATTACH, attach.options().mode());
        assertEquals("J1", attach.options().job());
        assertEquals("now", attach.options().from());
        assertEquals(true, attach.options().readOnly());
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"attach"}));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"attach", "--from", "middle", "J1"}));
        assertEquals(wsexec.client.RunOptions.Mode.JOBS, ((CommandLine.Run) CommandLine.parse(new String[] {"jobs"})).options().mode());
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"jobs", "extra"}));
    }

    @Test
    void keptJobBuffersMustHoldAByte() {
        for (String flag : new String[] {"--keep-buffer", "--keep-max-bytes"}) {
            CommandLine.UsageException e = assertThrows(CommandLine.UsageException.class,
                    () -> CommandLine.parse(new String[] {"serve", flag, "0"}));
            assertTrue(e.getMessage().contains(flag), e.getMessage());
        }
    }
}
