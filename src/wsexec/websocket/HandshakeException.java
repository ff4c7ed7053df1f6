package wsexec.websocket;

import java.util.Map;

/**
 * The opening handshake cannot go on. Becomes an HTTP response with the given
 * status (RFC 6455 §4.2.2: "the server MUST ... return an appropriate HTTP
 * error code (such as 400 Bad Request)"), a one-line reason as its body, and
 * any extra response headers (426 carries {@code Sec-WebSocket-Version}).
 */
public final class HandshakeException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final transient Map<String, String> headers;

    public HandshakeException(int status, String reason) {
        this(status, reason, Map.of());
    }

    public HandshakeException(int status, String reason, Map<String, String> headers) {
        super(reason, null, false, false);
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
