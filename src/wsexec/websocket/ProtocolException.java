package wsexec.websocket;

/**
 * The peer broke a rule of the framing layer. Carries the close code the
 * connection must be failed with (RFC 6455 §7.1.7, §7.4.1): 1002 for a protocol
 * error, 1007 for text that is not UTF-8, 1009 for a message over the limit.
 */
public final class ProtocolException extends Exception {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;
    /** The close code to fail the connection with. */
    private final int closeCode;

    /**
     * A broken framing rule.
     *
     * @param closeCode the code to fail the connection with ({@link CloseCode})
     * @param reason    what was wrong, sent as the Close frame's reason (keep it under 123 bytes)
     */
    public ProtocolException(int closeCode, String reason) {
        super(reason, null, false, false);
        this.closeCode = closeCode;
    }

    /**
     * The code to fail the connection with.
     *
     * @return a {@link CloseCode} value
     */
    public int closeCode() {
        return closeCode;
    }
}
