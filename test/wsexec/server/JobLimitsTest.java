package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every job limit crossed: the time limit (server-wide and per job), running
 * jobs per connection and per server, and what a disconnect does (TERM, then
 * KILL after the grace, nothing left behind).
 */
@Timeout(60)
class JobLimitsTest {

    static ExecEndpoint.Config config(int perConnection, int perServer, Duration grace, Duration jobTimeout) {
        return new ExecEndpoint.Config(perConnection, perServer, grace, Duration.ofSeconds(2), jobTimeout, true);
    }

    @Test
    void jobTimeoutFlagEndsJobsWithTermThenKill() throws Exception {
        try (TestServer server = TestServer.exec(config(64, 512, Duration.ofMillis(500), Duration.ofMillis(700)));
             ExecClient client = ExecClient.open(server.port())) {
            long t0 = System.nanoTime();
            ExecClient.Finished f = client.run("t", "sleep 30");
            assertEquals(143, f.code(), f.events().toString());
            assertEquals("TERM", f.exit().get("signal"));
            assertEquals("timeout", f.exit().get("reason"));
            assertTrue((System.nanoTime() - t0) / 1_000_000 >= 650, "ended before its time");

            // A job that ignores TERM is killed after the grace.
            ExecClient.Finished stubborn = client.run("s", "trap '' TERM; sleep 30");
            assertEquals(137, stubborn.code(), stubborn.events().toString());
            assertEquals("KILL", stubborn.exit().get("signal"));
            assertEquals("timeout", stubborn.exit().get("reason"));
            long ms = ((Long) stubborn.exit().get("durationMs"));
            assertTrue(ms >= 1150, "KILL came " + ms + " ms after start: before timeout + grace");

            // Plain-text commands (the wscat way) have the limit too.
            client.send("sleep 30");
            ExecClient.Event started = client.next();
            assertEquals("started", started.type());
            ExecClient.Finished plain = client.awaitExit(started.id());
            assertEquals("timeout", plain.exit().get("reason"));

            // A job that ends in time says nothing about a timeout.
            ExecClient.Finished quick = client.run("q", "echo quick");
            assertEquals(0, quick.code());
            assertFalse(quick.exit().fields().containsKey("reason"));
        }
    }

    @Test
    void timeoutMsLimitsOneJobAndCannotRaiseTheServersLimit() throws Exception {
        try (TestServer server = TestServer.exec(config(64, 512, Duration.ofMillis(500), Duration.ZERO));
             ExecClient client = ExecClient.open(server.port())) {
            client.exec("t", "sleep 30", ",\"timeoutMs\":300");
            ExecClient.Finished f = client.awaitExit("t");
            assertEquals("timeout", f.exit().get("reason"));
            assertEquals(143, f.code());
            // no server limit here: the same command with no timeoutMs is not cut short
            client.exec("u", "sleep 0.8");
            assertEquals(0, client.awaitExit("u").code());
        }
        try (TestServer server = TestServer.exec(config(64, 512, Duration.ofMillis(500), Duration.ofMillis(400)));
             ExecClient client = ExecClient.open(server.port())) {
            client.exec("r", "sleep 30", ",\"timeoutMs\":60000");
            ExecClient.Finished f = client.awaitExit("r");
            assertEquals("timeout", f.exit().get("reason"), "the server's --job-timeout still applies");
            assertTrue((Long) f.exit().get("durationMs") < 10_000);
        }
    }

    @Test
    void tooManyJobsPerConnectionAndPerServerAreErrorEventsNotHangs() throws Exception {
        try (TestServer server = TestServer.exec(config(2, 3, Duration.ofMillis(500), Duration.ZERO));
             ExecClient a = ExecClient.open(server.port());
             ExecClient b = ExecClient.open(server.port())) {
            a.exec("a1", "cat");
            a.exec("a2", "cat");
            assertEquals("started", a.nextOf("a1").type());
            assertEquals("started", a.nextOf("a2").type());
            a.exec("a3", "echo never");
            ExecClient.Event refused = a.nextOf("a3");
            assertEquals("error", refused.type());
            assertEquals("too_many_jobs", refused.get("code"));
            assertTrue(((String) refused.get("message")).contains("--max-jobs-per-connection"), refused.json());

            b.exec("b1", "cat");
            assertEquals("started", b.nextOf("b1").type());
            b.exec("b2", "echo never");
            ExecClient.Event full = b.nextOf("b2");
            assertEquals("error", full.type());
            assertEquals("too_many_jobs", full.get("code"));
            assertTrue(((String) full.get("message")).contains("--max-jobs"), full.json());

            // The refused requests did not disturb the running jobs, and a freed place is usable again.
            a.send("{\"type\":\"stdin\",\"id\":\"a1\",\"data\":\"still here\\n\",\"eof\":true}");
            ExecClient.Finished a1 = a.awaitExit("a1");
            assertEquals("still here\n", a1.out());
            assertEquals(0, a1.code());
            ExecClient.Finished again = b.run("b3", "echo again");
            assertEquals("again\n", again.out(), again.events().toString());
            a.send("{\"type\":\"stdin\",\"id\":\"a2\",\"eof\":true}");
            b.send("{\"type\":\"stdin\",\"id\":\"b1\",\"eof\":true}");
            assertEquals(0, a.awaitExit("a2").code());
            assertEquals(0, b.awaitExit("b1").code());
            assertTrue(Processes.await(2000, () -> server.exec.runningJobs() == 0));
        }
    }

    @Test
    void disconnectGivesTermAndAJobThatIgnoresItGetsKillAfterTheGrace(@TempDir Path dir) throws Exception {
        String mark = UUID.randomUUID().toString();
        Path log = dir.resolve("signals.log");
        Duration grace = Duration.ofMillis(1500);
        try (TestServer server = TestServer.exec(config(64, 512, grace, Duration.ZERO))) {
            ExecClient client = ExecClient.open(server.port());
            // This one notes the TERM and carries on; only KILL ends it.
            client.exec("stubborn", "trap 'echo TERM >> " + log + "' TERM; echo ready; while :; do sleep 0.05; done", JobControlTest.env(mark));
            client.exec("tree", "sleep 600 & sleep 600 & wait", JobControlTest.env(mark));
            assertEquals("started", client.nextOf("stubborn").type());
            assertEquals("output", client.nextOf("stubborn").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 5));
            long t0 = System.nanoTime();
            client.close(); // vanishes without a closing handshake
            assertTrue(Processes.await(3000, () -> Files.exists(log)), "the job got no TERM");
            assertFalse(Processes.await(grace.toMillis() - 500, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "the job that traps TERM was killed before the grace was over");
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left behind: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= grace.toMillis() - 100, "KILL after " + ms + " ms");
            assertEquals("TERM\n", Files.readString(log));
            assertTrue(Processes.await(2000, () -> server.exec.runningJobs() == 0));
            assertEquals(0, ProcessHandle.current().children().filter(p -> !p.info().command().orElse("").endsWith("kill")).count(),
                    "no child of the server is left, not even a zombie");
        }
    }

    @Test
    void aCleanCloseEndsJobsTheSameWay() throws Exception {
        String mark = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(config(64, 512, Duration.ofMillis(500), Duration.ZERO));
             ExecClient client = ExecClient.open(server.port())) {
            client.exec("tree", "sleep 600 & sleep 600 & wait", JobControlTest.env(mark));
            assertEquals("started", client.nextOf("tree").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 3));
            client.raw.sendClose(1000, "bye");
            assertEquals(1000, client.raw.readUntilClose().closeCode());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left behind: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }
}
