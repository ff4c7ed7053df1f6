package wsexec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * W4's floor (issue #21): the least a JVM server with one virtual thread per WebSocket connection
 * can hold for an idle connection. It does what W4's client asks of every server and nothing more —
 * the opening handshake, one message in (the command), "ok\n" in a binary frame and {@code {"exit":0}}
 * in a text frame out (the bench's "raw" protocol) — then waits in a blocking read of a 256-byte
 * buffer, as wsexec's sessions do. No limits, no log, no keepalive, no jobs: the JVM, a socket and a
 * parked virtual thread. Run with the same JVM options as the wsexec server, so the difference
 * between the two W4 rows is what wsexec itself keeps per connection.
 *
 * <p>Usage: {@code IdleFloor PORT}. Not a test: it asserts nothing.
 */
public final class IdleFloor {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3

    private IdleFloor() {
    }

    public static void main(String[] args) throws IOException {
        try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 4096, InetAddress.getLoopbackAddress())) {
            System.err.println("PORT " + server.getLocalPort());
            while (true) {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> serve(socket));
            }
        }
    }

    private static void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true); // as wsexec: the answer's small writes are not held back (W4's new-client probe)
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            String key = null;
            StringBuilder line = new StringBuilder();
            while (true) { // the request head, line by line, up to the blank line
                int b = in.read();
                if (b < 0) {
                    return;
                }
                if (b == '\n') {
                    String l = line.toString().strip();
                    line.setLength(0);
                    if (l.isEmpty()) {
                        break;
                    }
                    if (l.toLowerCase().startsWith("sec-websocket-key:")) {
                        key = l.substring(l.indexOf(':') + 1).strip();
                    }
                } else {
                    line.append((char) b);
                }
            }
            String accept = Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                    + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            skipFrame(in); // the command: not run, the answer is the same for all
            out.write(new byte[] {(byte) 0x82, 3, 'o', 'k', '\n'});
            byte[] exit = "{\"exit\":0}".getBytes(StandardCharsets.US_ASCII);
            out.write(new byte[] {(byte) 0x81, (byte) exit.length});
            out.write(exit);
            byte[] idle = new byte[256];
            while (in.read(idle) >= 0) {
                // idle until the client closes; what it sends then is not looked at
            }
        } catch (Exception e) {
            // the client went away
        }
    }

    /** Reads one masked client frame of up to 65535 bytes and drops it. */
    private static void skipFrame(InputStream in) throws IOException {
        in.read();
        int length = in.read() & 0x7F;
        if (length == 126) {
            length = (in.read() << 8) | in.read();
        }
        in.readNBytes(4 + length);
    }
}
