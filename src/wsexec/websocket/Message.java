package wsexec.websocket;

/**
 * What a peer sent, once whole: a data message (RFC 6455 §5.6), reassembled from its fragments
 * (§5.4) and inflated if it was compressed (RFC 7692), or a control frame (§5.5).
 * {@link WebSocket#receive()} returns only {@link Text} and {@link Binary}; it answers the others.
 */
public sealed interface Message {

    /**
     * A text message (opcode 0x1): its UTF-8 payload, already validated (§5.6, §8.1).
     *
     * @param text the message
     */
    record Text(String text) implements Message {
    }

    /**
     * A binary message (opcode 0x2, §5.6).
     *
     * @param data the message's bytes
     */
    record Binary(byte[] data) implements Message {
    }

    /**
     * A Ping frame, RFC 6455 §5.5.2.
     *
     * @param data its application data, at most 125 bytes
     */
    record Ping(byte[] data) implements Message {
    }

    /**
     * A Pong frame, RFC 6455 §5.5.3.
     *
     * @param data its application data, at most 125 bytes
     */
    record Pong(byte[] data) implements Message {
    }

    /**
     * RFC 6455 §5.5.1. A Close frame with no body is reported with code
     * {@link CloseCode#NO_STATUS_RECEIVED} (§7.1.5) and an empty reason.
     *
     * @param code   the status code (§7.4)
     * @param reason the UTF-8 reason, possibly empty
     */
    record Close(int code, String reason) implements Message {
    }
}
