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
public final class Receiver {
    private final FrameDecoder decoder;
    private final WebSocketLimits limits;
    private final Utf8Validator utf8 = new Utf8Validator();

    /** The header of the frame whose payload is arriving. */
    private FrameHeader frame;

    /** The data message being assembled, or null between messages. */
    private Opcode messageType;
    private byte[] message;
    private int messageLength;
    private int fragments;

    /** A control frame's payload (§5.5: at most 125 bytes). */
    private final byte[] control = new byte[FrameHeader.MAX_CONTROL_PAYLOAD];
    private int controlLength;

    private static final byte[] NO_BYTES = new byte[0];

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
        this.decoder = new FrameDecoder(expectMasked);
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
                Message done = part instanceof FrameHeader header ? onHeader(header) : onPayload((FrameDecoder.Payload) part);
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
        }
        if (++fragments > limits.maxFragments()) {
            throw new ProtocolException(CloseCode.POLICY_VIOLATION, "message split into more than " + limits.maxFragments() + " fragments");
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

    private Message finishMessage() throws ProtocolException {
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
        byte[] data = Arrays.copyOf(control, controlLength);
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
