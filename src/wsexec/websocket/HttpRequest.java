package wsexec.websocket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The head of an HTTP/1.1 request (RFC 9112 §3, §5): request line and header
 * fields, as the opening handshake needs them. Header names compare without
 * regard to case; a name may appear more than once.
 *
 * @param method  the request method, e.g. {@code GET}
 * @param target  the request target, path and query, e.g. {@code /exec?token=abc}
 * @param version the protocol version, e.g. {@code HTTP/1.1}
 * @param headers the header fields in the order they came
 */
public record HttpRequest(String method, String target, String version, List<Header> headers) {

    /**
     * One header field (RFC 9112 §5).
     *
     * @param name  the field name as sent
     * @param value the field value, without leading and trailing whitespace
     */
    public record Header(String name, String value) {
    }

    /** At most this many header fields (RFC 6455 leaves it to the server; 100 is common). */
    public static final int MAX_HEADERS = 100;

    /**
     * The first value of a header.
     *
     * @param name a field name, any case
     * @return the value, or null when the header is absent
     */
    public String header(String name) {
        for (Header h : headers) {
            if (h.name.equalsIgnoreCase(name)) {
                return h.value;
            }
        }
        return null;
    }

    /**
     * All values of a header that may be repeated, split at commas and trimmed (RFC 9110 §5.6.1 lists).
     *
     * @param name a field name, any case
     * @return the tokens in lower case, in order; empty when the header is absent
     */
    public List<String> headerTokens(String name) {
        List<String> tokens = new ArrayList<>();
        for (Header h : headers) {
            if (h.name.equalsIgnoreCase(name)) {
                for (String part : h.value.split(",")) {
                    String token = part.trim();
                    if (!token.isEmpty()) {
                        tokens.add(token.toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
        return tokens;
    }

    /**
     * How many times a header appears.
     *
     * @param name a field name, any case
     * @return zero or more
     */
    public int headerCount(String name) {
        int count = 0;
        for (Header h : headers) {
            if (h.name.equalsIgnoreCase(name)) {
                count++;
            }
        }
        return count;
    }

    /**
     * The path part of the request target.
     *
     * @return what comes before any '?'
     */
    public String path() {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    /**
     * The query part of the request target.
     *
     * @return what comes after '?', or "" when there is none
     */
    public String query() {
        int q = target.indexOf('?');
        return q < 0 ? "" : target.substring(q + 1);
    }

    /**
     * Parses a request head: everything up to, not including, the blank line
     * that ends it. Bytes are read as ISO-8859-1, as RFC 9110 §5.5 allows.
     *
     * @param head   the head's bytes, as {@link Handshake#readHead} returns them
     * @param length how many of them to parse
     * @return the request
     * @throws HandshakeException 400 for a malformed request line or header line, 431 for more
     *                            than {@link #MAX_HEADERS} header fields
     */
    public static HttpRequest parse(byte[] head, int length) throws HandshakeException {
        String text = new String(head, 0, length, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n", -1);
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3 || requestLine[0].isEmpty() || requestLine[1].isEmpty()) {
            throw new HandshakeException(400, "malformed request line");
        }
        if (!requestLine[2].startsWith("HTTP/")) {
            throw new HandshakeException(400, "not an HTTP request");
        }
        if (lines.length - 1 > MAX_HEADERS) {
            throw new HandshakeException(431, "more than " + MAX_HEADERS + " header fields");
        }
        List<Header> headers = new ArrayList<>(lines.length - 1);
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            // RFC 9112 §5.2: obsolete line folding is refused; §5.1: no space before the colon
            if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t' || line.charAt(colon - 1) == ' ') {
                throw new HandshakeException(400, "malformed header line");
            }
            headers.add(new Header(line.substring(0, colon), line.substring(colon + 1).trim()));
        }
        return new HttpRequest(requestLine[0], requestLine[1], requestLine[2], List.copyOf(headers));
    }
}
