package wsexec.server;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

import wsexec.websocket.FrameHeader;
import wsexec.websocket.FrameObserver;
import wsexec.websocket.Opcode;
import wsexec.common.Log;
import wsexec.websocket.Handshake;

/**
 * What {@code --trace} prints, and the frame counting behind {@code /metrics}: one
 * {@link FrameObserver} per connection. Counting is a few additions per frame; the text is only
 * made when tracing is on.
 *
 * <p>A frame is one line, e.g. for the masked "Hello" of RFC 6455 §5.7:
 * <pre>
 * 127.0.0.1:50412 C->S FIN=1 RSV=000 TEXT   MASK=1 key=37fa213d len=5 (7-bit) "Hello"
 * </pre>
 * Direction ({@code C->S} client to server, {@code S->C} server to client), the FIN bit, the
 * three RSV bits, the opcode's name, the MASK bit and masking key, the payload length and the
 * encoding the length used (7-bit, 16-bit or 64-bit, §5.2), then the start of the payload: quoted
 * for text (and continuations of text), code and reason for Close, hex for everything else — also
 * for the frames of a compressed message (RFC 7692, RSV1 on its first frame), which are followed by
 * one line {@code S->C compressed 1000→11 bytes} (or {@code C->S inflated 11→1000 bytes}).
 * Handshake heads are printed line by line with any token replaced by {@code <redacted>}.
 */
final class Trace implements FrameObserver {
    /** Payload bytes shown of each frame. */
    static final int PREVIEW_BYTES = 64;

    private static final Pattern TOKEN_PARAMETER = Pattern.compile("([?&]token=)[^&\\s#]*");
    private static final HexFormat HEX = HexFormat.of();

    private final Metrics metrics;
    private final Server.Peer peer;
    private final boolean tracing;
    // The type of the data message each side is in the middle of, to show continuations as text or hex.
    private Opcode messageIn;
    private Opcode messageOut;
    // Whether that message is compressed (RFC 7692): its payload is then shown as hex.
    private boolean compressedIn;
    private boolean compressedOut;

    /**
     * @param peer    the connection; may be null when not tracing
     * @param tracing print each frame; otherwise only count (such a Trace keeps no state of its own
     *                and may be shared by every connection)
     */
    Trace(Metrics metrics, Server.Peer peer, boolean tracing) {
        this.metrics = metrics;
        this.peer = peer;
        this.tracing = tracing;
    }

    @Override
    public int previewLimit() {
        return tracing ? PREVIEW_BYTES : 0; // counting needs only the header
    }

    @Override
    public void frame(boolean outgoing, FrameHeader header, byte[] payload, int offset, int length) {
        long bytes = header.headerLength() + header.payloadLength();
        if (outgoing) {
            metrics.framesOut.increment();
            metrics.bytesOut.add(bytes);
        } else {
            metrics.framesIn.increment();
            metrics.bytesIn.add(bytes);
        }
        if (tracing) {
            Opcode message = messageType(outgoing, header);
            if (compressed(outgoing, header)) {
                message = null; // DEFLATE data: hex, not text
            }
            String line = describe(header, message, payload, offset, Math.min(length, PREVIEW_BYTES));
            Log.trace("frame", java.util.List.of(peer + (outgoing ? " S->C " : " C->S ") + line),
                    "peer", peer.toString(), "direction", outgoing ? "out" : "in");
        }
    }

    /** A compressed message went out or came in (RFC 7692): counted, and traced as one line. */
    @Override
    public void compression(boolean outgoing, long uncompressedLength, long compressedLength) {
        if (outgoing) {
            metrics.deflateOutUncompressed.add(uncompressedLength);
            metrics.deflateOutCompressed.add(compressedLength);
        } else {
            metrics.deflateInUncompressed.add(uncompressedLength);
            metrics.deflateInCompressed.add(compressedLength);
        }
        if (tracing) {
            Log.trace("frame", java.util.List.of(peer + (outgoing ? " S->C " : " C->S ") + (outgoing
                            ? "compressed " + uncompressedLength + "→" + compressedLength
                            : "inflated " + compressedLength + "→" + uncompressedLength) + " bytes"),
                    "peer", peer.toString(), "direction", outgoing ? "out" : "in");
        }
    }

    /** Whether a data frame belongs to a compressed message: RSV1 on its first frame (RFC 7692 §6). */
    private boolean compressed(boolean outgoing, FrameHeader header) {
        if (header.opcode().isControl()) {
            return false;
        }
        boolean compressed = header.opcode() == Opcode.CONTINUATION ? (outgoing ? compressedOut : compressedIn) : (header.rsv() & 0b100) != 0;
        if (outgoing) {
            compressedOut = compressed && !header.fin();
        } else {
            compressedIn = compressed && !header.fin();
        }
        return compressed;
    }

    /** Which data message a frame belongs to (its own opcode, or the one a continuation continues). */
    private Opcode messageType(boolean outgoing, FrameHeader header) {
        Opcode current = outgoing ? messageOut : messageIn;
        Opcode opcode = header.opcode();
        if (opcode.isControl()) {
            return opcode;
        }
        Opcode type = opcode == Opcode.CONTINUATION ? current : opcode;
        Opcode next = header.fin() ? null : type;
        if (outgoing) {
            messageOut = next;
        } else {
            messageIn = next;
        }
        return type;
    }

    /**
     * One frame in words: FIN, RSV, opcode, MASK and key, length and its encoding, payload preview.
     *
     * @param message the data message's type for a continuation (null if unknown)
     */
    static String describe(FrameHeader header, Opcode message, byte[] payload, int offset, int previewLength) {
        StringBuilder b = new StringBuilder(120);
        int rsv = header.rsv();
        b.append("FIN=").append(header.fin() ? 1 : 0)
                .append(" RSV=").append((rsv >> 2) & 1).append((rsv >> 1) & 1).append(rsv & 1)
                .append(' ').append(String.format(Locale.ROOT, "%-6s", header.opcode().name()))
                .append(" MASK=").append(header.masked() ? 1 : 0);
        if (header.masked()) {
            b.append(" key=").append(HEX.toHexDigits(header.maskingKey()));
        }
        b.append(" len=").append(header.payloadLength()).append(" (").append(header.lengthBits()).append("-bit)");
        if (header.payloadLength() == 0) {
            return b.toString();
        }
        boolean cut = previewLength < header.payloadLength();
        b.append(' ');
        if (header.opcode() == Opcode.CLOSE && previewLength >= 2) {
            b.append("code=").append(((payload[offset] & 0xFF) << 8) | (payload[offset + 1] & 0xFF));
            if (previewLength > 2) {
                b.append(' ');
                quoted(b, new String(payload, offset + 2, previewLength - 2, StandardCharsets.UTF_8));
            }
        } else if (message == Opcode.TEXT) {
            quoted(b, new String(payload, offset, previewLength, StandardCharsets.UTF_8));
        } else {
            b.append(HEX.formatHex(payload, offset, offset + previewLength));
        }
        if (cut) {
            b.append(" …");
        }
        return b.toString();
    }

    /** Text in double quotes, with quotes, backslashes and control characters escaped. */
    private static void quoted(StringBuilder b, String text) {
        b.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** Prints a request or response head, one line each, with the token redacted. */
    static void head(Server.Peer peer, boolean outgoing, String head) {
        java.util.List<String> lines = new java.util.ArrayList<>();
        lines.add(peer + (outgoing ? " S->C HTTP response head" : " C->S HTTP request head"));
        for (String line : redact(head).split("\r\n")) {
            if (!line.isEmpty()) {
                lines.add("    | " + line);
            }
        }
        Log.trace("http", lines, "peer", peer.toString(), "direction", outgoing ? "out" : "in");
    }

    /** A request or response head without secrets: the {@code token} query parameter and {@code Authorization}. */
    static String redact(String head) {
        StringBuilder out = new StringBuilder(head.length());
        for (String line : head.split("\r\n", -1)) {
            if (!out.isEmpty()) {
                out.append("\r\n");
            }
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Authorization")) {
                String value = line.substring(colon + 1).strip();
                int space = value.indexOf(' ');
                out.append(line, 0, colon + 1).append(' ')
                        .append(space > 0 ? value.substring(0, space + 1) : "").append("<redacted>");
            } else {
                out.append(TOKEN_PARAMETER.matcher(line).replaceAll("$1<redacted>"));
            }
        }
        return out.toString();
    }
}
