package wsexec.websocket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Deflater;

/**
 * The permessage-deflate extension, RFC 7692: the server's side of its negotiation (§5, §7.1) and
 * the compression of outgoing messages (§7.2.1). Inflating incoming messages is {@link MessageInflater}.
 *
 * <p><b>Memory.</b> A zlib stream costs native memory: about 270 KiB for a {@link Deflater} at the
 * default settings, about 40 KiB for an {@link java.util.zip.Inflater} once it has inflated
 * something. Ten thousand idle connections must not hold that. So the server keeps no zlib stream
 * between messages, in either direction: it always answers with {@code server_no_context_takeover}
 * (§7.1.1.1, it may do so on its own) and {@code client_no_context_takeover} (§7.1.1.2, likewise),
 * makes a Deflater for each compressed message it sends and ends it right after, and an Inflater
 * for each compressed message it receives, ended when the message is whole or the connection ends.
 * The cost is the ratio of context takeover across messages, which matters little here: outgoing
 * messages below {@link Settings#threshold} are sent uncompressed anyway, and larger ones (output
 * read from a pipe in chunks of up to 64 KiB) compress well on their own.
 */
public final class PerMessageDeflate {
    private PerMessageDeflate() {
    }

    /** RFC 7692 §7: the extension's registered name. */
    public static final String NAME = "permessage-deflate";

    /** RFC 7692 §7.2.1: the tail of a sync flush, removed from every compressed message and restored before inflating. */
    static final byte[] TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF};

    /** RFC 7692 §7.1.2: the LZ77 window sizes a peer may ask for, as base-2 logarithms. */
    static final int MIN_WINDOW_BITS = 8;
    static final int MAX_WINDOW_BITS = 15;

    /** The RSV bit that marks a compressed message, RFC 7692 §6: "Per-Message Compressed" bit, RSV1. */
    static final int RSV1 = 0b100;

    private static final AtomicInteger LIVE_DEFLATERS = new AtomicInteger();
    private static final AtomicInteger LIVE_INFLATERS = new AtomicInteger();

    /**
     * How the server uses the extension.
     *
     * @param enabled   answer offers at all ({@code --deflate on|off})
     * @param threshold outgoing messages shorter than this many bytes go uncompressed
     *                  ({@code --deflate-threshold}): below a few hundred bytes deflate saves little
     *                  and costs a Deflater's setup
     * @param level     zlib compression level 1–9 ({@code --deflate-level})
     */
    public record Settings(boolean enabled, int threshold, int level) {
        /** On, 256 bytes, level 6 (zlib's own default: level 9 is slower for a few percent, level 1 larger). */
        public static final Settings DEFAULTS = new Settings(true, 256, 6);
        /** Off: offers are not even read, and nothing is compressed. */
        public static final Settings OFF = new Settings(false, 256, 6);

        /**
         * Checks the settings.
         *
         * @throws IllegalArgumentException for a negative threshold or a level outside 1–9
         */
        public Settings {
            if (threshold < 0) {
                throw new IllegalArgumentException("threshold must not be negative");
            }
            if (level < 1 || level > 9) {
                throw new IllegalArgumentException("level must be 1-9");
            }
        }
    }

    /**
     * What both sides agreed to for one connection (RFC 7692 §7.1, the "agreed parameters").
     *
     * @param serverMaxWindowBits the window our back-references must fit in (15 unless the client
     *                            offered {@code server_max_window_bits}); below 15 the Deflater is
     *                            set to Huffman coding only, which makes no back-references at all
     *                            and so is valid under any window (RFC 1951 §3.2.5)
     * @param threshold           outgoing messages shorter than this many bytes go uncompressed
     * @param level               the zlib level of what the server sends
     * @param response            the {@code Sec-WebSocket-Extensions} value to answer with
     */
    public record Agreement(int serverMaxWindowBits, int threshold, int level, String response) {
        /** Whether compressed messages must be made without back-references (see {@link #serverMaxWindowBits}). */
        boolean huffmanOnly() {
            return serverMaxWindowBits < MAX_WINDOW_BITS;
        }
    }

    /** One offered extension: its name and parameters in order, values null where none was given (RFC 6455 §9.1). */
    record Offer(String name, List<Map.Entry<String, String>> parameters) {
    }

    /**
     * RFC 7692 §5: picks the first permessage-deflate offer of the request that the server can
     * honour, across every {@code Sec-WebSocket-Extensions} header in order, and declines the rest
     * (by not naming them in the answer, RFC 6455 §9.1). Null when none can be accepted or the
     * settings are off.
     *
     * @param request  the client's request head
     * @param settings whether and how the server uses the extension
     * @return what was agreed, or null for no compression
     * @throws HandshakeException 400 when a header does not follow the grammar of RFC 6455 §9.1
     */
    public static Agreement negotiate(HttpRequest request, Settings settings) throws HandshakeException {
        if (!settings.enabled()) {
            return null; // as before the extension existed: the header is not even read
        }
        for (HttpRequest.Header header : request.headers()) {
            if (!header.name().equalsIgnoreCase("Sec-WebSocket-Extensions")) {
                continue;
            }
            for (Offer offer : parse(header.value())) {
                if (offer.name().equals(NAME)) {
                    Agreement agreement = accept(offer, settings);
                    if (agreement != null) {
                        return agreement;
                    }
                }
            }
        }
        return null;
    }

    /** RFC 7692 §7.1: the answer to one permessage-deflate offer, or null to decline it. */
    static Agreement accept(Offer offer, Settings settings) {
        Map<String, String> seen = new LinkedHashMap<>();
        for (Map.Entry<String, String> parameter : offer.parameters()) {
            // RFC 7692 §7: decline an offer with "multiple extension parameters with the same name"
            if (seen.containsKey(parameter.getKey())) {
                return null;
            }
            seen.put(parameter.getKey(), parameter.getValue());
        }
        int serverMaxWindowBits = MAX_WINDOW_BITS;
        String clientMaxWindowBits = null;
        for (Map.Entry<String, String> parameter : seen.entrySet()) {
            String value = parameter.getValue();
            switch (parameter.getKey()) {
                // RFC 7692 §7.1.1.1, §7.1.1.2: these two take no value
                case "server_no_context_takeover", "client_no_context_takeover" -> {
                    if (value != null) {
                        return null;
                    }
                }
                // RFC 7692 §7.1.2.1: a value 8–15 is required
                case "server_max_window_bits" -> {
                    if (value == null || !isWindowBits(value)) {
                        return null;
                    }
                    serverMaxWindowBits = Integer.parseInt(value);
                }
                // RFC 7692 §7.1.2.2: no value, or 8–15
                case "client_max_window_bits" -> {
                    if (value != null && !isWindowBits(value)) {
                        return null;
                    }
                    clientMaxWindowBits = value;
                }
                // RFC 7692 §7: decline an offer with "an extension parameter not defined for use in an offer"
                default -> {
                    return null;
                }
            }
        }
        // RFC 7692 §7.1.1.1: sent in every answer (we never keep the compression context; "a server MAY
        // include [it] ... even if the extension negotiation offer ... didn't include [it]"), and it
        // MUST be answered when offered. §7.1.1.2: likewise client_no_context_takeover lets the server
        // drop its Inflater between messages, offered or not.
        StringBuilder response = new StringBuilder(NAME).append("; server_no_context_takeover; client_no_context_takeover");
        if (seen.containsKey("server_max_window_bits")) {
            // RFC 7692 §7.1.2.1: an offered server_max_window_bits MUST be answered with a value no larger;
            // the same value, honoured by compressing without back-references when it is below 15
            response.append("; server_max_window_bits=").append(serverMaxWindowBits);
        }
        if (clientMaxWindowBits != null) {
            // RFC 7692 §7.1.2.2: answered only when offered; any window up to 15 inflates, so the client's own value
            response.append("; client_max_window_bits=").append(clientMaxWindowBits);
        }
        return new Agreement(serverMaxWindowBits, settings.threshold(), settings.level(), response.toString());
    }

    /** RFC 7692 §7.1.2.1: "a decimal integer value without leading zeroes between 8 and 15, inclusive". */
    private static boolean isWindowBits(String value) {
        if (value.isEmpty() || value.length() > 2 || value.charAt(0) == '0') {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false;
            }
        }
        int bits = Integer.parseInt(value);
        return bits >= MIN_WINDOW_BITS && bits <= MAX_WINDOW_BITS;
    }

    /**
     * Parses one {@code Sec-WebSocket-Extensions} value, RFC 6455 §9.1:
     * <pre>
     * extension-list = 1#extension
     * extension      = extension-token *( ";" extension-param )
     * extension-param = token [ "=" (token | quoted-string) ]
     * </pre>
     * A quoted value must be a token once unquoted (§9.1). Empty list elements are skipped (RFC 9110 §5.6.1).
     *
     * @throws HandshakeException 400 for anything else
     */
    static List<Offer> parse(String value) throws HandshakeException {
        List<Offer> offers = new ArrayList<>();
        Cursor c = new Cursor(value);
        while (true) {
            c.skipWhitespace();
            if (c.atEnd()) {
                return offers;
            }
            if (c.peek() == ',') {
                c.next(); // an empty list element
                continue;
            }
            String name = c.token("extension name");
            List<Map.Entry<String, String>> parameters = new ArrayList<>();
            c.skipWhitespace();
            while (!c.atEnd() && c.peek() == ';') {
                c.next();
                c.skipWhitespace();
                String parameter = c.token("extension parameter");
                c.skipWhitespace();
                String parameterValue = null;
                if (!c.atEnd() && c.peek() == '=') {
                    c.next();
                    c.skipWhitespace();
                    parameterValue = !c.atEnd() && c.peek() == '"' ? c.quotedToken() : c.token("parameter value");
                    c.skipWhitespace();
                }
                parameters.add(new java.util.AbstractMap.SimpleImmutableEntry<>(parameter, parameterValue));
            }
            offers.add(new Offer(name, List.copyOf(parameters)));
            if (!c.atEnd()) {
                if (c.peek() != ',') {
                    throw malformed("unexpected '" + c.peek() + "'");
                }
                c.next();
            }
        }
    }

    private static HandshakeException malformed(String why) {
        return new HandshakeException(400, "malformed Sec-WebSocket-Extensions header: " + why);
    }

    /** Reads a header value left to right. */
    private static final class Cursor {
        private final String text;
        private int i;

        Cursor(String text) {
            this.text = text;
        }

        boolean atEnd() {
            return i >= text.length();
        }

        char peek() {
            return text.charAt(i);
        }

        char next() {
            return text.charAt(i++);
        }

        void skipWhitespace() {
            while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
                i++;
            }
        }

        /** RFC 9110 §5.6.2: token = 1*tchar. */
        String token(String what) throws HandshakeException {
            int start = i;
            while (!atEnd() && isTokenChar(peek())) {
                i++;
            }
            if (i == start) {
                throw malformed(atEnd() ? "missing " + what : "expected " + what + " at '" + peek() + "'");
            }
            return text.substring(start, i);
        }

        /** RFC 9110 §5.6.4 quoted-string, whose content RFC 6455 §9.1 requires to be a token. */
        String quotedToken() throws HandshakeException {
            next(); // the opening quote
            StringBuilder unquoted = new StringBuilder();
            while (true) {
                if (atEnd()) {
                    throw malformed("unterminated quoted string");
                }
                char ch = next();
                if (ch == '"') {
                    break;
                }
                if (ch == '\\') {
                    if (atEnd()) {
                        throw malformed("unterminated quoted string");
                    }
                    ch = next();
                }
                unquoted.append(ch);
            }
            String value = unquoted.toString();
            if (value.isEmpty() || !value.chars().allMatch(ch -> isTokenChar((char) ch))) {
                throw malformed("a quoted parameter value must be a token");
            }
            return value;
        }

        private static boolean isTokenChar(char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(ch) >= 0;
        }
    }

    // ------------------------------------------------------------------ outgoing messages

    /** A compressed payload in {@code array}, starting at {@link WebSocket#HEADROOM}. */
    record Compressed(byte[] array, int length) {
    }

    /**
     * RFC 7692 §7.2.1: compresses one message's payload with a Deflater of its own (no context
     * from earlier messages: see the class comment), flushed with a sync flush, the final
     * {@code 00 00 ff ff} removed. Returns null when that is not smaller than the payload (the
     * message then goes uncompressed, which §6 allows for any message).
     */
    static Compressed compress(Agreement agreement, byte[] payload, int offset, int length) {
        Compressed compressed = deflate(agreement, payload, offset, length, length);
        return compressed == null || compressed.length() >= length ? null : compressed;
    }

    /**
     * The DEFLATE data of one message, RFC 7692 §7.2.1, or null once it is known to be longer
     * than {@code giveUpAfter} bytes.
     */
    static Compressed deflate(Agreement agreement, byte[] payload, int offset, int length, int giveUpAfter) {
        Deflater deflater = newDeflater(agreement.level(), agreement.huffmanOnly());
        try {
            byte[] out = new byte[WebSocket.HEADROOM + Math.max(64, length / 2)];
            int produced = WebSocket.HEADROOM;
            // A strategy set on a Deflater takes effect in its next deflate call, which then only
            // applies it and returns: make that call now, while there is no input to hold back.
            deflater.deflate(out, produced, out.length - produced, Deflater.NO_FLUSH);
            deflater.setInput(payload, offset, length);
            while (true) {
                int room = out.length - produced;
                int n = deflater.deflate(out, produced, room, Deflater.SYNC_FLUSH);
                produced += n;
                // Deflater: with SYNC_FLUSH, a full output buffer means there may be more to come
                if (n < room && deflater.needsInput()) {
                    break;
                }
                if (produced - WebSocket.HEADROOM - TAIL.length > giveUpAfter) {
                    return null;
                }
                out = java.util.Arrays.copyOf(out, out.length + Math.max(64, out.length / 2));
            }
            // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end";
            // a sync flush always ends with that empty stored block
            if (produced - WebSocket.HEADROOM < TAIL.length || !endsWithTail(out, produced)) {
                throw new IllegalStateException("a sync flush did not end with 00 00 ff ff");
            }
            return new Compressed(out, produced - WebSocket.HEADROOM - TAIL.length);
        } finally {
            end(deflater);
        }
    }

    private static boolean endsWithTail(byte[] out, int end) {
        for (int i = 0; i < TAIL.length; i++) {
            if (out[end - TAIL.length + i] != TAIL[i]) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ native memory accounting

    /**
     * zlib streams (Deflaters and Inflaters) made by this package and not yet ended: each holds
     * native memory until then. Zero whenever no compressed message is being sent or received.
     *
     * @return the number of streams, for {@code /metrics} and leak tests
     */
    public static int liveZlibStreams() {
        return LIVE_DEFLATERS.get() + LIVE_INFLATERS.get();
    }

    /** RFC 7692 §7.2.1 uses raw DEFLATE (RFC 1951), no zlib header: {@code nowrap}. */
    private static Deflater newDeflater(int level, boolean huffmanOnly) {
        Deflater deflater = new Deflater(level, true);
        LIVE_DEFLATERS.incrementAndGet();
        if (huffmanOnly) {
            deflater.setStrategy(Deflater.HUFFMAN_ONLY);
        }
        return deflater;
    }

    private static void end(Deflater deflater) {
        deflater.end();
        LIVE_DEFLATERS.decrementAndGet();
    }

    static java.util.zip.Inflater newInflater() {
        java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
        LIVE_INFLATERS.incrementAndGet();
        return inflater;
    }

    static void end(java.util.zip.Inflater inflater) {
        inflater.end();
        LIVE_INFLATERS.decrementAndGet();
    }
}
