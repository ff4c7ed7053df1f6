package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Our SHA-1 against FIPS 180's examples and the JDK's own digest. */
class Sha1Test {

    private static String hex(String message) {
        return HexFormat.of().formatHex(Sha1.digest(message.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void fipsExamples() {
        // FIPS 180 examples (one block, two blocks) and the empty message
        assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", hex("abc"));
        assertEquals("84983e441c3bd26ebaae4aa1f95129e5e54670f1", hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
        assertEquals("da39a3ee5e6b4b0d3255bfef95601890afd80709", hex(""));
        assertEquals("34aa973cd4c4daa4f61eeb2bdbad27316534016f", hex("a".repeat(1_000_000)));
    }

    /** Every length across the padding boundaries (55/56/63/64 bytes and their multiples). */
    @Test
    void matchesTheJdkDigestAtEveryLengthUpToFiveBlocks() throws Exception {
        Random random = new Random(6455);
        MessageDigest jdk = MessageDigest.getInstance("SHA-1");
        for (int length = 0; length <= 5 * 64; length++) {
            byte[] message = new byte[length];
            random.nextBytes(message);
            assertArrayEquals(jdk.digest(message), Sha1.digest(message), "length " + length);
        }
    }

    @Test
    void theRfcHandshakeExample() {
        // RFC 6455 §1.3
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Handshake.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
    }
}
