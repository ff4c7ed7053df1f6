package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import wsexec.JarProcess;
import wsexec.Main;

/**
 * A job start holds its carrier thread until the child has run exec; the server therefore runs
 * virtual threads on one carrier per core and a spare ({@link Main#carriers}), unless told otherwise.
 */
@Timeout(60)
class CarrierThreadsTest {

    @Test
    void oneCarrierPerCoreAndASpareUnlessTheCommandLineSaysOtherwise() {
        assertEquals("3", Main.carriers(null, 2));
        assertEquals("2", Main.carriers(null, 1));
        assertEquals("9", Main.carriers(null, 8));
        assertEquals("3", Main.carriers("3", 2), "-Djdk.virtualThreadScheduler.parallelism=3 is the operator's choice");
    }

    /** The property must be set before the scheduler exists; the JVM itself says how many it has. */
    @Test
    void theServerProcessRunsOnOneCarrierPerCoreAndASpare() throws Exception {
        try (JarProcess server = JarProcess.start("serve", "--no-auth", "--port", "0", "--quiet")) {
            int port = ServerLifecycleTest.awaitPort(server);
            try (ExecClient client = ExecClient.open(port)) {
                assertEquals("ok\n", client.run("ok", "echo ok").out()); // the scheduler exists now
            }
            Path jcmd = Path.of(JarProcess.java()).resolveSibling("jcmd");
            Process query = new ProcessBuilder(jcmd.toString(), Long.toString(server.process.pid()), "Thread.vthread_scheduler")
                    .redirectErrorStream(true).start();
            String answer = new String(query.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, query.waitFor(), answer);
            int cores = Runtime.getRuntime().availableProcessors();
            assertTrue(answer.contains("parallelism = " + (cores + 1)), "expected " + (cores + 1) + " carriers: " + answer);
        }
    }
}
