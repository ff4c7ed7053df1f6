package wsexec.websocket;

/**
 * An incremental UTF-8 validator: feed it bytes in any number of pieces and it
 * says, at the first byte that cannot be part of well-formed UTF-8, that the
 * text is invalid.
 *
 * <p>RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but
 * finds that the byte stream is not, in fact, a valid UTF-8 stream, that
 * endpoint MUST _Fail the WebSocket Connection_." RFC 6455 points to RFC 3629,
 * whose §4 syntax is what this class accepts: no overlong forms, no surrogates
 * (U+D800–U+DFFF), nothing above U+10FFFF. The table of well-formed sequences
 * (Unicode 15, table 3-7) gives, for each lead byte, the range the second byte
 * must fall in; every later byte is a plain continuation byte 0x80–0xBF.
 *
 * <p>A code point may be split across calls (and so across WebSocket fragments);
 * {@link #isComplete()} tells whether the bytes so far end on a code point boundary.
 */
public final class Utf8Validator {
    /** A validator at the start of a text; for this package's message assembly. */
    Utf8Validator() {
    }

    /** Continuation bytes still expected for the current code point. */
    private int remaining;
    /** Inclusive range allowed for the next byte when {@code remaining > 0}. */
    private int low = 0x80;
    private int high = 0xBF;

    /**
     * Checks {@code length} bytes starting at {@code offset}.
     *
     * @return the index of the first invalid byte, or -1 if all are acceptable so far
     */
    int accept(byte[] bytes, int offset, int length) {
        int end = offset + length;
        int i = offset;
        while (i < end) {
            if (remaining == 0) {
                // Fast path: runs of ASCII, eight bytes at a time.
                while (i + 8 <= end && (readLong(bytes, i) & 0x8080_8080_8080_8080L) == 0) {
                    i += 8;
                }
                if (i == end) {
                    break;
                }
                int b = bytes[i] & 0xFF;
                if (b < 0x80) {
                    i++;
                    continue;
                }
                if (!startSequence(b)) {
                    return i;
                }
            } else {
                int b = bytes[i] & 0xFF;
                if (b < low || b > high) {
                    return i;
                }
                remaining--;
                low = 0x80;
                high = 0xBF;
            }
            i++;
        }
        return -1;
    }

    /** Whether everything accepted so far ends on a code point boundary. */
    boolean isComplete() {
        return remaining == 0;
    }

    /** Forgets any partial code point, to validate a new message. */
    void reset() {
        remaining = 0;
        low = 0x80;
        high = 0xBF;
    }

    /**
     * Whether the given bytes are, on their own, complete and valid UTF-8 (RFC 3629; RFC 6455 §8.1).
     *
     * @param bytes  holds the bytes
     * @param offset where they start
     * @param length how many there are
     * @return true if they are
     */
    public static boolean isValid(byte[] bytes, int offset, int length) {
        Utf8Validator validator = new Utf8Validator();
        return validator.accept(bytes, offset, length) < 0 && validator.isComplete();
    }

    /**
     * Where a chunk of a byte stream can be cut without splitting a code point:
     * the length of the longest prefix that does not end inside a sequence that
     * could still be completed by bytes to come. Used to avoid sending half a
     * character in one message and the rest in the next.
     *
     * @param bytes  holds the chunk
     * @param offset where it starts
     * @param length its length
     * @return a length from {@code length - 3} to {@code length}
     */
    public static int completePrefixLength(byte[] bytes, int offset, int length) {
        int end = offset + length;
        // A sequence is at most 4 bytes, so only the last 3 can start an unfinished one.
        for (int back = 1; back <= 3 && back <= length; back++) {
            int b = bytes[end - back] & 0xFF;
            if (b < 0x80) {
                return length; // ASCII: nothing unfinished after it
            }
            if (b >= 0xC2 && b <= 0xF4) { // a lead byte
                int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return needed > back ? length - back : length;
            }
            if (b >= 0xC0) {
                return length; // never a lead byte: nothing can complete it
            }
            // a continuation byte: keep looking back for its lead
        }
        return length;
    }

    private boolean startSequence(int lead) {
        // Unicode table 3-7: well-formed UTF-8 byte sequences.
        if (lead >= 0xC2 && lead <= 0xDF) {
            expect(1, 0x80, 0xBF);
        } else if (lead == 0xE0) {
            expect(2, 0xA0, 0xBF); // no overlong 3-byte forms
        } else if (lead == 0xED) {
            expect(2, 0x80, 0x9F); // no surrogates U+D800–U+DFFF
        } else if (lead >= 0xE1 && lead <= 0xEF) {
            expect(2, 0x80, 0xBF);
        } else if (lead == 0xF0) {
            expect(3, 0x90, 0xBF); // no overlong 4-byte forms
        } else if (lead >= 0xF1 && lead <= 0xF3) {
            expect(3, 0x80, 0xBF);
        } else if (lead == 0xF4) {
            expect(3, 0x80, 0x8F); // nothing above U+10FFFF
        } else {
            return false; // 0x80–0xC1 (stray continuation, overlong 2-byte) and 0xF5–0xFF
        }
        return true;
    }

    private void expect(int count, int nextLow, int nextHigh) {
        remaining = count;
        low = nextLow;
        high = nextHigh;
    }

    private static long readLong(byte[] b, int i) {
        return ByteArrays.readLong(b, i);
    }
}
