package wsexec.websocket;

import java.util.Map;

/**
 * The opening handshake cannot go on. Becomes an HTTP response with the given
 * status (RFC 6455 §4.2.2: "the server MUST ... return an appropriate HTTP
 * error code (such as 400 Bad Request)"), a one-line reason as its body, and
 * any extra response headers (426 carries {@code Sec-WebSocket-Version}).
 */
public final class HandshakeException extends Exception {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;
    /** The HTTP status to answer with. */
    private final int status;
    private final transient Map<String, String> headers;

    /**
     * A refusal with no extra headers.
     *
     * @param status the HTTP status to answer with (400, 426, 431, …)
     * @param reason one line, sent as the body of the answer
     */
    public HandshakeException(int status, String reason) {
        this(status, reason, Map.of());
    }

    /**
     * A refusal with extra response headers.
     *
     * @param status  the HTTP status to answer with
     * @param reason  one line, sent as the body of the answer
     * @param headers header fields to add to the answer (426: {@code Sec-WebSocket-Version})
     */
    public HandshakeException(int status, String reason, Map<String, String> headers) {
        super(reason, null, false, false);
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    /**
     * The HTTP status to answer with.
     *
     * @return the status code
     */
    public int status() {
        return status;
    }

    /**
     * Header fields to add to the answer.
     *
     * @return an unmodifiable map, possibly empty
     */
    public Map<String, String> headers() {
        return headers;
    }
}
