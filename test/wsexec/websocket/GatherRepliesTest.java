package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link WebSocket#gatherReplies}: answers to messages that arrived together leave in fewer
 * writes, in the order they were sent, control frames included, and an answer never waits for
 * more input. An echo loop on a real loopback socket whose writes are counted.
 */
@Timeout(30)
class GatherRepliesTest {
    private static final WebSocketLimits LIMITS = new WebSocketLimits(1024, 16, Duration.ofSeconds(2));
    private static final int KEY = 0x5a5a1234;

    /** Counts the writes to the socket's output: each is one {@code write} system call. */
    private static final class CountedSocket extends Socket {
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public OutputStream getOutputStream() throws IOException {
            return new FilterOutputStream(super.getOutputStream()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    writes.incrementAndGet();
                    out.write(b, off, len);
                }
            };
        }
    }

    private static final class CountingServerSocket extends ServerSocket {
        CountingServerSocket() throws IOException {
            super(0, 1, InetAddress.getLoopbackAddress());
        }

        @Override
        public CountedSocket accept() throws IOException {
            CountedSocket socket = new CountedSocket();
            implAccept(socket);
            return socket;
        }
    }

    /** Echoes every message with gathering on; completes with the number of writes made. */
    private static CompletableFuture<Integer> echo(CountingServerSocket listener) {
        return CompletableFuture.supplyAsync(() -> {
            try (CountedSocket socket = listener.accept()) {
                WebSocket webSocket = new WebSocket(socket, socket.getInputStream(), LIMITS, null);
                webSocket.gatherReplies();
                Message message;
                while ((message = webSocket.receive()) != null) {
                    if (message instanceof Message.Text text) {
                        webSocket.sendText(text.text());
                    }
                }
                return socket.writes.get();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static byte[] text(String s) {
        return FrameEncoder.maskedFrame(true, Opcode.TEXT, s.getBytes(StandardCharsets.UTF_8), KEY);
    }

    /** Reads server frames (never masked) until the connection ends: "TEXT a", "PONG p", "CLOSE 1000". */
    private static List<String> framesUntilEnd(InputStream in) throws IOException {
        byte[] bytes = in.readAllBytes();
        List<String> frames = new ArrayList<>();
        int i = 0;
        while (i < bytes.length) {
            Opcode opcode = Opcode.of(bytes[i] & FrameHeader.OPCODE);
            int length = bytes[i + 1] & 0x7F; // all short here
            byte[] payload = java.util.Arrays.copyOfRange(bytes, i + 2, i + 2 + length);
            frames.add(opcode == Opcode.CLOSE
                    ? "CLOSE " + ((payload[0] & 0xFF) << 8 | (payload[1] & 0xFF))
                    : opcode + " " + new String(payload, StandardCharsets.UTF_8));
            i += 2 + length;
        }
        return frames;
    }

    @Test
    void aBurstIsAnsweredInOrderInFewerWritesThanFrames() throws Exception {
        try (CountingServerSocket listener = new CountingServerSocket()) {
            CompletableFuture<Integer> writes = echo(listener);
            try (Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort())) {
                ByteArrayOutputStream burst = new ByteArrayOutputStream();
                burst.writeBytes(text("a"));
                burst.writeBytes(text("b"));
                burst.writeBytes(text("c"));
                burst.writeBytes(FrameEncoder.maskedFrame(true, Opcode.PING, "p".getBytes(StandardCharsets.US_ASCII), KEY));
                burst.writeBytes(text("d"));
                burst.writeBytes(FrameEncoder.maskedFrame(true, Opcode.CLOSE, FrameEncoder.closeBody(1000, ""), KEY));
                client.getOutputStream().write(burst.toByteArray()); // one write: it arrives together
                // the pong goes after the answers sent before it; the Close after "d"
                assertEquals(List.of("TEXT a", "TEXT b", "TEXT c", "PONG p", "TEXT d", "CLOSE 1000"),
                        framesUntilEnd(client.getInputStream()));
            }
            int made = writes.get(10, TimeUnit.SECONDS);
            // a, b, c together; the pong; d; the Close: 4 (6 frames, 6 writes without gathering)
            assertTrue(made <= 4, "writes: " + made);
        }
    }

    @Test
    void aLoneMessageIsAnsweredWithoutWaitingForMoreInput() throws Exception {
        try (CountingServerSocket listener = new CountingServerSocket()) {
            CompletableFuture<Integer> writes = echo(listener);
            try (Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort())) {
                client.setSoTimeout(10_000);
                for (String word : List.of("one", "two")) {
                    client.getOutputStream().write(text(word));
                    byte[] answer = client.getInputStream().readNBytes(2 + word.length());
                    assertEquals("TEXT " + word, Opcode.of(answer[0] & FrameHeader.OPCODE) + " "
                            + new String(answer, 2, word.length(), StandardCharsets.UTF_8));
                }
                client.getOutputStream().write(FrameEncoder.maskedFrame(true, Opcode.CLOSE, FrameEncoder.closeBody(1000, ""), KEY));
                assertEquals(List.of("CLOSE 1000"), framesUntilEnd(client.getInputStream()));
            }
            assertEquals(3, writes.get(10, TimeUnit.SECONDS), "one write per answer and one for the Close");
        }
    }
}
