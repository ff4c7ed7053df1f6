package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;
import wsexec.common.Json;

/**
 * A client that reads slowly makes the job wait, not the server buffer: the
 * heap stays flat while a job prints far more than it could hold, no byte is
 * lost when the client catches up, and other clients are served meanwhile.
 */
class BackpressureTest {
    /** 8 MiB of numbered lines, printed 128 times: 1 GiB in all. */
    static final int COPIES = 128;

    @Test
    @Timeout(180)
    void aSlowReaderHoldsTheJobBackAndLosesNothing(@TempDir Path dir) throws Exception {
        byte[] chunk = numberedLines(8 << 20);
        Path file = dir.resolve("lines.txt");
        Files.write(file, chunk);
        StringBuilder command = new StringBuilder("cat");
        for (int i = 0; i < COPIES; i++) {
            command.append(' ').append(file);
        }
        long total = (long) chunk.length * COPIES;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

        try (TestServer server = TestServer.exec(); RawClient client = RawClient.open(server.port())) {
            long idle = heapAfterGc(memory);
            client.sendText("{\"type\":\"exec\",\"id\":\"big\",\"command\":\"" + command + "\"}");
            Verifier verifier = new Verifier(chunk);

            // Read about 1 MB a second for three seconds while the job could print gigabytes.
            long slowUntil = System.nanoTime() + 3_000_000_000L;
            long slowBytes = 0;
            long slowStart = System.nanoTime();
            while (System.nanoTime() < slowUntil) {
                RawClient.Frame frame = client.readFrame();
                slowBytes += verifier.accept(frame);
                long due = slowStart + slowBytes * 1000; // 1 µs per byte: 1 MB/s
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            long heldBack = heapAfterGc(memory) - idle;
            System.out.println("backpressure: read " + slowBytes + " bytes in the slow phase; heap above idle: " + (heldBack >> 20) + " MiB");
            assertTrue(heldBack < 64L << 20, "the server buffered " + (heldBack >> 20) + " MiB for a slow reader");
            assertTrue(verifier.position < 16L << 20, "the slow phase read only a little (" + verifier.position + " bytes)");

            // Meanwhile other clients are served at once.
            long t0 = System.nanoTime();
            try (ExecClient other = ExecClient.open(server.port())) {
                assertEquals("ok\n", other.run("ok", "echo ok").out());
            }
            long otherMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(otherMs < 2000, "another client waited " + otherMs + " ms");

            // Catch up at full speed; every byte must be there, in order.
            t0 = System.nanoTime();
            Map<String, Object> exit = null;
            while (exit == null) {
                RawClient.Frame frame = client.readFrame();
                if (frame == null) {
                    throw new AssertionError("connection ended at byte " + verifier.position);
                }
                if (verifier.accept(frame) < 0) {
                    exit = verifier.exit;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("backpressure: caught up " + ((total - slowBytes) >> 20) + " MiB in " + ms + " ms");
            assertEquals(0L, exit.get("code"), String.valueOf(exit));
            assertEquals(total, verifier.position, "bytes received");
        }
    }

    /** Lines "000000000 …\n" numbered from 0, {@code size} bytes in all. */
    static byte[] numberedLines(int size) {
        byte[] out = new byte[size];
        String pad = " the quick brown fox jumps over the lazy dog \"quoted\" \\ back\tslash\n";
        int o = 0;
        for (int line = 0; o < size; line++) {
            byte[] text = (String.format("%09d", line) + pad).getBytes(StandardCharsets.UTF_8);
            int n = Math.min(text.length, size - o);
            System.arraycopy(text, 0, out, o, n);
            o += n;
        }
        return out;
    }

    static long heapAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /**
     * Checks each output event against the expected stream as it arrives (no copy
     * of a gigabyte is kept): decodes the JSON string by hand, byte by byte.
     */
    static final class Verifier {
        final byte[] chunk;
        long position;
        Map<String, Object> exit;
        private static final byte[] DATA = "\"data\":\"".getBytes(StandardCharsets.US_ASCII);

        Verifier(byte[] chunk) {
            this.chunk = chunk;
        }

        /** Returns the number of output bytes checked, or -1 on the exit event. */
        long accept(RawClient.Frame frame) throws Exception {
            assertEquals(Opcode.TEXT, frame.opcode());
            byte[] p = frame.payload();
            int start = indexOf(p, DATA);
            if (start < 0) {
                @SuppressWarnings("unchecked")
                Map<String, Object> event = (Map<String, Object>) Json.parse(frame.text());
                switch (String.valueOf(event.get("type"))) {
                    case "started" -> {
                        return 0;
                    }
                    case "exit" -> {
                        exit = event;
                        return -1;
                    }
                    default -> throw new AssertionError("unexpected event " + frame.text());
                }
            }
            long before = position;
            int i = start + DATA.length;
            while (true) {
                byte b = p[i++];
                if (b == '"') {
                    break;
                }
                if (b == '\\') {
                    byte e = p[i++];
                    b = switch (e) {
                        case 'n' -> '\n';
                        case 't' -> '\t';
                        case 'r' -> '\r';
                        case '"' -> '"';
                        case '\\' -> '\\';
                        case '/' -> '/';
                        case 'u' -> {
                            int c = Integer.parseInt(new String(p, i, 4, StandardCharsets.US_ASCII), 16);
                            i += 4;
                            yield (byte) c;
                        }
                        default -> throw new AssertionError("escape \\" + (char) e);
                    };
                }
                byte want = chunk[(int) (position % chunk.length)];
                if (b != want) {
                    throw new AssertionError("byte " + position + " is " + b + ", expected " + want);
                }
                position++;
            }
            return position - before;
        }

        private static int indexOf(byte[] haystack, byte[] needle) {
            int limit = Math.min(haystack.length - needle.length, 80);
            outer:
            for (int i = 0; i <= limit; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (haystack[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
