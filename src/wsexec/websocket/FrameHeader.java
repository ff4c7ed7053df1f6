package wsexec.websocket;

/**
 * The fixed part of a frame, RFC 6455 §5.2, as read off the wire.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * </pre>
 *
 * @param fin           this is the final fragment of a message
 * @param rsv           the three reserved bits RSV1–RSV3, as a number 0–7 (RSV1 is 4)
 * @param opcode        the frame's opcode
 * @param masked        the MASK bit
 * @param maskingKey    the 32-bit masking key (first octet most significant); 0 when not masked
 * @param payloadLength the payload length in bytes
 * @param lengthBits    how the length was encoded: 7, 16 or 64 bits
 */
public record FrameHeader(boolean fin, int rsv, Opcode opcode, boolean masked, int maskingKey,
                          long payloadLength, int lengthBits) {

    // Bits of the first two octets, RFC 6455 §5.2.
    static final int FIN = 0b1000_0000;
    static final int RSV = 0b0111_0000;
    static final int OPCODE = 0b0000_1111;
    static final int MASK = 0b1000_0000;
    static final int PAYLOAD_LENGTH = 0b0111_1111;

    /** The 7-bit length value that announces a 16-bit extended length. */
    static final int LENGTH_16 = 126;
    /** The 7-bit length value that announces a 64-bit extended length. */
    static final int LENGTH_64 = 127;
    /** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
    public static final int MAX_CONTROL_PAYLOAD = 125;
    /** The largest header: 2 fixed octets, 8 of extended length, 4 of masking key. */
    public static final int MAX_HEADER_LENGTH = 14;

    /**
     * The number of octets this header takes on the wire: 2, the extended length, the masking key (§5.2).
     *
     * @return 2 to 14
     */
    public int headerLength() {
        return 2 + (lengthBits == 64 ? 8 : lengthBits == 16 ? 2 : 0) + (masked ? 4 : 0);
    }

    /**
     * The smallest number of bits that can encode a payload length (§5.2: "the minimal number of bytes MUST be used").
     *
     * @param payloadLength a payload length, not negative
     * @return 7, 16 or 64
     */
    public static int lengthBitsFor(long payloadLength) {
        if (payloadLength < LENGTH_16) {
            return 7;
        }
        return payloadLength <= 0xFFFF ? 16 : 64;
    }
}
