package wsexec.websocket;

import java.util.HexFormat;

/** Frames written as hex, the way RFC 6455 §5.7 prints them. */
final class Hex {
    private Hex() {
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static String of(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }
}
