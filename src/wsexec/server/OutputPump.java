package wsexec.server;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import wsexec.job.OutputLog;

import wsexec.websocket.Opcode;
import wsexec.websocket.Utf8Validator;
import wsexec.websocket.WebSocket;
import wsexec.common.Json;

/**
 * Moves one output stream of a process to the client: each read from the pipe
 * becomes one {@code output} event in one frame, sent at once.
 *
 * <p>It reads up to {@link #READ_SIZE} bytes (the size of a Linux pipe), so a
 * fast writer is carried in large frames and a slow one in small frames, with
 * no timer holding anything back. The read buffer starts at {@link #FIRST_READ_SIZE}
 * and grows fourfold after each read that fills it, so a job that prints a line
 * costs a kilobyte, not 64 KiB, and a fast writer reaches full-size reads at once. A read that ends inside a multi-byte UTF-8
 * character keeps those last bytes (at most three) for the next read, so no
 * message splits a character. Bytes that are not UTF-8 travel as base64.
 * The JSON is written straight into the frame buffer behind room for the
 * frame header, so each event goes out in one write with no copies.
 *
 * <p>A job that asked for {@code "binary":true} gets its output as binary frames
 * instead (docs/PROTOCOL.md, "Binary output"): the pipe is read straight into the
 * frame buffer behind the header, the stream byte and the job id, so each read
 * goes out as it was read, with no copy, no escaping and no bytes held back.
 *
 * <p>The pump runs on a platform thread: a blocking pipe read would pin a
 * virtual thread's carrier. When the socket is slow, the send blocks, the pump
 * stops reading, the pipe fills and the process waits: backpressure end to end.
 */
final class OutputPump {
    static final int READ_SIZE = 64 * 1024;
    static final int FIRST_READ_SIZE = 1024;
    /** Bytes of an unfinished UTF-8 character carried to the next read, at most. */
    private static final int CARRY = 3;
    /** The stream byte of a binary output frame (docs/PROTOCOL.md). */
    static final byte STDOUT = 1;
    static final byte STDERR = 2;
    /** Longest job id, in UTF-8 bytes, that a binary output frame can carry (its length is one byte). */
    static final int MAX_BINARY_ID_BYTES = 255;

    private final InputStream pipe;
    private final WebSocket webSocket;
    /** {@code {"type":"output","id":…,"stream":…,"offset":} — the offset's digits follow. */
    private final byte[] head;
    private static final byte[] DATA_PREFIX = ",\"data\":\"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] BASE64_PREFIX = ",\"base64\":\"".getBytes(StandardCharsets.UTF_8);
    /** The stream offset of the next byte to send (docs/PROTOCOL.md: every output event carries it). */
    private long offset;
    /** Where gaps come from when the pipe is a job's output log; null for a process pipe. */
    private final OutputLog.Cursor cursor;
    private final String jobId;
    private final String stream;
    private final java.util.function.BooleanSupplier stopped;
    /** Stream byte, id length and id of a binary output frame; null for JSON output. */
    private final byte[] binaryPrefix;
    private byte[] input = new byte[FIRST_READ_SIZE + CARRY];
    /** Room for the head and the longest offset. */
    private final int headRoom;
    private byte[] frame = new byte[0];

    /** A pump that sends {@code output} events as JSON text frames. */
    OutputPump(InputStream pipe, WebSocket webSocket, String jobId, String stream) {
        this(pipe, webSocket, jobId, stream, false);
    }

    /**
     * @param binary send binary output frames; the id must then be at most
     *               {@link #MAX_BINARY_ID_BYTES} bytes of UTF-8 (the session checks)
     */
    OutputPump(InputStream pipe, WebSocket webSocket, String jobId, String stream, boolean binary) {
        this(pipe, webSocket, jobId, stream, binary, 0);
    }

    /**
     * A pump that reads a job's output log from {@code firstOffset} (the pipe is then an
     * {@link OutputLog.Cursor}, whose gaps become {@code gap} events before the bytes after them).
     */
    OutputPump(InputStream pipe, WebSocket webSocket, String jobId, String stream, boolean binary, long firstOffset) {
        this(pipe, webSocket, jobId, stream, binary, firstOffset, null);
    }

    /**
     * @param stopped asked before each send; once true the pump sends nothing more and reads the
     *                rest of its input as if the connection were gone (a kept job's controller that
     *                detached: its output goes on into the log). Null for never.
     */
    OutputPump(InputStream pipe, WebSocket webSocket, String jobId, String stream, boolean binary, long firstOffset,
               java.util.function.BooleanSupplier stopped) {
        this.stopped = stopped;
        this.pipe = pipe;
        this.webSocket = webSocket;
        this.jobId = jobId;
        this.stream = stream;
        this.offset = firstOffset;
        this.cursor = pipe instanceof OutputLog.Cursor c ? c : null;
        this.binaryPrefix = binary ? binaryPrefix(jobId, stream) : null;
        String object = Json.object().field("type", "output").field("id", jobId).field("stream", stream).toString();
        String open = object.substring(0, object.length() - 1); // without the closing brace
        this.head = (open + ",\"offset\":").getBytes(StandardCharsets.UTF_8);
        this.headRoom = head.length + 20;
    }

    /** Sends a {@code gap} event if the log dropped bytes before the ones just read. */
    private void reportGap() throws ConnectionLost {
        OutputLog.Gap gap = cursor == null ? null : cursor.takeGap();
        if (gap != null) {
            sendGap(gap);
        }
    }

    private void sendGap(OutputLog.Gap gap) throws ConnectionLost {
        offset = gap.to();
        try {
            webSocket.sendText(Json.object().field("type", "gap").field("id", jobId).field("stream", stream)
                    .field("from", gap.from()).field("to", gap.to()).toString());
        } catch (IOException e) {
            throw new ConnectionLost(e);
        }
    }

    /**
     * Copies the pipe to the client until end of stream.
     *
     * @return true if all output was delivered, false if the connection failed first
     */
    boolean run() {
        return binaryPrefix != null ? runBinary() : runText();
    }

    /** The layout of docs/PROTOCOL.md, "Binary output": stream byte, id length, id. */
    static byte[] binaryPrefix(String jobId, String stream) {
        byte[] id = jobId.getBytes(StandardCharsets.UTF_8);
        if (id.length == 0 || id.length > MAX_BINARY_ID_BYTES) {
            throw new IllegalArgumentException("a binary output frame carries an id of 1 to 255 bytes, not " + id.length);
        }
        byte[] prefix = new byte[2 + id.length];
        prefix[0] = "stderr".equals(stream) ? STDERR : STDOUT;
        prefix[1] = (byte) id.length;
        System.arraycopy(id, 0, prefix, 2, id.length);
        return prefix;
    }

    /**
     * Each read lands in the frame buffer right behind the prefix and goes out as
     * one binary frame: header, prefix and bytes in one write, nothing copied.
     */
    private boolean runBinary() {
        int start = WebSocket.HEADROOM + binaryPrefix.length;
        frame = new byte[start + FIRST_READ_SIZE];
        System.arraycopy(binaryPrefix, 0, frame, WebSocket.HEADROOM, binaryPrefix.length);
        try {
            while (true) {
                int room = frame.length - start;
                int n = pipe.read(frame, start, room);
                if (n < 0) {
                    return true;
                }
                if (n == 0) {
                    continue; // a pipe never returns 0 for a non-empty read; an empty frame would say nothing
                }
                reportGap();
                offset += n;
                stopIfAsked();
                try {
                    webSocket.sendFrame(Opcode.BINARY, frame, WebSocket.HEADROOM, binaryPrefix.length + n);
                } catch (IOException e) {
                    throw new ConnectionLost(e);
                }
                if (n == room && room < READ_SIZE) {
                    // the writer is ahead of us: read more at a time (the prefix stays in place)
                    frame = java.util.Arrays.copyOf(frame, start + Math.min(READ_SIZE, 4 * room));
                }
            }
        } catch (ConnectionLost e) {
            drain();
            return false;
        } catch (IOException e) {
            return false; // the pipe broke
        }
    }

    private boolean runText() {
        int carried = 0;
        try {
            while (true) {
                int room = input.length - CARRY;
                int n = pipe.read(input, carried, room);
                if (n < 0) {
                    break;
                }
                if (cursor != null) {
                    OutputLog.Gap gap = cursor.takeGap();
                    if (gap != null) {
                        if (carried > 0) {
                            // bytes carried from before the gap are not glued to bytes after it
                            send(input, carried);
                            System.arraycopy(input, carried, input, 0, n);
                            carried = 0;
                        }
                        sendGap(gap);
                    }
                }
                int length = carried + n;
                int complete = Utf8Validator.completePrefixLength(input, 0, length);
                if (complete > 0) {
                    send(input, complete);
                }
                carried = length - complete;
                System.arraycopy(input, complete, input, 0, carried);
                if (n == room && room < READ_SIZE) {
                    // the writer is ahead of us: read more at a time (the carried bytes stay at the front)
                    input = java.util.Arrays.copyOf(input, Math.min(READ_SIZE, 4 * room) + CARRY);
                }
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
        if (cursor != null) {
            cursor.close(); // a log needs no draining: the job does not wait for this reader
            return;
        }
        try {
            while (pipe.read(input, 0, input.length) >= 0) {
                // discard
            }
        } catch (IOException ignored) {
            // the pipe is closed: nothing left to drain
        }
    }

    /** The attachment this pump serves left: what follows is read and not sent. */
    private void stopIfAsked() throws ConnectionLost {
        if (stopped != null && stopped.getAsBoolean()) {
            throw new ConnectionLost(new IOException("detached"));
        }
    }

    private void send(byte[] bytes, int length) throws IOException {
        stopIfAsked();
        int payloadLength = Utf8Validator.isValid(bytes, 0, length) ? encodeText(bytes, length) : encodeBase64(bytes, length);
        try {
            webSocket.sendFrame(Opcode.TEXT, frame, WebSocket.HEADROOM, payloadLength);
        } catch (IOException e) {
            throw new ConnectionLost(e);
        }
        offset += length;
    }

    /** Writes the head and this event's offset behind the headroom; returns where the rest goes. */
    private int writeHead(byte[] out) {
        int o = WebSocket.HEADROOM;
        System.arraycopy(head, 0, out, o, head.length);
        o += head.length;
        // the digits of the offset, written in place: no String per event on the hot path
        int digits = 1;
        for (long rest = offset / 10; rest > 0; rest /= 10) {
            digits++;
        }
        long value = offset;
        for (int i = o + digits - 1; i >= o; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return o + digits;
    }

    /** Writes {@code ...,"data":"<escaped>"}} behind the headroom; returns the payload length. */
    private int encodeText(byte[] bytes, int length) {
        // Room for the text unescaped; each escape below makes sure the rest still fits.
        byte[] out = room(headRoom + DATA_PREFIX.length + length + 2 + 8);
        int o = writeHead(out);
        System.arraycopy(DATA_PREFIX, 0, out, o, DATA_PREFIX.length);
        o += DATA_PREFIX.length;
        int i = 0;
        while (i < length) {
            if (i + 8 <= length) {
                // Eight bytes at a time: copy the word, and stop at the first byte that needs an escape.
                long word = (long) LONGS.get(bytes, i);
                long escapes = escapes(word);
                LONGS.set(out, o, word);
                if (escapes == 0) {
                    i += 8;
                    o += 8;
                    continue;
                }
                int clean = Long.numberOfTrailingZeros(escapes) >>> 3; // little-endian: the lowest byte comes first
                i += clean;
                o += clean;
            }
            byte b = bytes[i++];
            // bytes >= 0x80 belong to multi-byte characters and pass through; so does most ASCII
            if ((b >= 0x20 && b != '"' && b != '\\') || b < 0) {
                out[o++] = b;
                continue;
            }
            int needed = o + 6 + (length - i) + 2 + 8; // this escape at its longest, the rest as it is, the end
            if (needed > out.length) {
                out = grow(needed + (length - i) / 4);
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

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    /**
     * Marks, in the high bit of each byte, the bytes of {@code word} that JSON strings
     * must escape: control characters (below 0x20), the quote and the backslash; bytes
     * {@code >= 0x80} are never marked. The usual "has a zero byte" and "has a byte less
     * than n" bit tricks: the lowest mark is always exact (marks above it may be false),
     * which is all the caller uses, and no marks means no such byte.
     */
    static long escapes(long word) {
        long control = (word - 0x20 * ONES) & ~word;
        long quote = word ^ ('"' * ONES);
        long backslash = word ^ ('\\' * ONES);
        return (control | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash)) & HIGH_BITS;
    }

    private int encodeBase64(byte[] bytes, int length) {
        int encodedLength = 4 * ((length + 2) / 3);
        byte[] out = room(headRoom + BASE64_PREFIX.length + encodedLength + 2);
        int o = writeHead(out);
        System.arraycopy(BASE64_PREFIX, 0, out, o, BASE64_PREFIX.length);
        o += BASE64_PREFIX.length;
        byte[] encoded = Base64.getEncoder().encode(java.nio.ByteBuffer.wrap(bytes, 0, length)).array();
        System.arraycopy(encoded, 0, out, o, encodedLength);
        o += encodedLength;
        out[o++] = '"';
        out[o++] = '}';
        return o - WebSocket.HEADROOM;
    }

    /** The frame buffer with room for a payload of this size behind the headroom (contents not kept). */
    private byte[] room(int payloadLength) {
        int needed = WebSocket.HEADROOM + payloadLength;
        if (frame.length < needed) {
            frame = new byte[Math.max(needed, Math.min(2 * frame.length, WebSocket.HEADROOM + 2 * READ_SIZE + 512))];
        }
        return frame;
    }

    /** A larger frame buffer that keeps what was written so far. */
    private byte[] grow(int size) {
        frame = java.util.Arrays.copyOf(frame, Math.max(size, frame.length + frame.length / 2));
        return frame;
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
}
