package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.Message;

import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;
import wsexec.common.Json;

/** The pipe-to-frames path: JSON escaping eight bytes at a time, growing buffers, UTF-8 carried across reads. */
@Timeout(30)
class OutputPumpTest {

    private static boolean mustEscape(int b) {
        return b < 0x20 || b == '"' || b == '\\';
    }

    @Test
    void escapesMarksExactlyTheFirstByteThatNeedsAnEscapeAtEveryPosition() {
        for (int b = 0; b < 256; b++) {
            for (int position = 0; position < 8; position++) {
                long word = 0x6161_6161_6161_6161L; // "aaaaaaaa"
                word = (word & ~(0xFFL << (8 * position))) | ((long) b << (8 * position));
                long marks = OutputPump.escapes(word);
                assertEquals(mustEscape(b), marks != 0, "byte 0x" + Integer.toHexString(b) + " at " + position);
                if (marks != 0) {
                    assertEquals(position, Long.numberOfTrailingZeros(marks) >>> 3);
                }
            }
        }
    }

    @Test
    void escapesFindsTheLowestOfSeveralAndNoneInHighBytes() {
        Random random = new Random(42);
        for (int n = 0; n < 200_000; n++) {
            long word = random.nextLong();
            int first = -1;
            for (int i = 0; i < 8; i++) {
                if (mustEscape((int) (word >>> (8 * i)) & 0xFF)) {
                    first = i;
                    break;
                }
            }
            long marks = OutputPump.escapes(word);
            assertEquals(first, marks == 0 ? -1 : Long.numberOfTrailingZeros(marks) >>> 3, Long.toHexString(word));
        }
    }

    @Test
    void everyByteArrivesWhateverTheReadSizesAndContent() throws Exception {
        Random random = new Random(7);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        String[] pieces = {"plain text ", "\"quoted\" ", "back\\slash ", "tab\t", "cr\r\n", "\u0001\u001f", "é", "€", "😀",
                "line of base64 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"};
        while (expected.size() < 600_000) {
            if (random.nextInt(5000) == 0) {
                expected.write(0xFF); // not UTF-8: that read goes as base64
            }
            expected.writeBytes(pieces[random.nextInt(pieces.length)].getBytes(StandardCharsets.UTF_8));
        }
        byte[] output = expected.toByteArray();
        // Reads of any size, from one byte to more than a pipe holds, split characters anywhere.
        InputStream pipe = new ByteArrayInputStream(output) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(random.nextBoolean() ? 16 : 100_000)));
            }
        };
        assertArrayEquals(output, pumpAndDecode(pipe));
    }

    /** Runs a pump into a real socket and decodes what the client receives back into bytes. */
    private static byte[] pumpAndDecode(InputStream pipe) throws Exception {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        for (Message message : pump(pipe, "7", "stdout", false)) {
            assertTrue(message instanceof Message.Text, "only text frames: " + message);
            @SuppressWarnings("unchecked")
            Map<String, Object> event = (Map<String, Object>) Json.parse(((Message.Text) message).text());
            assertEquals("output", event.get("type"));
            assertEquals("7", event.get("id"));
            Object data = event.get("data");
            received.writeBytes(data != null ? ((String) data).getBytes(StandardCharsets.UTF_8)
                    : Base64.getDecoder().decode((String) event.get("base64")));
        }
        return received.toByteArray();
    }

    /** Runs a pump into a real socket until the pipe ends; returns every message the client receives. */
    private static java.util.List<Message> pump(InputStream pipe, String id, String stream, boolean binary) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket server = listener.accept()) {
            WebSocket webSocket = new WebSocket(server, server.getInputStream(), WebSocketLimits.DEFAULTS, null);
            Thread pump = Thread.ofPlatform().start(() -> {
                assertTrue(new OutputPump(pipe, webSocket, id, stream, binary).run());
                webSocket.abort();
            });
            java.util.List<Message> messages = new java.util.ArrayList<>();
            wsexec.websocket.WireFrames.ClientReceiver receiver = new wsexec.websocket.WireFrames.ClientReceiver();
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16).flip();
            InputStream in = client.getInputStream();
            while (true) {
                Message message = receiver.receive(buffer);
                if (message != null) {
                    messages.add(message);
                    continue;
                }
                buffer.compact();
                int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
                if (n < 0) {
                    break;
                }
                buffer.position(buffer.position() + n).flip();
            }
            pump.join();
            return messages;
        }
    }

    @Test
    void binaryFramesCarryTheStreamByteTheIdAndEachReadAsItWas() throws Exception {
        Random random = new Random(11);
        byte[] output = new byte[700_000];
        random.nextBytes(output); // mostly not UTF-8: in JSON this would all be base64
        java.util.List<Integer> reads = new java.util.ArrayList<>();
        InputStream pipe = new ByteArrayInputStream(output) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                int n = super.read(b, off, Math.min(len, 1 + random.nextInt(random.nextBoolean() ? 16 : 100_000)));
                if (n > 0) {
                    reads.add(n);
                }
                return n;
            }
        };
        String id = "job-é-€"; // 9 bytes of UTF-8
        java.util.List<byte[]> frames = pumpBinary(pipe, id, "stderr");
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
        for (byte[] frame : frames) {
            assertEquals(2, frame[0], "stream byte of stderr");
            assertEquals(idBytes.length, frame[1] & 0xFF);
            assertArrayEquals(idBytes, java.util.Arrays.copyOfRange(frame, 2, 2 + idBytes.length));
            assertTrue(frame.length > 2 + idBytes.length, "no empty output frames");
            received.write(frame, 2 + idBytes.length, frame.length - 2 - idBytes.length);
        }
        assertArrayEquals(output, received.toByteArray());
        assertEquals(reads.size(), frames.size(), "one frame per read, nothing held back or merged");
        assertTrue(reads.get(0) <= OutputPump.FIRST_READ_SIZE, "the first read is small: " + reads.get(0));
        assertTrue(reads.stream().allMatch(n -> n <= OutputPump.READ_SIZE), "no read over " + OutputPump.READ_SIZE);
    }

    @Test
    void binaryPrefixFollowsTheDocumentedLayout() {
        assertArrayEquals(new byte[] {1, 2, 'i', 'd'}, OutputPump.binaryPrefix("id", "stdout"));
        assertArrayEquals(new byte[] {2, 1, '7'}, OutputPump.binaryPrefix("7", "stderr"));
        assertEquals(2 + 255, OutputPump.binaryPrefix("€".repeat(85), "stdout").length);
        assertThrows(IllegalArgumentException.class, () -> OutputPump.binaryPrefix("€".repeat(86), "stdout"));
    }

    @Test
    void aLostConnectionStillDrainsThePipeToTheEndWhateverTheBufferSize() throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort()).close(); // gone before the first send
                Socket server = listener.accept();
                WebSocket webSocket = new WebSocket(server, server.getInputStream(), WebSocketLimits.DEFAULTS, null);
                webSocket.abort();
                // A slow writer: small reads, so the buffer never grows past its first size.
                ByteArrayInputStream pipe = new ByteArrayInputStream(new byte[200_000]) {
                    @Override
                    public synchronized int read(byte[] b, int off, int len) {
                        java.util.Objects.checkFromIndexSize(off, len, b.length); // as a Process pipe checks
                        return super.read(b, off, Math.min(len, 100));
                    }
                };
                assertEquals(false, new OutputPump(pipe, webSocket, "1", "stdout", binary).run());
                assertEquals(0, pipe.available(), "binary=" + binary + ": the rest of the output was read and dropped");
            }
        }
    }

    /** Runs a binary pump into a real socket; returns the payload of each frame the client receives. */
    private static java.util.List<byte[]> pumpBinary(InputStream pipe, String id, String stream) throws Exception {
        java.util.List<byte[]> frames = new java.util.ArrayList<>();
        for (Message message : pump(pipe, id, stream, true)) {
            assertTrue(message instanceof Message.Binary, "only binary frames: " + message);
            frames.add(((Message.Binary) message).data());
        }
        return frames;
    }
}
