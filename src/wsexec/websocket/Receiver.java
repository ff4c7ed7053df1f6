package wsexec.websocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The receiving half of a WebSocket connection as a pure object: bytes in,
 * whole {@link Message}s out, no I/O.
 *
 * <p>It joins fragments into messages (RFC 6455 §5.4), lets control frames
 * arrive between fragments, validates text as UTF-8 while it arrives (§8.1)
 * and enforces the size limits of {@link WebSocketLimits} from each frame's
 * header, before its payload is read or room is made for it. Any broken rule
 * is a {@link ProtocolException} carrying the close code to fail with.
 */
final class Receiver {
    private final FrameDecoder decoder;
    private final WebSocketLimits limits;
    private final Utf8Validator utf8 = new Utf8Validator();

    /** The header of the frame whose payload is arriving; null between frames. */
    private FrameHeader frame;

    /** The data message being assembled, or null between messages. */
    private Opcode messageType;
    private byte[] message;
    private int messageLength;
    private int fragments;

    /**
     * The payload of the control frame arriving (§5.5: at most 125 bytes), made to its size by its
     * header and handed on in its message: between frames a connection holds none.
     */
    private byte[] control;
    private int controlLength;

    private static final byte[] NO_BYTES = new byte[0];

    /** Inflates compressed messages when permessage-deflate was agreed (RFC 7692); null otherwise. */
    private final MessageInflater inflater;
    /** Whether the data message being assembled is compressed (RSV1 on its first frame, RFC 7692 §6.2). */
    private boolean compressed;
    /** The compressed bytes of that message so far, as they came off the wire. */
    private long wireLength;
    /** One byte past the limit: where the inflater is asked whether a full message has more; null without deflate. */
    private final byte[] overflow;

    /** Told about each incoming frame, or null. */
    private final FrameObserver observer;
    /** The first payload bytes of the frame being observed; null when the observer wants none. */
    private final byte[] preview;
    /** The header of a frame reported once its preview is complete, or null. */
    private FrameHeader observing;
    private int previewLength;

    public Receiver(boolean expectMasked, WebSocketLimits limits) {
        this(expectMasked, limits, null);
    }

    /** @param observer told about every frame as it arrives (see {@link FrameObserver#previewLimit}); may be null */
    public Receiver(boolean expectMasked, WebSocketLimits limits, FrameObserver observer) {
        this(expectMasked, limits, observer, null);
    }

    /** @param deflate what permessage-deflate agreement the handshake made, or null for none */
    public Receiver(boolean expectMasked, WebSocketLimits limits, FrameObserver observer, PerMessageDeflate.Agreement deflate) {
        this.decoder = new FrameDecoder(expectMasked, deflate != null);
        this.inflater = deflate == null ? null : new MessageInflater();
        this.overflow = deflate == null ? null : new byte[1];
        this.limits = limits;
        this.observer = observer;
        int previewLimit = observer == null ? 0 : Math.max(0, observer.previewLimit());
        this.preview = previewLimit == 0 ? null : new byte[previewLimit];
    }

    /**
     * Consumes bytes from {@code in} until a message is complete, and returns it;
     * returns {@code null} once {@code in} is used up without completing one.
     */
    public Message receive(ByteBuffer in) throws ProtocolException {
        try {
            while (true) {
                Object part = decoder.next(in);
                if (part == null) {
                    return null;
                }
                if (observer != null) {
                    observe(part);
                }
                Message done;
                if (part instanceof FrameHeader header) {
                    done = onHeader(header);
                    if (header.payloadLength() == 0) {
                        frame = null;
                    }
                } else {
                    FrameDecoder.Payload payload = (FrameDecoder.Payload) part;
                    done = onPayload(payload);
                    if (payload.endOfFrame()) {
                        frame = null; // an idle connection keeps no header
                    }
                }
                if (done != null) {
                    return done;
                }
            }
        } catch (ProtocolException e) {
            // The frame that broke a rule is reported with what arrived of it, before the failure.
            if (observing != null) {
                report();
            }
            throw e;
        }
    }

    /** Reports a header at once, or after its first payload bytes when the observer wants a preview. */
    private void observe(Object part) {
        if (part instanceof FrameHeader header) {
            observing = header;
            previewLength = 0;
            if (preview == null || header.payloadLength() == 0) {
                report();
            }
            return;
        }
        if (observing == null) {
            return; // the header was reported already; this is the rest of its payload
        }
        FrameDecoder.Payload payload = (FrameDecoder.Payload) part;
        int wanted = (int) Math.min(preview.length, observing.payloadLength());
        int n = Math.min(wanted - previewLength, payload.length());
        System.arraycopy(payload.array(), payload.offset(), preview, previewLength, n);
        previewLength += n;
        if (previewLength == wanted || payload.endOfFrame()) {
            report();
        }
    }

    private void report() {
        FrameHeader header = observing;
        observing = null;
        observer.frame(false, header, preview == null ? NO_BYTES : preview, 0, previewLength);
    }

    /** Whether a data message has begun and not yet ended. */
    public boolean isInsideMessage() {
        return messageType != null;
    }

    private Message onHeader(FrameHeader header) throws ProtocolException {
        frame = header;
        if (header.opcode().isControl()) {
            controlLength = 0;
            control = header.payloadLength() == 0 ? NO_BYTES : new byte[(int) header.payloadLength()];
            return header.payloadLength() == 0 ? finishControl() : null;
        }
        if (header.opcode() == Opcode.CONTINUATION) {
            // §5.4: a continuation frame only continues a message that has begun
            if (messageType == null) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "continuation frame with no message in progress");
            }
        } else {
            // §5.4: fragments of one message are not interleaved with another's
            if (messageType != null) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "new data frame while a fragmented message is in progress");
            }
            messageType = header.opcode();
            messageLength = 0;
            fragments = 0;
            utf8.reset();
            // RFC 7692 §6.2: RSV1 on the first frame marks the whole message as compressed (the decoder
            // allows the bit only when the extension was agreed)
            compressed = (header.rsv() & PerMessageDeflate.RSV1) != 0;
            wireLength = 0;
            if (compressed) {
                inflater.begin();
            }
        }
        if (++fragments > limits.maxFragments()) {
            throw new ProtocolException(CloseCode.POLICY_VIOLATION, "message split into more than " + limits.maxFragments() + " fragments");
        }
        if (compressed) {
            return onCompressedHeader(header);
        }
        long total = messageLength + header.payloadLength();
        if (total > limits.maxMessageSize()) {
            throw new ProtocolException(CloseCode.MESSAGE_TOO_BIG, "message larger than " + limits.maxMessageSize() + " bytes");
        }
        ensureCapacity((int) total, header.fin());
        return header.payloadLength() == 0 && header.fin() ? finishMessage() : null;
    }

    private Message onPayload(FrameDecoder.Payload payload) throws ProtocolException {
        if (frame.opcode().isControl()) {
            System.arraycopy(payload.array(), payload.offset(), control, controlLength, payload.length());
            controlLength += payload.length();
            return payload.endOfFrame() ? finishControl() : null;
        }
        if (compressed) {
            inflate(payload.array(), payload.offset(), payload.length());
            return payload.endOfFrame() && frame.fin() ? finishMessage() : null;
        }
        System.arraycopy(payload.array(), payload.offset(), message, messageLength, payload.length());
        if (messageType == Opcode.TEXT) {
            // §8.1, validated as it arrives, so that the first bad byte fails the connection
            if (utf8.accept(message, messageLength, payload.length()) >= 0) {
                throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "text message is not valid UTF-8");
            }
        }
        messageLength += payload.length();
        return payload.endOfFrame() && frame.fin() ? finishMessage() : null;
    }

    /**
     * A frame of a compressed message. Its compressed length counts against the limit from the
     * header, as for any frame (RFC 6455 §10.4); the inflated length is counted while inflating.
     */
    private Message onCompressedHeader(FrameHeader header) throws ProtocolException {
        wireLength += header.payloadLength();
        if (wireLength > limits.maxMessageSize()) {
            throw new ProtocolException(CloseCode.MESSAGE_TOO_BIG, "message larger than " + limits.maxMessageSize() + " bytes");
        }
        if (message == null) {
            // the inflated size is unknown: start small and grow while inflating, never past the limit
            message = new byte[Math.min(4096, limits.maxMessageSize())];
        }
        return header.payloadLength() == 0 && header.fin() ? finishMessage() : null;
    }

    /**
     * Inflates compressed bytes into the message, RFC 7692 §7.2.2, validating text as it comes.
     * The inflated size counts against the limit while inflating: the buffer grows to the limit
     * and no further, and one byte more from the inflater fails the message with 1009 (RFC 7692
     * §9 warns of "decompression bombs"). All of the input is consumed before this returns, so the
     * caller may reuse its array.
     */
    private void inflate(byte[] input, int offset, int length) throws ProtocolException {
        if (inflater.isStreamEnd()) {
            // RFC 7692 §7.2.3.4: the sender ended the message with a BFINAL block. What follows it is
            // ignored (it still counted against the limit), as zlib-based peers do.
            return;
        }
        inflater.setInput(input, offset, length);
        while (true) {
            int n;
            if (messageLength < message.length || growMessage()) {
                n = inflater.inflate(message, messageLength, message.length - messageLength);
                if (n > 0 && messageType == Opcode.TEXT && utf8.accept(message, messageLength, n) >= 0) {
                    throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "text message is not valid UTF-8");
                }
                messageLength += n;
            } else if (inflater.inflate(overflow, 0, 1) > 0) {
                throw new ProtocolException(CloseCode.MESSAGE_TOO_BIG, "compressed message inflates to more than "
                        + limits.maxMessageSize() + " bytes");
            } else {
                n = 0;
            }
            if (n > 0) {
                continue;
            }
            // no output: the input is used up, or the DEFLATE data ended (and the rest is ignored, as above)
            if (inflater.isStreamEnd() || inflater.needsInput()) {
                return;
            }
        }
    }

    /** Doubles the message buffer, up to the limit; false when it is at the limit already. */
    private boolean growMessage() {
        int max = limits.maxMessageSize();
        if (message.length >= max) {
            return false;
        }
        message = Arrays.copyOf(message, (int) Math.min(max, Math.max(4096L, message.length * 2L)));
        return true;
    }

    /** How many bytes the buffer of the message being assembled holds (for tests of the limit). */
    int messageCapacity() {
        return message == null ? 0 : message.length;
    }

    /**
     * The connection is over: ends a zlib stream that a message left half inflated. Any thread may
     * call it; a receive that is still running fails.
     */
    public void release() {
        if (inflater != null) {
            inflater.end();
        }
    }

    private Message finishMessage() throws ProtocolException {
        if (compressed) {
            // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message"
            inflate(PerMessageDeflate.TAIL, 0, PerMessageDeflate.TAIL.length);
            inflater.endMessage();
            compressed = false;
            if (observer != null) {
                observer.compression(false, messageLength, wireLength);
            }
        }
        byte[] data = messageLength == message.length ? message : Arrays.copyOf(message, messageLength);
        Opcode type = messageType;
        messageType = null;
        message = null;
        if (type == Opcode.TEXT) {
            if (!utf8.isComplete()) {
                throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "text message ends inside a UTF-8 sequence");
            }
            return new Message.Text(new String(data, StandardCharsets.UTF_8));
        }
        return new Message.Binary(data);
    }

    private Message finishControl() throws ProtocolException {
        byte[] data = control; // all of it: the header gave its size
        control = null;
        return switch (frame.opcode()) {
            case PING -> new Message.Ping(data);
            case PONG -> new Message.Pong(data);
            case CLOSE -> parseClose(data);
            default -> throw new IllegalStateException(frame.opcode() + " is not a control opcode");
        };
    }

    /** RFC 6455 §5.5.1: an optional 2-byte status code, then an optional UTF-8 reason. */
    private static Message.Close parseClose(byte[] body) throws ProtocolException {
        if (body.length == 0) {
            return new Message.Close(CloseCode.NO_STATUS_RECEIVED, "");
        }
        if (body.length == 1) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "close frame body of one byte");
        }
        int code = ((body[0] & 0xFF) << 8) | (body[1] & 0xFF);
        if (!CloseCode.isAllowedOnWire(code)) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "close code " + code + " is not allowed on the wire");
        }
        if (!Utf8Validator.isValid(body, 2, body.length - 2)) {
            throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "close reason is not valid UTF-8");
        }
        return new Message.Close(code, new String(body, 2, body.length - 2, StandardCharsets.UTF_8));
    }

    /** Makes room for {@code total} bytes; exact when the message ends with this frame, doubling otherwise. */
    private void ensureCapacity(int total, boolean last) {
        if (message == null) {
            message = new byte[last ? total : Math.max(total, Math.min(4096, limits.maxMessageSize()))];
        } else if (total > message.length) {
            int grown = last ? total : (int) Math.min(Math.max((long) message.length * 2, total), limits.maxMessageSize());
            message = Arrays.copyOf(message, grown);
        }
    }
}
