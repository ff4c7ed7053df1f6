package wsexec.websocket;

import java.nio.ByteBuffer;

/**
 * SHA-1 (FIPS 180-4 §6.1), for the one thing RFC 6455 hashes: the handshake's
 * {@code Sec-WebSocket-Accept} value (§1.3, §4.2.2 step 5.4).
 *
 * <p>Why not {@code MessageDigest.getInstance("SHA-1")}: the JDK finds that digest through its
 * security-provider framework, and the first lookup in a process reads {@code java.security},
 * registers the providers and seeds their random sources. Measured on JDK 25, that first lookup
 * took 19–22 ms with an AOT cache and 36–45 ms without, all of it paid by the first client a
 * freshly started server answers. This class is the same function in a few dozen lines, checked
 * against {@code MessageDigest} in the tests.
 *
 * <p>The accept value is not a security measure: it only proves that the server read the
 * handshake (§1.3), so SHA-1's known collision weakness does not matter here. Use it for
 * nothing else. Words are big-endian throughout (FIPS 180-4 §3.1), as {@code ByteBuffer}'s are.
 */
final class Sha1 {
    /** FIPS 180-4 §5.3.1: the initial hash value H(0). */
    private static final int[] INITIAL_HASH = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    private static final int BLOCK_BYTES = 64;

    private Sha1() {
    }

    /** The 20-byte SHA-1 digest of {@code message}. */
    public static byte[] digest(byte[] message) {
        int[] hash = INITIAL_HASH.clone();
        int[] schedule = new int[80];
        byte[] padded = pad(message);
        for (int block = 0; block < padded.length; block += BLOCK_BYTES) {
            compress(hash, schedule, padded, block);
        }
        ByteBuffer digest = ByteBuffer.allocate(20);
        for (int word : hash) {
            digest.putInt(word);
        }
        return digest.array();
    }

    /**
     * §5.1.1: the message, one 1 bit (the byte 0x80), zero bytes up to 8 bytes short of a
     * multiple of 64, then the message length in bits as a 64-bit big-endian number.
     */
    private static byte[] pad(byte[] message) {
        int length = (message.length + 1 + 8 + BLOCK_BYTES - 1) / BLOCK_BYTES * BLOCK_BYTES;
        byte[] padded = new byte[length];
        System.arraycopy(message, 0, padded, 0, message.length);
        padded[message.length] = (byte) 0b1000_0000;
        ByteBuffer.wrap(padded).putLong(length - 8, (long) message.length * 8);
        return padded;
    }

    /** §6.1.2: one 512-bit block into the running hash. */
    private static void compress(int[] hash, int[] w, byte[] bytes, int offset) {
        // step 1: the message schedule W0..W79
        ByteBuffer block = ByteBuffer.wrap(bytes, offset, BLOCK_BYTES);
        for (int t = 0; t < 16; t++) {
            w[t] = block.getInt();
        }
        for (int t = 16; t < 80; t++) {
            w[t] = Integer.rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        }
        // steps 2 and 3: the working variables a..e, eighty rounds with §4.1.1's f and §4.2.1's K
        int a = hash[0], b = hash[1], c = hash[2], d = hash[3], e = hash[4];
        for (int t = 0; t < 80; t++) {
            int f;
            int k;
            if (t < 20) {
                f = (b & c) | (~b & d);           // Ch
                k = 0x5A827999;
            } else if (t < 40) {
                f = b ^ c ^ d;                    // Parity
                k = 0x6ED9EBA1;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);  // Maj
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;                    // Parity
                k = 0xCA62C1D6;
            }
            int temp = Integer.rotateLeft(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = Integer.rotateLeft(b, 30);
            b = a;
            a = temp;
        }
        // step 4: the intermediate hash value H(i)
        hash[0] += a;
        hash[1] += b;
        hash[2] += c;
        hash[3] += d;
        hash[4] += e;
    }
}
