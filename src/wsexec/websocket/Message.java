package wsexec.websocket;

/** What a peer sent, once whole: a data message (§5.6) or a control frame (§5.5). */
public sealed interface Message {

    /** A text message: its UTF-8 payload, already validated. */
    record Text(String text) implements Message {
    }

    /** A binary message. */
    record Binary(byte[] data) implements Message {
    }

    /** RFC 6455 §5.5.2. */
    record Ping(byte[] data) implements Message {
    }

    /** RFC 6455 §5.5.3. */
    record Pong(byte[] data) implements Message {
    }

    /**
     * RFC 6455 §5.5.1. A Close frame with no body is reported with code
     * {@link CloseCode#NO_STATUS_RECEIVED} (§7.1.5) and an empty reason.
     */
    record Close(int code, String reason) implements Message {
    }
}
