package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Utf8ValidatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "plain ascii text, long enough for the eight-byte path", "κόσμε", "日本語", "😀 emoji",
            "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\ud800\udc00", "\udbff\udfff"})
    void acceptsWellFormedText(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertTrue(Utf8Validator.isValid(bytes, 0, bytes.length));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "c0 80",          // overlong NUL
            "c1 bf",          // overlong 2-byte
            "e0 80 80",       // overlong 3-byte
            "e0 9f bf",       // overlong 3-byte, the highest
            "f0 80 80 80",    // overlong 4-byte
            "f0 8f bf bf",
            "ed a0 80",       // U+D800, a surrogate
            "ed bf bf",       // U+DFFF
            "f4 90 80 80",    // U+110000, above the last code point
            "f5 80 80 80",
            "ff",
            "80",             // stray continuation byte
            "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64", // valid prefix, then a surrogate
            "41 c3",          // ends inside a sequence
    })
    void refusesMalformedText(String hex) {
        byte[] bytes = Hex.bytes(hex);
        assertFalse(Utf8Validator.isValid(bytes, 0, bytes.length), hex);
    }

    @Test
    void failsAtTheFirstInvalidByte() {
        byte[] bytes = Hex.bytes("ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65");
        assertEquals(12, new Utf8Validator().accept(bytes, 0, bytes.length), "the byte after ED that makes a surrogate");
    }

    @Test
    void aCodePointMayBeSplitAcrossPieces() {
        byte[] bytes = "a😀b".getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= bytes.length; cut++) {
            Utf8Validator validator = new Utf8Validator();
            assertEquals(-1, validator.accept(bytes, 0, cut));
            assertEquals(-1, validator.accept(bytes, cut, bytes.length - cut));
            assertTrue(validator.isComplete());
        }
    }

    @Test
    void completePrefixStopsBeforeAnUnfinishedCharacter() {
        byte[] euro = "a€".getBytes(StandardCharsets.UTF_8); // 61 e2 82 ac
        assertEquals(4, Utf8Validator.completePrefixLength(euro, 0, 4));
        assertEquals(1, Utf8Validator.completePrefixLength(euro, 0, 3));
        assertEquals(1, Utf8Validator.completePrefixLength(euro, 0, 2));
        assertEquals(1, Utf8Validator.completePrefixLength(euro, 0, 1));
        byte[] binary = Hex.bytes("00 ff 80");
        assertEquals(3, Utf8Validator.completePrefixLength(binary, 0, 3), "no lead byte waits for more: nothing to hold back");
    }
}
