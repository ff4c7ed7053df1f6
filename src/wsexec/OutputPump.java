package wsexec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import wsexec.websocket.Opcode;
import wsexec.websocket.Utf8Validator;
import wsexec.websocket.WebSocket;

/**
 * Moves one output stream of a process to the client: each read from the pipe
 * becomes one {@code output} event in one frame, sent at once.
 *
 * <p>It reads up to {@link #READ_SIZE} bytes (the size of a Linux pipe), so a
 * fast writer is carried in large frames and a slow one in small frames, with
 * no timer holding anything back. A read that ends inside a multi-byte UTF-8
 * character keeps those last bytes (at most three) for the next read, so no
 * message splits a character. Bytes that are not UTF-8 travel as base64.
 * The JSON is written straight into the frame buffer behind room for the
 * frame header, so each event goes out in one write with no copies.
 *
 * <p>The pump runs on a platform thread: a blocking pipe read would pin a
 * virtual thread's carrier. When the socket is slow, the send blocks, the pump
 * stops reading, the pipe fills and the process waits: backpressure end to end.
 */
final class OutputPump {
    static final int READ_SIZE = 64 * 1024;

    private final InputStream pipe;
    private final WebSocket webSocket;
    private final byte[] dataPrefix;
    private final byte[] base64Prefix;
    private final byte[] input = new byte[READ_SIZE + 3];
    private byte[] frame = new byte[0];

    OutputPump(InputStream pipe, WebSocket webSocket, String jobId, String stream) {
        this.pipe = pipe;
        this.webSocket = webSocket;
        String head = Json.object().field("type", "output").field("id", jobId).field("stream", stream).toString();
        String open = head.substring(0, head.length() - 1); // without the closing brace
        this.dataPrefix = (open + ",\"data\":\"").getBytes(StandardCharsets.UTF_8);
        this.base64Prefix = (open + ",\"base64\":\"").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Copies the pipe to the client until end of stream.
     *
     * @return true if all output was delivered, false if the connection failed first
     */
    boolean run() {
        int carried = 0;
        try {
            while (true) {
                int n = pipe.read(input, carried, READ_SIZE);
                if (n < 0) {
                    break;
                }
                int length = carried + n;
                int complete = Utf8Validator.completePrefixLength(input, 0, length);
                if (complete > 0) {
                    send(input, complete);
                }
                carried = length - complete;
                System.arraycopy(input, complete, input, 0, carried);
            }
            if (carried > 0) {
                send(input, carried); // an unfinished character at the very end: sent as it is (base64)
            }
            return true;
        } catch (ConnectionLost e) {
            // Nobody will read the rest, but the process must not block on a full pipe while it
            // handles the TERM the session sends it: read on and discard until it is done.
            drain();
            return false;
        } catch (IOException e) {
            return false; // the pipe broke
        }
    }

    /** A send failed: the connection is gone. */
    private static final class ConnectionLost extends IOException {
        private static final long serialVersionUID = 1L;

        ConnectionLost(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private void drain() {
        try {
            while (pipe.read(input, 0, READ_SIZE) >= 0) {
                // discard
            }
        } catch (IOException ignored) {
            // the pipe is closed: nothing left to drain
        }
    }

    private void send(byte[] bytes, int length) throws IOException {
        int payloadLength = Utf8Validator.isValid(bytes, 0, length) ? encodeText(bytes, length) : encodeBase64(bytes, length);
        try {
            webSocket.sendFrame(Opcode.TEXT, frame, WebSocket.HEADROOM, payloadLength);
        } catch (IOException e) {
            throw new ConnectionLost(e);
        }
    }

    /** Writes {@code ...,"data":"<escaped>"}} behind the headroom; returns the payload length. */
    private int encodeText(byte[] bytes, int length) {
        // Worst case every byte becomes a six-byte \\u00XX escape.
        byte[] out = room(dataPrefix.length + 6 * length + 2);
        int o = WebSocket.HEADROOM;
        System.arraycopy(dataPrefix, 0, out, o, dataPrefix.length);
        o += dataPrefix.length;
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            // bytes >= 0x80 belong to multi-byte characters and pass through; so does most ASCII
            if ((b >= 0x20 && b != '"' && b != '\\') || b < 0) {
                out[o++] = b;
                continue;
            }
            out[o++] = '\\';
            switch (b) {
                case '"' -> out[o++] = '"';
                case '\\' -> out[o++] = '\\';
                case '\n' -> out[o++] = 'n';
                case '\r' -> out[o++] = 'r';
                case '\t' -> out[o++] = 't';
                case '\b' -> out[o++] = 'b';
                case '\f' -> out[o++] = 'f';
                default -> {
                    out[o++] = 'u';
                    out[o++] = '0';
                    out[o++] = '0';
                    out[o++] = HEX[(b >> 4) & 0xF];
                    out[o++] = HEX[b & 0xF];
                }
            }
        }
        out[o++] = '"';
        out[o++] = '}';
        return o - WebSocket.HEADROOM;
    }

    private int encodeBase64(byte[] bytes, int length) {
        int encodedLength = 4 * ((length + 2) / 3);
        byte[] out = room(base64Prefix.length + encodedLength + 2);
        int o = WebSocket.HEADROOM;
        System.arraycopy(base64Prefix, 0, out, o, base64Prefix.length);
        o += base64Prefix.length;
        byte[] encoded = Base64.getEncoder().encode(java.nio.ByteBuffer.wrap(bytes, 0, length)).array();
        System.arraycopy(encoded, 0, out, o, encodedLength);
        o += encodedLength;
        out[o++] = '"';
        out[o++] = '}';
        return o - WebSocket.HEADROOM;
    }

    private byte[] room(int payloadLength) {
        int needed = WebSocket.HEADROOM + payloadLength;
        if (frame.length < needed) {
            frame = new byte[Math.max(needed, Math.min(2 * frame.length, WebSocket.HEADROOM + 6 * READ_SIZE + 512))];
        }
        return frame;
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
}
