package wsexec.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import wsexec.server.ExecClient;
import wsexec.server.ExecEndpoint;
import wsexec.server.Processes;
import wsexec.server.TestServer;

/** Shell commands the shell would only split into words run without a shell; all others keep it. */
@Timeout(60)
class CommandsTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.exec(new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ZERO, true));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static List<String> shell(String text) {
        return List.of("/bin/sh", "-c", text);
    }

    @Test
    void plainWordsBecomeAnArgvWithTheProgramFoundOnPath() {
        String seq = Commands.onPath("seq");
        assertTrue(seq != null && seq.startsWith("/") && seq.endsWith("/seq"), "seq on PATH: " + seq);
        assertEquals(List.of(seq, "1", "1000000"), Commands.withoutShell(shell("seq 1 1000000")));
        assertEquals(List.of(seq, "-s,", "1", "3"), Commands.withoutShell(shell("  seq\t-s,  1 3 ")));
        assertEquals(List.of("/bin/echo", "a=b", "x:y@z%"), Commands.withoutShell(shell("/bin/echo a=b x:y@z%")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "echo $HOME", "echo 'a  b'", "echo \"a\"", "echo a\\ b", "ls *", "ls ?", "ls [ab]", "echo ~", "echo a # comment",
        "true; false", "true && false", "true | cat", "echo a > /dev/null", "cat < /dev/null", "(true)", "{ true; }",
        "echo `date`", "! true", "echo a\nb", "X=1 env", "cd /", "exit 3", "export A=1", ". /dev/null", "exec true",
        "set -e", "wait", "read x", "umask", "no-such-program-here", "./relative-program", "if true; then :; fi"
    })
    void anythingTheShellWouldInterpretStaysWithTheShell(String text) {
        assertEquals(shell(text), Commands.withoutShell(shell(text)));
    }

    @Test
    void anArgvIsLeftAsItIs() {
        List<String> argv = List.of("seq", "1", "3");
        assertEquals(argv, Commands.withoutShell(argv));
    }

    @Test
    void aPlainCommandRunsAsTheJobsOwnProcessWithTheSameOutputAndCodes() throws Exception {
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("s", "sleep 30");
            ExecClient.Event started = client.nextOf("s");
            assertEquals("started", started.type());
            long pid = ((Number) started.fields().get("pid")).longValue();
            // The job's process is sleep itself, not a shell waiting for it.
            assertTrue(Processes.await(5_000, () -> "sleep".equals(comm(pid))), "comm of the job: " + comm(pid));
            client.send("{\"type\":\"signal\",\"id\":\"s\",\"signal\":\"TERM\"}");
            assertEquals(143, client.awaitExit("s").code());

            client.exec("q", "seq 1 5");
            assertEquals("1\n2\n3\n4\n5\n", new String(client.awaitExit("q").stdout()));
            client.exec("f", "false");
            assertEquals(1, client.awaitExit("f").code());
            client.exec("l", "ls /no/such/dir");
            ExecClient.Finished l = client.awaitExit("l");
            assertEquals(2, l.code());
            assertTrue(new String(l.stderr()).contains("/no/such/dir"), new String(l.stderr()));
            // Not found: still the shell's message and code.
            client.exec("n", "no-such-program-here --flag");
            ExecClient.Finished n = client.awaitExit("n");
            assertEquals(127, n.code());
            assertTrue(new String(n.stderr()).contains("not found"), new String(n.stderr()));
        }
    }

    @Test
    void aJobThatSetsItsOwnPathKeepsTheShellAndThatPath() throws Exception {
        Path dir = Files.createTempDirectory("wsexec-path");
        Path program = dir.resolve("seq");
        Files.writeString(program, "#!/bin/sh\necho mine\n");
        program.toFile().setExecutable(true);
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("p", "seq 1 2", ",\"env\":{\"PATH\":\"" + dir + ":/usr/bin:/bin\"}");
            ExecClient.Finished p = client.awaitExit("p");
            assertEquals("mine\n", new String(p.stdout()));
        } finally {
            Files.delete(program);
            Files.delete(dir);
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (java.io.IOException e) {
            return "(gone)";
        }
    }
}
