package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;
import wsexec.JarProcess;

/** The server as a real process: how it stops on SIGTERM, and how it starts its jobs. */
@Timeout(60)
class ServerLifecycleTest {
    static final Pattern URL = Pattern.compile("ws://127\\.0\\.0\\.1:(\\d+)/");

    @Test
    void sigtermEndsJobsSendsTheirExitsClosesWith1001AndExitsZero() throws Exception {
        String mark = UUID.randomUUID().toString();
        long graceMs = 1000;
        try (JarProcess server = JarProcess.start("serve", "--no-auth", "--port", "0", "--kill-grace", graceMs + "ms", "--quiet")) {
            int port = awaitPort(server);
            ExecClient jobs = ExecClient.open(port);
            ExecClient idle = ExecClient.open(port);
            jobs.exec("polite", "sleep 600", JobControlTest.env(mark));
            jobs.exec("stubborn", "trap '' TERM; sleep 600", JobControlTest.env(mark));
            assertEquals("started", jobs.nextOf("polite").type());
            assertEquals("started", jobs.nextOf("stubborn").type());
            assertTrue(Processes.await(5000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).size() >= 2));

            long t0 = System.nanoTime();
            server.process.destroy(); // SIGTERM
            Map<String, ExecClient.Event> exits = new HashMap<>();
            while (exits.size() < 2) {
                ExecClient.Event e = jobs.next();
                if (e == null) {
                    throw new AssertionError("connection closed before both exit events; got " + exits);
                }
                if (e.type().equals("exit")) {
                    exits.put(e.id(), e);
                    // By the first exit, the server no longer accepts connections.
                    assertThrows(ConnectException.class, () -> {
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                        }
                    });
                }
            }
            assertEquals(143L, exits.get("polite").get("code"), "TERM ended the first job");
            assertEquals(137L, exits.get("stubborn").get("code"), "the job that ignores TERM was KILLed after the grace");
            assertTrue((Long) exits.get("stubborn").get("durationMs") >= graceMs);

            for (ExecClient client : List.of(jobs, idle)) {
                RawClient.Frame close = client.raw.readUntilClose();
                assertEquals(Opcode.CLOSE, close.opcode());
                assertEquals(1001, close.closeCode(), "going away");
                client.raw.sendClose(1001, "");
                assertTrue(client.raw.awaitEof(), "the server closes the TCP connection after the closing handshake");
                client.close();
            }
            int status = server.waitFor(graceMs + 5000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("server stopped " + ms + " ms after SIGTERM (kill grace " + graceMs + " ms)");
            assertEquals(0, status, "stderr: " + server.err());
            assertTrue(ms <= graceMs + 1000, "the server took " + ms + " ms to stop; grace + 1 s is " + (graceMs + 1000));
            assertTrue(Processes.await(2000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                    "left behind: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
        }
    }

    @Test
    void aServerStartedInTheBackgroundStillGivesJobsAWorkingCtrlC() throws Exception {
        // A script's "cmd &" starts cmd with INT and QUIT ignored, and children inherit that.
        // Jobs must not: their INT would do nothing.
        Process shell = new ProcessBuilder("/bin/sh", "-c", "\"$@\" & echo \"pid $!\"; wait", "sh",
                JarProcess.java(), "-jar", JarProcess.JAR.toString(), "serve", "--no-auth", "--port", "0", "--quiet")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long serverPid = -1;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            for (String line; port < 0 && (line = out.readLine()) != null; ) {
                if (line.startsWith("pid ")) {
                    serverPid = Long.parseLong(line.substring(4));
                }
                Matcher m = URL.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0 && serverPid > 0);
            assertTrue(ignoresInt(serverPid), "the test's premise: the server process ignores INT");
            try (ExecClient client = ExecClient.open(port)) {
                ExecClient.Finished probe = client.run("probe", "grep SigIgn /proc/self/status");
                long mask = Long.parseUnsignedLong(probe.out().substring(probe.out().indexOf(':') + 1).strip(), 16);
                assertEquals(0, mask & 0b110, "the job ignores INT or QUIT: " + probe.out());
                client.exec("s", "sleep 600");
                assertEquals("started", client.nextOf("s").type());
                client.send("{\"type\":\"signal\",\"id\":\"s\",\"signal\":\"INT\"}");
                assertEquals(130, client.awaitExit("s").code());
                // INT sent the moment "started" arrives: the job may still be setting itself up
                // (before setsid, or inside env, while INT is still ignored). It must not be lost.
                for (int i = 0; i < 40; i++) {
                    client.exec("r" + i, "sleep 600");
                    assertEquals("started", client.nextOf("r" + i).type());
                    client.send("{\"type\":\"signal\",\"id\":\"r" + i + "\",\"signal\":\"INT\"}");
                    assertEquals(130, client.awaitExit("r" + i).code(), "INT right after started, attempt " + i);
                }
            }
        } finally {
            if (serverPid > 0) {
                ProcessHandle.of(serverPid).ifPresent(ProcessHandle::destroy);
            }
            shell.waitFor();
        }
    }

    static boolean ignoresInt(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 0b10) != 0;
            }
        }
        return false;
    }

    static int awaitPort(JarProcess server) throws Exception {
        assertTrue(Processes.await(20_000, () -> URL.matcher(server.out()).find()), "no URL printed: " + server.err());
        Matcher m = URL.matcher(server.out());
        assertTrue(m.find());
        return Integer.parseInt(m.group(1));
    }
}
