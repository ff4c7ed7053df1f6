package wsexec.websocket;

/**
 * The peer broke a rule of the framing layer. Carries the close code the
 * connection must be failed with (RFC 6455 §7.1.7, §7.4.1): 1002 for a protocol
 * error, 1007 for text that is not UTF-8, 1009 for a message over the limit.
 */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int closeCode;

    public ProtocolException(int closeCode, String reason) {
        super(reason, null, false, false);
        this.closeCode = closeCode;
    }

    public int closeCode() {
        return closeCode;
    }
}
