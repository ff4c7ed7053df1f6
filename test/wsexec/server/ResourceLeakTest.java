package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Finished jobs leave nothing behind (threads, file descriptors, child
 * processes), and hundreds of running jobs do not slow down a new client.
 */
class ResourceLeakTest {

    @Test
    @Timeout(180)
    void twoThousandJobsLeaveNoThreadsFilesOrProcessesBehind() throws Exception {
        try (TestServer server = TestServer.exec()) {
            try (ExecClient client = ExecClient.open(server.port())) {
                for (int i = 0; i < 20; i++) { // warm up: lazily started threads, loaded classes
                    client.run("w" + i, "echo warm");
                }
            }
            assertTrue(Processes.await(5000, () -> server.server.openConnections() == 0));
            Snapshot idle = Snapshot.take();

            long t0 = System.nanoTime();
            try (ExecClient client = ExecClient.open(server.port())) {
                for (int i = 0; i < 1000; i++) {
                    ExecClient.Finished f = client.run("s" + i, "echo hi");
                    assertEquals("hi\n", f.out(), "job " + i + ": " + f.events());
                }
            }
            long sequentialMs = (System.nanoTime() - t0) / 1_000_000;
            t0 = System.nanoTime();
            try (ExecClient client = ExecClient.open(server.port())) {
                for (int wave = 0; wave < 20; wave++) {
                    for (int i = 0; i < 50; i++) {
                        client.exec("p" + wave + "-" + i, "echo " + i);
                    }
                    for (int i = 0; i < 50; i++) {
                        ExecClient.Finished f = client.awaitExit("p" + wave + "-" + i);
                        assertEquals(i + "\n", f.out(), f.events().toString());
                    }
                }
            }
            long parallelMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("2,000 jobs: 1,000 one after another in " + sequentialMs + " ms, 1,000 fifty at a time in " + parallelMs + " ms");

            boolean settled = Processes.await(15_000, () -> Snapshot.take().withinIdle(idle));
            Snapshot after = Snapshot.take();
            assertTrue(settled, "idle " + idle + ", after the jobs " + after);
            assertEquals(0, server.exec.runningJobs());
        }
    }

    /**
     * The team's rule: hundreds of long-running jobs (each with its pipe readers on
     * platform threads) must not keep a new client waiting more than a second.
     */
    @Test
    @Timeout(120)
    void threeHundredRunningJobsDoNotSlowANewClient() throws Exception {
        String mark = UUID.randomUUID().toString();
        ExecEndpoint.Config config = new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ZERO, true);
        List<ExecClient> clients = new ArrayList<>();
        try (TestServer server = TestServer.exec(config)) {
            for (int c = 0; c < 5; c++) {
                ExecClient client = ExecClient.open(server.port());
                clients.add(client);
                for (int i = 0; i < 60; i++) {
                    client.exec("j" + i, "sleep 30", JobControlTest.env(mark));
                }
            }
            for (ExecClient client : clients) {
                for (int i = 0; i < 60; i++) {
                    assertEquals("started", client.nextOf("j" + i).type());
                }
            }
            assertEquals(300, server.exec.runningJobs());
            for (int attempt = 0; attempt < 3; attempt++) {
                long t0 = System.nanoTime();
                try (ExecClient fresh = ExecClient.open(server.port())) {
                    ExecClient.Finished f = fresh.run("ok", "echo ok");
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    assertEquals("ok\n", f.out());
                    assertTrue(ms < 1000, "a new client with 300 jobs running took " + ms + " ms");
                }
            }
            for (ExecClient client : clients) {
                client.close();
            }
            assertTrue(Processes.await(30_000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left running: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size());
            assertTrue(Processes.await(10_000, () -> server.exec.runningJobs() == 0));
        } finally {
            for (ExecClient client : clients) {
                client.close();
            }
        }
    }

    /** What a server holds while idle. */
    record Snapshot(int threads, int reapers, int fds, long children) {
        static Snapshot take() {
            int threads = 0;
            int reapers = 0;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                // The JDK's own "process reaper" threads wait for children, and ForkJoinPool workers
                // carry virtual threads (and the common pool's tasks); both are pooled and leave on
                // their own after a while idle, so they are counted apart, with a bound.
                if (t.getName().equals("process reaper") || t.getName().startsWith("ForkJoinPool")) {
                    reapers++;
                } else {
                    threads++;
                }
            }
            return new Snapshot(threads, reapers, openFiles(), ProcessHandle.current().children().count());
        }

        boolean withinIdle(Snapshot idle) {
            // Pooled threads are bounded, not counted exactly: an earlier test (300 jobs at once) may
            // still have its reapers waiting out their minute when this one starts; then the pool,
            // already large, may grow by a few for kill processes that now run beside the jobs
            // (off the timer thread). A leak would be one reaper per job: thousands.
            return threads <= idle.threads && fds <= idle.fds && children == 0 && reapers <= Math.max(64, idle.reapers + 16);
        }

        static int openFiles() {
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                return (int) fds.count();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
