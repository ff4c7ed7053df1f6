package wsexec.websocket;

import java.time.Duration;

/**
 * Every limit the WebSocket layer enforces, in one place.
 *
 * @param maxMessageSize   largest data message, in bytes, summed over its fragments; a frame
 *                         that would pass it is refused with 1009 from its header alone
 * @param maxFragments     most frames one data message may be split into (1008 past it):
 *                         bounds the work a peer can cause with floods of tiny fragments
 * @param closeTimeout     how long to wait for the peer's answering Close frame (or its end of
 *                         the TCP connection) before closing the socket anyway, §7.1.1
 */
public record WebSocketLimits(int maxMessageSize, int maxFragments, Duration closeTimeout) {

    /** Strict defaults for servers that act on what they receive: 1 MiB, 1,024 fragments, 5 s. */
    public static final WebSocketLimits DEFAULTS = new WebSocketLimits(1 << 20, 1024, Duration.ofSeconds(5));

    public WebSocketLimits {
        if (maxMessageSize < 0) {
            throw new IllegalArgumentException("maxMessageSize must not be negative");
        }
        if (maxFragments < 1) {
            throw new IllegalArgumentException("maxFragments must be at least 1");
        }
    }

    public WebSocketLimits withMaxMessageSize(int bytes) {
        return new WebSocketLimits(bytes, maxFragments, closeTimeout);
    }

    public WebSocketLimits withMaxFragments(int count) {
        return new WebSocketLimits(maxMessageSize, count, closeTimeout);
    }

    public WebSocketLimits withCloseTimeout(Duration timeout) {
        return new WebSocketLimits(maxMessageSize, maxFragments, timeout);
    }
}
