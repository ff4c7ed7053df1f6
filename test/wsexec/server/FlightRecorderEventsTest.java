package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JFR events of {@link Events}, recorded in-process around a real server running one job. */
@Timeout(30)
class FlightRecorderEventsTest {

    private static final List<String> NAMES = List.of("wsexec.ConnectionOpened", "wsexec.ConnectionClosed",
            "wsexec.HandshakeRefused", "wsexec.JobStarted", "wsexec.JobEnded");

    @Test
    void aJobAndARefusedHandshakeAreRecordedWithTheirFields() throws Exception {
        Path file = Files.createTempFile("wsexec-events", ".jfr");
        List<RecordedEvent> events;
        long pid;
        try (Recording recording = new Recording()) {
            NAMES.forEach(name -> recording.enable(name));
            recording.start();
            try (TestServer server = TestServer.exec()) {
                try (ExecClient client = ExecClient.open(server.port())) {
                    ExecClient.Finished finished = client.run("j1", "exit 3");
                    assertEquals(3, finished.code());
                    pid = ((Number) finished.events().getFirst().get("pid")).longValue();
                }
                assertEquals(400, refusedStatus(server.port()));
                long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (server.server.openConnections() > 0 && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
            }
            recording.stop();
            recording.dump(file);
            events = RecordingFile.readAllEvents(file);
        } finally {
            Files.deleteIfExists(file);
        }
        Map<String, List<RecordedEvent>> byName = events.stream()
                .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
        assertEquals(NAMES.stream().sorted().toList(), byName.keySet().stream().sorted().toList(), byName.keySet().toString());

        RecordedEvent started = byName.get("wsexec.JobStarted").getFirst();
        assertEquals("j1", started.getString("jobId"));
        assertEquals(pid, started.getLong("pid"));
        RecordedEvent ended = byName.get("wsexec.JobEnded").getFirst();
        assertEquals("j1", ended.getString("jobId"));
        assertEquals(3, ended.getInt("exitCode"));

        RecordedEvent opened = byName.get("wsexec.ConnectionOpened").getFirst();
        assertEquals("/", opened.getString("path"));
        assertTrue(opened.getString("remoteAddress").startsWith("127.0.0.1:"), opened.getString("remoteAddress"));
        RecordedEvent closed = byName.get("wsexec.ConnectionClosed").getFirst();
        assertEquals(opened.getString("remoteAddress"), closed.getString("remoteAddress"));
        assertTrue(closed.getInt("closeCodeReceived") >= 1000, "close code " + closed.getInt("closeCodeReceived"));

        assertEquals(400, byName.get("wsexec.HandshakeRefused").getFirst().getInt("status"));
    }

    /** An upgrade request without Sec-WebSocket-Key: the status of the answer. */
    private static int refusedStatus(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(head.substring(9, 12));
        }
    }
}
