package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import wsexec.client.Clients;
import wsexec.common.Log;

/** The flags of issue 21 (deploying as a service): per-subcommand help, base path, trusted proxies, journal logs. */
class DeployFlagsTest {

    @Test
    void eachSubcommandsHelpPrintsItsOwnOptionsAndExits0() {
        String[][] cases = {{"serve", "--base-path", "--job-timeout"}, {"run", "--cacert", "--kill-after"}, {"echo", "--port N (default 9001)", "--quiet"}};
        for (String[] c : cases) {
            Clients.Result r = Clients.main(new byte[0], c[0], "--help");
            assertEquals(0, r.status(), c[0]);
            assertTrue(r.out().startsWith("usage: wsexec " + c[0]), r.out());
            assertTrue(r.out().contains(c[1]) && r.out().contains(c[2]), r.out());
            for (String other : new String[] {"serve", "run", "echo"}) {
                if (!other.equals(c[0])) {
                    assertFalse(r.out().contains(other + " options:"), c[0] + " --help shows " + other + "'s options");
                }
            }
        }
        // after "--" it is the remote command's argument, not ours
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"serve", "--", "--help"}));
        assertInstanceOf(CommandLine.Run.class, assertDoesNotThrowParse("run", "--", "ls", "--help"));
    }

    static CommandLine.Command assertDoesNotThrowParse(String... args) {
        try {
            return CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void basePathAndTrustedProxiesAreParsedAndChecked() throws Exception {
        CommandLine.Serve serve = (CommandLine.Serve) CommandLine.parse(new String[] {"serve", "--no-auth", "--base-path", "exec",
                "--trusted-proxy", "127.0.0.1/32", "--trusted-proxy=10.0.0.0/8"});
        assertEquals("/exec/", serve.deployment().basePath());
        assertTrue(serve.deployment().proxies().trusts(InetAddress.getByName("10.2.3.4")));
        assertTrue(serve.deployment().proxies().trusts(InetAddress.getByName("127.0.0.1")));
        assertFalse(serve.deployment().proxies().trusts(InetAddress.getByName("127.0.0.2")));
        CommandLine.Serve defaults = (CommandLine.Serve) CommandLine.parse(new String[] {"serve", "--no-auth"});
        assertEquals("/", defaults.deployment().basePath());
        assertTrue(defaults.deployment().proxies().isEmpty());
        assertEquals("/a/b/", ((CommandLine.Serve) CommandLine.parse(new String[] {"serve", "--no-auth", "--base-path", "/a/b"}))
                .deployment().basePath());
        for (String[] bad : List.of(new String[] {"--base-path", "/../x/"}, new String[] {"--base-path", "/a b/"},
                new String[] {"--trusted-proxy", "proxy.example"}, new String[] {"--trusted-proxy", "10.0.0.0/40"})) {
            assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(new String[] {"serve", "--no-auth", bad[0], bad[1]}),
                    String.join(" ", bad));
        }
    }

    @Test
    void journalFormatPrefixesThePriorityAndNoTimestamp() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Log.Format before = Log.format();
        Log.to(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Log.format(Log.Format.JOURNAL);
        Log.quiet(false);
        try {
            Log.event("connection.opened", "connection 1 opened", "peer", "x");
            Log.event("connection.refused", "refused 2: 401", "peer", "x");
            Log.error("cannot do it\nsecond line");
            Log.trace("frame", List.of("a", "b"));
        } finally {
            Log.format(before);
            Log.quiet(true); // as every test leaves it (TestServer)
            Log.to(System.err);
        }
        assertEquals(List.of("<6>connection 1 opened", "<4>refused 2: 401", "<3>cannot do it\\nsecond line", "<7>a | b"),
                bytes.toString(StandardCharsets.UTF_8).lines().toList());
        assertEquals(Log.Format.JOURNAL, ((CommandLine.Serve) assertDoesNotThrowParse("serve", "--no-auth", "--log-format", "journal")).logFormat());
    }
}
