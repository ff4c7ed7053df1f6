package wsexec.websocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;


/**
 * A WebSocket client for tests that sends exactly the bytes it is told to and
 * shows exactly the frames that come back: no library in between.
 */
public final class RawClient implements AutoCloseable {
    /** A frame as received from the server. */
    public record Frame(FrameHeader header, byte[] payload) {
        public Opcode opcode() {
            return header.opcode();
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a Close frame, 1005 if it has none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
        }
    }

    public static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private FrameDecoder decoder = new FrameDecoder(false);
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20).flip();
    private final Random random = new Random(6455);
    private String responseHead;

    private RawClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Connects without a handshake: send whatever request the test wants. */
    public static RawClient connect(int port) throws IOException {
        return new RawClient(port);
    }

    /** Connects and completes a valid handshake; fails if the answer is not 101. */
    public static RawClient open(int port) throws IOException {
        return open(port, "/");
    }

    public static RawClient open(int port, String target) throws IOException {
        RawClient client = new RawClient(port);
        client.send(upgradeRequest(target, "").getBytes(StandardCharsets.ISO_8859_1));
        String head = client.readResponseHead();
        if (!head.startsWith("HTTP/1.1 101")) {
            client.close();
            throw new IOException("handshake refused: " + head);
        }
        return client;
    }

    /** A valid upgrade request with optional extra header lines (each ending in CRLF). */
    public static String upgradeRequest(String target, String extraHeaders) {
        return "GET " + target + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + extraHeaders
                + "\r\n";
    }

    /** permessage-deflate was agreed (RFC 7692): frames with RSV1 are compressed messages, not errors. Call before reading frames. */
    public void acceptCompressedFrames() {
        decoder = new FrameDecoder(false, true);
    }

    public Socket socket() {
        return socket;
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends bytes one write per byte (TCP_NODELAY is on, so each tends to be its own segment). */
    public void sendSlowly(byte[] bytes) throws IOException {
        for (byte b : bytes) {
            out.write(b);
            out.flush();
        }
    }

    /** A masked frame with a random key, as a client must send it. */
    public byte[] frame(boolean fin, Opcode opcode, byte[] payload) {
        return FrameEncoder.maskedFrame(fin, opcode, payload, random.nextInt());
    }

    /** Any header bits the test likes, masked payload. */
    public byte[] rawFrame(int firstOctet, byte[] payload) {
        byte[] frame = FrameEncoder.maskedFrame(true, Opcode.BINARY, payload, random.nextInt());
        frame[0] = (byte) firstOctet;
        return frame;
    }

    public void sendFrame(boolean fin, Opcode opcode, byte[] payload) throws IOException {
        send(frame(fin, opcode, payload));
    }

    public void sendText(String text) throws IOException {
        sendFrame(true, Opcode.TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    public void sendClose(int code, String reason) throws IOException {
        sendFrame(true, Opcode.CLOSE, FrameEncoder.closeBody(code, reason));
    }

    /** Reads an HTTP response head (up to the blank line). */
    public String readResponseHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
        }
        responseHead = head.toString(StandardCharsets.ISO_8859_1);
        return responseHead;
    }

    /** Reads everything until the server closes (for HTTP error responses). */
    public String readAll() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    /** The next whole frame from the server, or null if the connection ended first. */
    public Frame readFrame() throws IOException {
        FrameHeader header = null;
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        while (true) {
            Object part;
            try {
                part = decoder.next(buffer);
            } catch (ProtocolException e) {
                throw new IOException("server sent a bad frame: " + e.getMessage(), e);
            }
            if (part == null) {
                buffer.compact();
                int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
                if (n > 0) {
                    buffer.position(buffer.position() + n);
                }
                buffer.flip();
                if (n < 0) {
                    return null;
                }
                continue;
            }
            if (part instanceof FrameHeader h) {
                header = h;
                if (h.payloadLength() == 0) {
                    return new Frame(h, new byte[0]);
                }
            } else {
                FrameDecoder.Payload p = (FrameDecoder.Payload) part;
                payload.write(p.array(), p.offset(), p.length());
                if (p.endOfFrame()) {
                    return new Frame(header, payload.toByteArray());
                }
            }
        }
    }

    /** Reads frames until a Close frame; returns it (null if the connection ended without one). */
    public Frame readUntilClose() throws IOException {
        while (true) {
            Frame f = readFrame();
            if (f == null || f.opcode() == Opcode.CLOSE) {
                return f;
            }
        }
    }

    /** Whether the server closed the TCP connection (EOF) within the socket timeout. */
    public boolean awaitEof() throws IOException {
        try {
            while (true) {
                if (buffer.hasRemaining()) {
                    buffer.position(buffer.limit());
                }
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
