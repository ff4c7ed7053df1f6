package wsexec.websocket;

/**
 * Close status codes, RFC 6455 §7.4.
 *
 * <p>Codes are plain {@code int}s because a peer may send any application code
 * in 3000–4999; the constants name the ones the RFC defines.
 */
public final class CloseCode {
    private CloseCode() {
    }

    /** §7.4.1: normal closure. */
    public static final int NORMAL_CLOSURE = 1000;
    /** §7.4.1: an endpoint is going away (server shutdown, page navigated away). */
    public static final int GOING_AWAY = 1001;
    /** §7.4.1: the endpoint is terminating the connection due to a protocol error. */
    public static final int PROTOCOL_ERROR = 1002;
    /** §7.4.1: received a type of data it cannot accept. */
    public static final int UNSUPPORTED_DATA = 1003;
    /** §7.4.1: reserved; MUST NOT be sent in a Close frame. Means "no status code was present". */
    public static final int NO_STATUS_RECEIVED = 1005;
    /** §7.4.1: reserved; MUST NOT be sent in a Close frame. Means "closed without a Close frame". */
    public static final int ABNORMAL_CLOSURE = 1006;
    /** §7.4.1: data within a message was not consistent with its type (e.g. non-UTF-8 text). */
    public static final int INVALID_FRAME_PAYLOAD_DATA = 1007;
    /** §7.4.1: a message violates the endpoint's policy. */
    public static final int POLICY_VIOLATION = 1008;
    /** §7.4.1: a message is too big to process. */
    public static final int MESSAGE_TOO_BIG = 1009;
    /** §7.4.1: the client expected an extension the server did not negotiate. */
    public static final int MANDATORY_EXTENSION = 1010;
    /** §7.4.1: the server met an unexpected condition. */
    public static final int INTERNAL_ERROR = 1011;

    /**
     * Whether a code may appear in a Close frame on the wire.
     *
     * <p>§7.4.1 and §7.4.2: 1000–1003 and 1007–1011 are defined; 1012–1014 were
     * later registered with IANA (service restart, try again later, bad gateway);
     * 1004, 1005, 1006 and 1015 are reserved and MUST NOT be sent; the rest of
     * 0–2999 is reserved for the protocol itself; 3000–4999 belong to libraries
     * and applications; anything else is not a status code at all.
     *
     * @param code a status code
     * @return true if an endpoint may send it, and accept it in a Close frame
     */
    public static boolean isAllowedOnWire(int code) {
        if (code >= 1000 && code <= 1003) {
            return true;
        }
        if (code >= 1007 && code <= 1014) {
            return true;
        }
        return code >= 3000 && code <= 4999;
    }
}
