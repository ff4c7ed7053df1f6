package wsexec.websocket;

/**
 * Writes frame headers, RFC 6455 §5.2, into byte arrays. No I/O.
 *
 * <p>Servers send unmasked frames (§5.1: "A server MUST NOT mask any frames that
 * it sends to the client"); clients mask every frame with a fresh key. Both
 * directions are here so tests and tools can build exactly the bytes a peer
 * would send.
 */
final class FrameEncoder {
    private FrameEncoder() {
    }

    /** Header length for a payload of this size: 2, 4 or 10 octets, plus 4 when masked. */
    public static int headerLength(long payloadLength, boolean masked) {
        int base = switch (FrameHeader.lengthBitsFor(payloadLength)) {
            case 7 -> 2;
            case 16 -> 4;
            default -> 10;
        };
        return masked ? base + 4 : base;
    }

    /**
     * Writes a header ending exactly at {@code end} (so it sits right before a
     * payload that starts there) and returns where it starts.
     */
    public static int writeHeaderBefore(byte[] dst, int end, boolean fin, Opcode opcode, long payloadLength) {
        return writeHeaderBefore(dst, end, fin, 0, opcode, payloadLength);
    }

    /** The same with RSV bits (a number 0–7, RSV1 is 4), for an extension that uses them. */
    public static int writeHeaderBefore(byte[] dst, int end, boolean fin, int rsv, Opcode opcode, long payloadLength) {
        int start = end - headerLength(payloadLength, false);
        writeHeader(dst, start, fin, rsv, opcode, payloadLength, false, 0);
        return start;
    }

    /** Writes a header at {@code offset} and returns its length. */
    public static int writeHeader(byte[] dst, int offset, boolean fin, int rsv, Opcode opcode,
                                  long payloadLength, boolean masked, int maskingKey) {
        int i = offset;
        dst[i++] = (byte) ((fin ? FrameHeader.FIN : 0) | ((rsv & 0b111) << 4) | opcode.code);
        int maskBit = masked ? FrameHeader.MASK : 0;
        switch (FrameHeader.lengthBitsFor(payloadLength)) {
            case 7 -> dst[i++] = (byte) (maskBit | (int) payloadLength);
            case 16 -> {
                dst[i++] = (byte) (maskBit | FrameHeader.LENGTH_16);
                dst[i++] = (byte) (payloadLength >>> 8);
                dst[i++] = (byte) payloadLength;
            }
            default -> {
                dst[i++] = (byte) (maskBit | FrameHeader.LENGTH_64);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    dst[i++] = (byte) (payloadLength >>> shift);
                }
            }
        }
        if (masked) {
            dst[i++] = (byte) (maskingKey >>> 24);
            dst[i++] = (byte) (maskingKey >>> 16);
            dst[i++] = (byte) (maskingKey >>> 8);
            dst[i++] = (byte) maskingKey;
        }
        return i - offset;
    }

    /** A whole unmasked frame, as a server sends it. */
    public static byte[] frame(boolean fin, Opcode opcode, byte[] payload) {
        byte[] out = new byte[headerLength(payload.length, false) + payload.length];
        int h = writeHeader(out, 0, fin, 0, opcode, payload.length, false, 0);
        System.arraycopy(payload, 0, out, h, payload.length);
        return out;
    }

    /** A whole masked frame, as a client sends it. */
    public static byte[] maskedFrame(boolean fin, Opcode opcode, byte[] payload, int maskingKey) {
        byte[] out = new byte[headerLength(payload.length, true) + payload.length];
        int h = writeHeader(out, 0, fin, 0, opcode, payload.length, true, maskingKey);
        System.arraycopy(payload, 0, out, h, payload.length);
        Masking.apply(out, h, payload.length, maskingKey, 0);
        return out;
    }

    /** The body of a Close frame, §5.5.1: the code in network byte order, then the UTF-8 reason. */
    public static byte[] closeBody(int code, String reason) {
        byte[] text = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // §5.5: the whole control payload is at most 125 bytes; cut the reason on a code point boundary.
        int room = FrameHeader.MAX_CONTROL_PAYLOAD - 2;
        int length = text.length <= room ? text.length : Utf8Validator.completePrefixLength(text, 0, room);
        byte[] body = new byte[2 + length];
        body[0] = (byte) (code >>> 8);
        body[1] = (byte) code;
        System.arraycopy(text, 0, body, 2, length);
        return body;
    }
}
