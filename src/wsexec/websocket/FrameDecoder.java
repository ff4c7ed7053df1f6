package wsexec.websocket;

import java.nio.ByteBuffer;

/**
 * Reads frames out of a byte stream, RFC 6455 §5.2, without doing any I/O.
 *
 * <p>Give it whatever bytes have arrived; {@link #next(ByteBuffer)} hands back
 * the next piece it can make out of them — a {@link FrameHeader} once the whole
 * header is in, then the payload as one or more {@link Payload} pieces as they
 * arrive, already unmasked — or {@code null} when it needs more bytes. A header
 * split across reads is kept until it is whole; payload is never copied.
 *
 * <p>Every rule that can be checked from a header alone is checked here, the
 * moment the header is complete, so that a bad frame is refused before any of
 * its payload is read.
 */
final class FrameDecoder {

    /** A piece of a frame's payload, unmasked in place inside the caller's buffer. */
    public record Payload(byte[] array, int offset, int length, boolean endOfFrame) {
    }

    private enum State { HEADER, PAYLOAD }

    private final boolean expectMasked;
    /** The RSV bits an extension gave a meaning to: RSV1 with permessage-deflate, none otherwise. */
    private final int allowedRsv;
    private State state = State.HEADER;
    private final byte[] header = new byte[FrameHeader.MAX_HEADER_LENGTH];
    private int headerLength;
    /** The header of the frame whose payload is being read; null between frames. */
    private FrameHeader current;
    private long payloadRemaining;
    private int keyIndex;

    /**
     * @param expectMasked true on a server: RFC 6455 §5.1, "a server MUST close the
     *                     connection upon receiving a frame that is not masked";
     *                     false on a client, which MUST refuse masked frames
     */
    public FrameDecoder(boolean expectMasked) {
        this(expectMasked, false);
    }

    /** @param compression permessage-deflate was negotiated (RFC 7692): RSV1 marks a compressed message */
    public FrameDecoder(boolean expectMasked, boolean compression) {
        this.expectMasked = expectMasked;
        this.allowedRsv = compression ? PerMessageDeflate.RSV1 << 4 : 0;
    }

    /**
     * The next header or payload piece that the buffered bytes allow, consuming
     * them from {@code in}; {@code null} when {@code in} holds too little.
     * {@code in} must be backed by an accessible array.
     */
    public Object next(ByteBuffer in) throws ProtocolException {
        if (state == State.HEADER) {
            return readHeader(in);
        }
        return readPayload(in);
    }

    /** Whether the decoder stands between two frames (no header or payload half read). */
    public boolean isAtFrameBoundary() {
        return state == State.HEADER && headerLength == 0;
    }

    private FrameHeader readHeader(ByteBuffer in) throws ProtocolException {
        if (!fill(in, 2)) {
            return null;
        }
        int first = header[0] & 0xFF;
        int second = header[1] & 0xFF;
        int lengthField = second & FrameHeader.PAYLOAD_LENGTH;
        int lengthOctets = lengthField == FrameHeader.LENGTH_64 ? 8 : lengthField == FrameHeader.LENGTH_16 ? 2 : 0;
        boolean masked = (second & FrameHeader.MASK) != 0;
        checkFirstOctets(first, masked);
        if (!fill(in, 2 + lengthOctets + (masked ? 4 : 0))) {
            return null;
        }
        long length;
        int lengthBits;
        if (lengthOctets == 0) {
            length = lengthField;
            lengthBits = 7;
        } else if (lengthOctets == 2) {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            lengthBits = 16;
        } else {
            length = 0;
            for (int i = 2; i < 10; i++) {
                length = (length << 8) | (header[i] & 0xFF);
            }
            lengthBits = 64;
            // §5.2: "the most significant bit MUST be 0"
            if (length < 0) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "64-bit payload length has its most significant bit set");
            }
        }
        // §5.2: "the minimal number of bytes MUST be used to encode the length"
        if (lengthBits != FrameHeader.lengthBitsFor(length)) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "payload length " + length + " not in its shortest encoding");
        }
        Opcode opcode = Opcode.of(first & FrameHeader.OPCODE);
        // §5.5: "All control frames MUST have a payload length of 125 bytes or less"
        if (opcode.isControl() && length > FrameHeader.MAX_CONTROL_PAYLOAD) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "control frame payload longer than 125 bytes");
        }
        int key = 0;
        if (masked) {
            int k = 2 + lengthOctets;
            key = ((header[k] & 0xFF) << 24) | ((header[k + 1] & 0xFF) << 16) | ((header[k + 2] & 0xFF) << 8) | (header[k + 3] & 0xFF);
        }
        FrameHeader frame = new FrameHeader((first & FrameHeader.FIN) != 0, (first & FrameHeader.RSV) >>> 4, opcode, masked, key, length, lengthBits);
        headerLength = 0;
        payloadRemaining = length;
        keyIndex = 0;
        state = length == 0 ? State.HEADER : State.PAYLOAD;
        current = length == 0 ? null : frame;
        return frame;
    }

    /** Rules that the first two octets alone decide. */
    private void checkFirstOctets(int first, boolean masked) throws ProtocolException {
        // §5.2: RSV1–3 "MUST be 0 unless an extension is negotiated"; permessage-deflate gives RSV1 a meaning.
        if ((first & FrameHeader.RSV & ~allowedRsv) != 0) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "reserved bits set without a negotiated extension");
        }
        Opcode opcode = Opcode.of(first & FrameHeader.OPCODE);
        if (opcode == null) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "reserved opcode 0x" + Integer.toHexString(first & FrameHeader.OPCODE));
        }
        // RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
        // non-first fragments of a data message. An endpoint receiving such a frame MUST _Fail the WebSocket Connection_."
        if ((first & allowedRsv) != 0 && (opcode.isControl() || opcode == Opcode.CONTINUATION)) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "compressed bit (RSV1) set on a "
                    + (opcode.isControl() ? "control frame" : "continuation frame"));
        }
        // §5.5: "All control frames ... MUST NOT be fragmented"
        if (opcode.isControl() && (first & FrameHeader.FIN) == 0) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "fragmented control frame");
        }
        // §5.1: clients MUST mask; servers MUST NOT.
        if (masked != expectMasked) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, expectMasked ? "frame from client is not masked" : "frame from server is masked");
        }
    }

    private Payload readPayload(ByteBuffer in) {
        int available = in.remaining();
        if (available == 0) {
            return null;
        }
        int length = (int) Math.min(available, payloadRemaining);
        byte[] array = in.array();
        int offset = in.arrayOffset() + in.position();
        if (current.masked()) {
            keyIndex = Masking.apply(array, offset, length, current.maskingKey(), keyIndex);
        }
        in.position(in.position() + length);
        payloadRemaining -= length;
        boolean end = payloadRemaining == 0;
        if (end) {
            state = State.HEADER;
            current = null; // an idle connection keeps no header
        }
        return new Payload(array, offset, length, end);
    }

    /** Copies header octets from {@code in} until {@code wanted} are held; true once they are. */
    private boolean fill(ByteBuffer in, int wanted) {
        while (headerLength < wanted && in.hasRemaining()) {
            header[headerLength++] = in.get();
        }
        return headerLength >= wanted;
    }
}
