package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.sun.management.HotSpotDiagnosticMXBean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an idle connection keeps on its stack. A parked virtual thread's frames are copied to the
 * heap, and thousands of idle connections wait in their read (issue #21, bench W4): between the
 * thread's start and the socket read there are the server's read loop and the WebSocket's receive
 * and nothing else — no lambda, no endpoint loop, and nothing of the messages handled before.
 */
class IdleConnectionStackTest {
    private static final List<String> UNDER_THE_READ = List.of(
            "wsexec.server.Server$OpenConnection.run",
            "wsexec.websocket.WebSocket.receive",
            "wsexec.websocket.WebSocket.fill");

    @Test
    void anIdleExecConnectionParksUnderTheReadLoopAlone(@TempDir Path dir) throws Exception {
        try (TestServer server = TestServer.exec();
             ExecClient client = ExecClient.open(server.port())) {
            String name = "wsexec-ws-" + client.raw.socket().getLocalPort();
            assertEquals(UNDER_THE_READ, idle(dir, name).frames(), "the frames of wsexec under a new connection's read");
            assertEquals("ok\n", client.run("1", "echo ok").out());
            Dump first = idle(dir, name);
            client.send("{\"type\":\"stdin\",\"id\":\"nobody\",\"data\":\"x\"}"); // a message answered with an error
            assertEquals("error", client.next().type());
            Dump second = idle(dir, name);
            assertEquals(UNDER_THE_READ, second.frames(), "the frames of wsexec under the read after messages");
            assertNotEquals(first.id(), second.id(), "after a message the connection reads on on a fresh thread");
        }
    }

    /** The connection's thread once it is parked in its read, alone with its name. */
    private static Dump idle(Path dir, String name) throws Exception {
        Dump dump = null;
        for (int tries = 0; tries < 100 && (dump == null || !dump.parkedInTheRead()); tries++) {
            Thread.sleep(20);
            dump = dump(dir.resolve("threads.txt"), name);
        }
        assertNotNull(dump);
        assertEquals(1, dump.threads(), "threads named " + name + ": the one that handled the last message should have ended");
        assertTrue(dump.parkedInTheRead(), "not parked in its read: " + dump.frames());
        return dump;
    }

    /** How many threads had the name, and the wsexec frames of the last one, from its start up. */
    private record Dump(int threads, String id, List<String> frames) {
        boolean parkedInTheRead() {
            return threads == 1 && !frames.isEmpty() && frames.get(frames.size() - 1).equals("wsexec.websocket.WebSocket.fill");
        }
    }

    private static Dump dump(Path file, String threadName) throws Exception {
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
        List<String> lines = Files.readAllLines(file);
        int count = 0;
        String id = null;
        List<String> frames = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("\"" + threadName + "\"")) {
                count++;
                id = lines.get(i).trim().split(" ")[0]; // "#128 "wsexec-ws-…" virtual WAITING …"
                frames = new ArrayList<>();
                for (int j = i + 1; j < lines.size() && lines.get(j).trim().startsWith("at "); j++) {
                    String frame = lines.get(j).trim().substring(3);
                    frame = frame.substring(0, frame.indexOf('(')).replaceFirst("^[\\w.]+/", "");
                    if (frame.startsWith("wsexec.")) {
                        frames.add(0, frame);
                    }
                }
            }
        }
        Files.delete(file);
        return new Dump(count, id, frames);
    }
}
