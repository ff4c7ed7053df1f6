package wsexec.websocket;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The server side of the opening handshake, RFC 6455 §4.2.
 *
 * <p>{@link #readHead} collects the request head off the wire within a size
 * bound; {@link HttpRequest#parse} turns it into fields; {@link #accept} checks
 * it against §4.2.1 and computes the {@code Sec-WebSocket-Accept} value; the
 * response helpers write the answer. Any failure is a {@link HandshakeException}
 * with the HTTP status to answer with.
 */
public final class Handshake {
    private Handshake() {
    }

    /** §1.3: the GUID appended to the client's key before hashing. */
    static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** The only {@code Sec-WebSocket-Version} this server speaks, §4.1 and §4.4. */
    public static final String VERSION = "13";

    /** Default bound, in bytes, on the request head: request line and header fields together. */
    public static final int MAX_HEAD_BYTES = 8 * 1024;

    /**
     * Reads a request head up to the blank line that ends it (RFC 9112 §2.1) and
     * returns its bytes without that blank line. Reads byte by byte, so nothing
     * after the head is consumed: give it a buffered stream and keep reading
     * frames from that same stream.
     *
     * @param in       the connection's input, best buffered
     * @param maxBytes the most bytes the head may have
     * @return the head's bytes, ISO-8859-1 text, without the blank line that ends it
     * @throws IOException        when reading fails
     * @throws HandshakeException 431 when the head is longer than {@code maxBytes}
     * @throws EOFException       when the peer closes before the head is complete
     */
    public static byte[] readHead(InputStream in, int maxBytes) throws IOException, HandshakeException {
        byte[] head = new byte[Math.min(maxBytes, 1024)];
        int length = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException(length == 0 ? "connection closed before a request" : "connection closed inside the request head");
            }
            if (length == maxBytes) {
                throw new HandshakeException(431, "request head larger than " + maxBytes + " bytes");
            }
            if (length == head.length) {
                head = java.util.Arrays.copyOf(head, Math.min(maxBytes, head.length * 2));
            }
            head[length++] = (byte) b;
            if (length >= 4 && head[length - 4] == '\r' && head[length - 3] == '\n' && head[length - 2] == '\r' && b == '\n') {
                return java.util.Arrays.copyOf(head, length - 4);
            }
            if (length == 2 && head[0] == '\r' && b == '\n') {
                length = 0; // RFC 9112 §2.2: a server SHOULD ignore an empty line before the request line
            }
        }
    }

    /**
     * Whether a request asks to upgrade at all (it names an {@code Upgrade} or carries a
     * {@code Sec-WebSocket-Key}); otherwise it is plain HTTP and {@link #accept} would refuse it.
     *
     * @param request a parsed request head
     * @return true for a request that is meant as an opening handshake, valid or not
     */
    public static boolean isUpgradeRequest(HttpRequest request) {
        return request.header("Upgrade") != null || request.header("Sec-WebSocket-Key") != null;
    }

    /**
     * Checks the client's opening handshake, §4.2.1, and returns the value of the
     * {@code Sec-WebSocket-Accept} header to answer with (§4.2.2 step 5.4).
     *
     * @param request a parsed request head
     * @return the {@code Sec-WebSocket-Accept} value: base64(SHA-1(key + GUID)), §1.3
     * @throws HandshakeException 400 for a request that breaks §4.2.1, 426 (with
     *                            {@code Sec-WebSocket-Version: 13}) for another version, §4.4
     */
    public static String accept(HttpRequest request) throws HandshakeException {
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request"
        if (!request.method().equals("GET")) {
            throw new HandshakeException(400, "the opening handshake must be a GET request");
        }
        if (!isHttp11OrHigher(request.version())) {
            throw new HandshakeException(400, "the opening handshake needs HTTP/1.1 or higher");
        }
        // item 2: "A |Host| header field"
        if (request.headerCount("Host") != 1 || request.header("Host").isEmpty()) {
            throw new HandshakeException(400, "missing or repeated Host header");
        }
        // item 3: "An |Upgrade| header field containing the value "websocket"", ASCII case-insensitive
        if (!request.headerTokens("Upgrade").contains("websocket")) {
            throw new HandshakeException(400, "Upgrade header does not name websocket");
        }
        // item 4: "A |Connection| header field that includes the token "Upgrade""
        if (!request.headerTokens("Connection").contains("upgrade")) {
            throw new HandshakeException(400, "Connection header does not include the upgrade token");
        }
        // item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded value that, when decoded, is 16 bytes in length"
        String key = request.header("Sec-WebSocket-Key");
        if (key == null || request.headerCount("Sec-WebSocket-Key") != 1 || !isValidKey(key)) {
            throw new HandshakeException(400, "Sec-WebSocket-Key is missing or does not decode to 16 bytes");
        }
        // item 6 and §4.4: a version we do not speak gets 426 and the versions we do
        if (!VERSION.equals(request.header("Sec-WebSocket-Version"))) {
            throw new HandshakeException(426, "Sec-WebSocket-Version must be 13", Map.of("Sec-WebSocket-Version", VERSION));
        }
        return acceptKey(key);
    }

    /** §1.3 and §4.2.2: base64(SHA-1(key + GUID)). */
    static String acceptKey(String key) {
        return Base64.getEncoder().encodeToString(Sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * §4.2.2 step 5: the 101 answer that completes the handshake.
     *
     * @param acceptValue what {@link #accept} returned
     * @return the response head, ASCII
     */
    public static byte[] switchingProtocols(String acceptValue) {
        return switchingProtocols(acceptValue, null, null);
    }

    /**
     * The same, naming the extensions the server accepted (§9.1, §4.2.2 step 5.5); none, and no
     * {@code Sec-WebSocket-Extensions} header, when {@code extensions} is null.
     *
     * @param acceptValue what {@link #accept} returned
     * @param extensions  the {@code Sec-WebSocket-Extensions} value, or null
     * @return the response head, ASCII
     */
    public static byte[] switchingProtocols(String acceptValue, String extensions) {
        return switchingProtocols(acceptValue, extensions, null);
    }

    /**
     * The same, also naming the subprotocol the server chose (§4.2.2 step 5.4, §11.3.4); no
     * {@code Sec-WebSocket-Protocol} header when {@code subprotocol} is null.
     *
     * @param acceptValue what {@link #accept} returned
     * @param extensions  the {@code Sec-WebSocket-Extensions} value, or null
     * @param subprotocol one of the client's offered subprotocols ({@link #subprotocol}), or null
     * @return the response head, ASCII
     */
    public static byte[] switchingProtocols(String acceptValue, String extensions, String subprotocol) {
        return ("HTTP/1.1 101 Switching Protocols\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + acceptValue + "\r\n"
                + (extensions == null ? "" : "Sec-WebSocket-Extensions: " + extensions + "\r\n")
                + (subprotocol == null ? "" : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n")
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * §4.2.2 step 4, /subprotocol/: the first of the server's subprotocols, in the server's order
     * of preference, that the client offered in {@code Sec-WebSocket-Protocol}. Null when the
     * client offered none of them: the server then names none, and the client decides whether
     * to go on (§4.1). Subprotocol names are compared exactly (§11.3.4: case-sensitive tokens).
     *
     * @param request   the client's request head
     * @param supported the subprotocols the server speaks, most preferred first; may be empty
     * @return the chosen subprotocol, or null
     */
    public static String subprotocol(HttpRequest request, List<String> supported) {
        List<String> offered = new java.util.ArrayList<>();
        for (HttpRequest.Header header : request.headers()) {
            if (header.name().equalsIgnoreCase("Sec-WebSocket-Protocol")) {
                for (String token : header.value().split(",")) {
                    offered.add(token.strip());
                }
            }
        }
        for (String candidate : supported) {
            if (offered.contains(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * An HTTP error answer with a one-line plain-text reason; the connection closes after it
     * (§4.2.1: "the server MUST stop processing the client's handshake and return an HTTP
     * response with an appropriate error code").
     *
     * @param e the refusal: its status, message and extra headers make the answer
     * @return the whole response, head and body
     */
    public static byte[] errorResponse(HandshakeException e) {
        return response(e.status(), "text/plain; charset=utf-8", (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8), e.headers());
    }

    /**
     * A complete HTTP/1.1 response (RFC 9112) that closes the connection after its body.
     *
     * @param status      the status code; the reason phrase is the RFC 9110 one
     * @param contentType the {@code Content-Type} value
     * @param body        the body, sent with its {@code Content-Length}
     * @param headers     more header fields, in iteration order
     * @return the whole response, head and body
     */
    public static byte[] response(int status, String contentType, byte[] body, Map<String, String> headers) {
        StringBuilder head = new StringBuilder(160)
                .append("HTTP/1.1 ").append(status).append(' ').append(reasonPhrase(status)).append("\r\n")
                .append("Content-Type: ").append(contentType).append("\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n")
                .append("Connection: close\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = java.util.Arrays.copyOf(headBytes, headBytes.length + body.length);
        System.arraycopy(body, 0, out, headBytes.length, body.length);
        return out;
    }

    /** RFC 9110 §15 reason phrases for the statuses a WebSocket server answers with. */
    static String reasonPhrase(int status) {
        return switch (status) {
            case 101 -> "Switching Protocols";
            case 200 -> "OK";
            case 301 -> "Moved Permanently";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 421 -> "Misdirected Request";
            case 426 -> "Upgrade Required";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status " + status;
        };
    }

    private static boolean isHttp11OrHigher(String version) {
        if (!version.startsWith("HTTP/")) {
            return false;
        }
        String[] parts = version.substring(5).split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major > 1 || (major == 1 && minor >= 1);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isValidKey(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
