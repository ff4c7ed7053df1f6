package wsexec.websocket;

/**
 * The client-to-server masking of RFC 6455 §5.3: octet i of the payload is
 * XORed with octet (i modulo 4) of the 32-bit masking key. Applying it twice
 * gives back the original, so one method both masks and unmasks.
 */
final class Masking {
    private Masking() {
    }

    /**
     * XORs {@code length} bytes in place with the masking key, starting at key
     * octet {@code keyIndex} (a payload may arrive in pieces: the piece that
     * starts at payload offset {@code n} uses key octet {@code n % 4}).
     *
     * @param key the four key octets, first octet in the most significant byte
     * @return the key index for the byte after the last one masked
     */
    public static int apply(byte[] bytes, int offset, int length, int key, int keyIndex) {
        int i = offset;
        int end = offset + length;
        // Bring the key in line with this piece: rotate so its first byte is octet keyIndex.
        int rotated = Integer.rotateLeft(key, 8 * (keyIndex & 3));
        // Eight bytes at a time: the key repeated twice, in memory (little-endian) order.
        long wide = Integer.toUnsignedLong(Integer.reverseBytes(rotated));
        wide |= wide << 32;
        while (i + 8 <= end) {
            ByteArrays.writeLong(bytes, i, ByteArrays.readLong(bytes, i) ^ wide);
            i += 8;
        }
        // The rest, one octet at a time; i - offset is a multiple of 8, so octet 0 of rotated is next.
        int octet = 0;
        while (i < end) {
            bytes[i] ^= (byte) (rotated >>> (24 - 8 * octet));
            octet = (octet + 1) & 3;
            i++;
        }
        return (keyIndex + length) & 3;
    }
}
