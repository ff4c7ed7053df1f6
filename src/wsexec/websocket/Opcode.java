package wsexec.websocket;

/**
 * The frame opcodes of RFC 6455 §5.2 ("Opcode: 4 bits").
 *
 * <p>Values 0x3–0x7 are reserved for further non-control frames and 0xB–0xF for
 * further control frames; a frame that carries one of them is a protocol error
 * (§5.2: "If an unknown opcode is received, the receiving endpoint MUST
 * _Fail the WebSocket Connection_").
 */
public enum Opcode {
    /** 0x0: a continuation frame of a fragmented message (§5.4). */
    CONTINUATION(0x0),
    /** 0x1: a text frame (§5.6). */
    TEXT(0x1),
    /** 0x2: a binary frame (§5.6). */
    BINARY(0x2),
    /** 0x8: a connection close (§5.5.1). */
    CLOSE(0x8),
    /** 0x9: a ping (§5.5.2). */
    PING(0x9),
    /** 0xA: a pong (§5.5.3). */
    PONG(0xA);

    /** The 4-bit value on the wire. */
    public final int code;

    Opcode(int code) {
        this.code = code;
    }

    /**
     * RFC 6455 §5.5: control frames are identified by opcodes whose most significant bit is 1.
     *
     * @return true for Close, Ping and Pong
     */
    public boolean isControl() {
        return (code & 0b1000) != 0;
    }

    /**
     * The opcode for a 4-bit value (§5.2).
     *
     * @param code the value on the wire, 0–15
     * @return the opcode, or {@code null} if the value is reserved
     */
    public static Opcode of(int code) {
        return switch (code) {
            case 0x0 -> CONTINUATION;
            case 0x1 -> TEXT;
            case 0x2 -> BINARY;
            case 0x8 -> CLOSE;
            case 0x9 -> PING;
            case 0xA -> PONG;
            default -> null;
        };
    }
}
