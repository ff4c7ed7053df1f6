package wsexec.websocket;

import java.nio.ByteBuffer;

/**
 * Frames as bytes, for tests outside this package that speak the wire protocol by hand: the
 * encoder and the receiver are not part of the module's API, so tests reach them through here.
 */
public final class WireFrames {
    private WireFrames() {
    }

    /** An unmasked frame, as a server sends it. */
    public static byte[] frame(boolean fin, Opcode opcode, byte[] payload) {
        return FrameEncoder.frame(fin, opcode, payload);
    }

    /** A masked frame, as a client sends it. */
    public static byte[] maskedFrame(boolean fin, Opcode opcode, byte[] payload, int maskingKey) {
        return FrameEncoder.maskedFrame(fin, opcode, payload, maskingKey);
    }

    /** The body of a Close frame: the code, then the reason in UTF-8. */
    public static byte[] closeBody(int code, String reason) {
        return FrameEncoder.closeBody(code, reason);
    }

    /** The length of a frame header for this payload length. */
    public static int headerLength(long payloadLength, boolean masked) {
        return FrameEncoder.headerLength(payloadLength, masked);
    }

    /** Writes an unmasked header that ends at {@code end}; returns where it starts. */
    public static int writeHeaderBefore(byte[] dst, int end, boolean fin, Opcode opcode, long payloadLength) {
        return FrameEncoder.writeHeaderBefore(dst, end, fin, opcode, payloadLength);
    }

    /** Reads what a server sends (unmasked frames) into messages, as a client would. */
    public static final class ClientReceiver {
        private final Receiver receiver = new Receiver(false, WebSocketLimits.DEFAULTS);

        /** The next message in {@code in} (read mode), or null when more bytes are needed. */
        public Message receive(ByteBuffer in) throws ProtocolException {
            return receiver.receive(in);
        }
    }
}
