package wsexec.websocket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The echo path (bench/README.md): starts {@code wsexec echo --port 0}, opens one connection and
 * measures small text messages (16 bytes) echoed back, (1) pipelined: one thread writes frames
 * one write each while another reads the echoes, and (2) one at a time (ping-pong). Prints
 * messages per second; every echo is checked. Usage: EchoBench JAVA JAR
 */
public final class EchoBench {
    public static void main(String[] args) throws Exception {
        Process server = new ProcessBuilder(args[0], "-jar", args[1], "echo", "--port", "0", "--quiet")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            Matcher m = Pattern.compile("ws://127\\.0\\.0\\.1:(\\d+)/").matcher("");
            String line;
            int port = -1;
            while ((line = out.readLine()) != null) {
                if (m.reset(line).find()) {
                    port = Integer.parseInt(m.group(1));
                    break;
                }
            }
            if (port < 0) {
                throw new IllegalStateException("echo server did not start");
            }
            try (Connection c = new Connection(port)) {
                c.pipelined(20_000); // warm-up
                c.pingPong(5_000);
                long n = 200_000;
                double pipelined = c.pipelined(n);
                double pingPong = c.pingPong(50_000);
                System.out.printf("pipelined: %,.0f messages/s round trip (%,d messages of 16 bytes, one write each)%n", pipelined, n);
                System.out.printf("one at a time: %,.0f messages/s round trip (median of 50,000)%n", pingPong);
            }
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    private static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).flip();
        private final FrameDecoder decoder = new FrameDecoder(false);

        Connection(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            int state = 0;
            while (state < 4) { // up to the blank line after the 101 response head
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed during handshake");
                }
                state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            }
        }

        static byte[] message(long i) {
            return String.format("message %08d", i).getBytes(StandardCharsets.US_ASCII);
        }

        static byte[] frame(long i) {
            return FrameEncoder.maskedFrame(true, Opcode.TEXT, message(i), ThreadLocalRandom.current().nextInt());
        }

        /** Reads one whole echoed message and checks it. */
        void expect(long i) throws IOException {
            byte[] want = message(i);
            byte[] got = new byte[want.length];
            int have = 0;
            boolean end = false;
            while (!end) {
                Object part;
                while ((part = next()) != null) {
                    if (part instanceof FrameHeader h && h.payloadLength() != want.length) {
                        throw new IOException("echo " + i + " has " + h.payloadLength() + " bytes");
                    }
                    if (part instanceof FrameDecoder.Payload p) {
                        System.arraycopy(p.array(), p.offset(), got, have, p.length());
                        have += p.length();
                        if (p.endOfFrame()) {
                            end = true;
                            break;
                        }
                    }
                }
                if (!end) {
                    buffer.compact();
                    int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
                    if (n < 0) {
                        throw new IOException("connection closed");
                    }
                    buffer.position(buffer.position() + n).flip();
                }
            }
            if (!Arrays.equals(want, got)) {
                throw new IOException("echo " + i + " differs");
            }
        }

        private Object next() throws IOException {
            try {
                return decoder.next(buffer);
            } catch (ProtocolException e) {
                throw new IOException(e);
            }
        }

        double pipelined(long n) throws Exception {
            byte[][] frames = new byte[(int) n][];
            for (int i = 0; i < n; i++) {
                frames[i] = frame(i);
            }
            Exception[] failed = new Exception[1];
            long start = System.nanoTime();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (byte[] f : frames) {
                        out.write(f);
                    }
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
            for (long i = 0; i < n; i++) {
                expect(i);
            }
            writer.join();
            if (failed[0] != null) {
                throw failed[0];
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }

        double pingPong(int n) throws IOException {
            long[] rtt = new long[n];
            for (int i = 0; i < n; i++) {
                byte[] f = frame(i);
                long t = System.nanoTime();
                out.write(f);
                expect(i);
                rtt[i] = System.nanoTime() - t;
            }
            Arrays.sort(rtt);
            return 1e9 / rtt[n / 2];
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
