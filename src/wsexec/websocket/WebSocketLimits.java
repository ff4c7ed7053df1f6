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
 * @param deflate          whether and how to accept permessage-deflate (RFC 7692); a compressed
 *                         message counts against {@code maxMessageSize} twice: its compressed size
 *                         from each frame's header, and its inflated size while it is inflated
 */
public record WebSocketLimits(int maxMessageSize, int maxFragments, Duration closeTimeout, PerMessageDeflate.Settings deflate) {

    /** Strict defaults for servers that act on what they receive: 1 MiB, 1,024 fragments, 5 s, deflate on. */
    public static final WebSocketLimits DEFAULTS = new WebSocketLimits(1 << 20, 1024, Duration.ofSeconds(5));

    /**
     * With permessage-deflate on at its defaults ({@link PerMessageDeflate.Settings#DEFAULTS}).
     *
     * @param maxMessageSize largest data message, in bytes
     * @param maxFragments   most frames in one data message
     * @param closeTimeout   how long to wait for the peer's Close frame, §7.1.1
     */
    public WebSocketLimits(int maxMessageSize, int maxFragments, Duration closeTimeout) {
        this(maxMessageSize, maxFragments, closeTimeout, PerMessageDeflate.Settings.DEFAULTS);
    }

    /**
     * Checks the limits.
     *
     * @throws IllegalArgumentException for a negative size or fewer than one fragment
     * @throws NullPointerException     for null deflate settings
     */
    public WebSocketLimits {
        if (maxMessageSize < 0) {
            throw new IllegalArgumentException("maxMessageSize must not be negative");
        }
        if (maxFragments < 1) {
            throw new IllegalArgumentException("maxFragments must be at least 1");
        }
        java.util.Objects.requireNonNull(deflate, "deflate");
    }

    /**
     * These limits with another {@code maxMessageSize}.
     *
     * @param bytes the largest data message, in bytes
     * @return a new record
     */
    public WebSocketLimits withMaxMessageSize(int bytes) {
        return new WebSocketLimits(bytes, maxFragments, closeTimeout, deflate);
    }

    /**
     * These limits with another {@code maxFragments}.
     *
     * @param count the most frames in one data message
     * @return a new record
     */
    public WebSocketLimits withMaxFragments(int count) {
        return new WebSocketLimits(maxMessageSize, count, closeTimeout, deflate);
    }

    /**
     * These limits with another {@code closeTimeout}.
     *
     * @param timeout how long to wait for the peer's Close frame
     * @return a new record
     */
    public WebSocketLimits withCloseTimeout(Duration timeout) {
        return new WebSocketLimits(maxMessageSize, maxFragments, timeout, deflate);
    }

    /**
     * These limits with another {@code deflate}.
     *
     * @param settings whether and how to use permessage-deflate
     * @return a new record
     */
    public WebSocketLimits withDeflate(PerMessageDeflate.Settings settings) {
        return new WebSocketLimits(maxMessageSize, maxFragments, closeTimeout, settings);
    }
}
