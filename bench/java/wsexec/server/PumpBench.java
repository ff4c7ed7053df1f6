package wsexec.server;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/**
 * The server's hot path without the process and without the client: OutputPump turning a
 * recorded output into frames on a real loopback socket, whose other end a thread drains.
 * Prints the best time per MB over several rounds and the bytes allocated per MB, for
 * {@code seq 1 1000000} (a newline every 7 bytes), for base64 text (a newline every 77) and
 * for random bytes (base64 in JSON), each as JSON output events and as binary output frames.
 * In package wsexec.server because OutputPump is package-private. Not a test: it asserts nothing.
 */
public final class PumpBench {
    public static void main(String[] args) throws Exception {
        StringBuilder seq = new StringBuilder();
        for (int i = 1; i <= 1_000_000; i++) {
            seq.append(i).append('\n');
        }
        byte[] random = new byte[5_000_000];
        new java.util.Random(1).nextBytes(random);
        String b64 = java.util.Base64.getMimeEncoder(76, new byte[] {'\n'}).encodeToString(random) + "\n";
        for (boolean binary : new boolean[] {false, true}) {
            run("seq 1 1000000", seq.toString().getBytes(StandardCharsets.US_ASCII), binary);
            run("base64 of 5 MB", b64.getBytes(StandardCharsets.US_ASCII), binary);
            run("5 MB of random bytes", random, binary);
        }
    }

    private static void run(String name, byte[] output, boolean binary) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket server = listener.accept()) {
            server.setTcpNoDelay(true);
            Thread drain = Thread.ofPlatform().daemon(true).start(() -> {
                byte[] sink = new byte[1 << 16];
                try (InputStream in = client.getInputStream()) {
                    while (in.read(sink) >= 0) {
                        // discard
                    }
                } catch (java.io.IOException ignored) {
                    // closed
                }
            });
            WebSocket webSocket = new WebSocket(server, server.getInputStream(), WebSocketLimits.DEFAULTS, null);
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            double best = Double.MAX_VALUE;
            double allocated = 0;
            for (int round = 0; round < 15; round++) {
                // A pipe hands over at most 64 KiB per read; so does this stream, like a fast writer.
                InputStream pipe = new ByteArrayInputStream(output) {
                    @Override
                    public synchronized int read(byte[] b, int off, int len) {
                        return super.read(b, off, Math.min(len, 65536));
                    }
                };
                long bytes0 = threads.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                if (!new OutputPump(pipe, webSocket, "1", "stdout", binary).run()) {
                    throw new IllegalStateException("pump failed");
                }
                long t1 = System.nanoTime();
                allocated = (threads.getCurrentThreadAllocatedBytes() - bytes0) / (output.length / 1e6);
                best = Math.min(best, (t1 - t0) / 1e6 / (output.length / 1e6));
            }
            System.out.printf("OutputPump, %s output, %s: best %.3f ms per MB (%.0f MB/s), %.0f bytes allocated per MB%n",
                    binary ? "binary" : "JSON", name, best, 1000 / best, allocated);
            webSocket.abort();
            drain.join(1000);
        }
    }
}
