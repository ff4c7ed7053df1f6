package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 7692 without sockets: the negotiation of every parameter, the RFC's own example frames
 * (§7.2.3) in both directions, and the limits on inflating.
 */
class PerMessageDeflateTest {
    static final PerMessageDeflate.Settings ON = PerMessageDeflate.Settings.DEFAULTS;
    static final String BOTH = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    // ------------------------------------------------------------------ negotiation (§5, §7.1)

    static HttpRequest request(String... extensionHeaders) {
        List<HttpRequest.Header> headers = new ArrayList<>();
        headers.add(new HttpRequest.Header("Host", "127.0.0.1"));
        for (String value : extensionHeaders) {
            headers.add(new HttpRequest.Header("Sec-WebSocket-Extensions", value));
        }
        return new HttpRequest("GET", "/", "HTTP/1.1", headers);
    }

    static String answer(String... extensionHeaders) throws HandshakeException {
        PerMessageDeflate.Agreement agreement = PerMessageDeflate.negotiate(request(extensionHeaders), ON);
        return agreement == null ? null : agreement.response();
    }

    @Test
    void noOfferNoAnswer() throws Exception {
        assertNull(answer());
        assertNull(answer("x-webkit-deflate-frame"));
    }

    @Test
    void aPlainOfferIsAcceptedWithBothNoContextTakeoverParameters() throws Exception {
        // §7.1.1.1 and §7.1.1.2: the server may send both on its own
        assertEquals(BOTH, answer("permessage-deflate"));
    }

    @Test
    void eachParameterIsAnswered() throws Exception {
        assertEquals(BOTH, answer("permessage-deflate; server_no_context_takeover"));
        assertEquals(BOTH, answer("permessage-deflate; client_no_context_takeover"));
        // §7.1.2.2 without a value: the client may be told a window; it is not (any window inflates)
        assertEquals(BOTH, answer("permessage-deflate; client_max_window_bits"));
        assertEquals(BOTH + "; client_max_window_bits=10", answer("permessage-deflate; client_max_window_bits=10"));
        // §7.1.2.1: MUST be answered with a value no larger than offered; honoured with Huffman-only output
        assertEquals(BOTH + "; server_max_window_bits=15", answer("permessage-deflate; server_max_window_bits=15"));
        assertEquals(BOTH + "; server_max_window_bits=8", answer("permessage-deflate;server_max_window_bits=8"));
        assertEquals(BOTH + "; server_max_window_bits=9; client_max_window_bits=12",
                answer("permessage-deflate; client_max_window_bits=12; server_max_window_bits=\"9\"; "
                        + "server_no_context_takeover; client_no_context_takeover"));
    }

    @Test
    void aSmallServerWindowIsHonouredWithoutBackReferences() throws Exception {
        PerMessageDeflate.Agreement small = PerMessageDeflate.negotiate(request("permessage-deflate; server_max_window_bits=8"), ON);
        PerMessageDeflate.Agreement full = PerMessageDeflate.negotiate(request("permessage-deflate"), ON);
        assertTrue(small.huffmanOnly());
        assertTrue(!full.huffmanOnly());
        byte[] text = "0123456789abcdef".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        PerMessageDeflate.Compressed huffman = PerMessageDeflate.compress(small, copyWithHeadroom(text), WebSocket.HEADROOM, text.length);
        PerMessageDeflate.Compressed lz77 = PerMessageDeflate.compress(full, copyWithHeadroom(text), WebSocket.HEADROOM, text.length);
        assertArrayEquals(text, inflate(huffman));
        assertArrayEquals(text, inflate(lz77));
        // Huffman codes alone: 16 equally likely symbols need 4 bits each, so half the size, and no less;
        // with back-references the repetition all but disappears
        assertTrue(huffman.length() >= text.length / 2, "huffman-only " + huffman.length());
        assertTrue(lz77.length() < 200, "lz77 " + lz77.length());
    }

    @Test
    void theFirstOfferThatCanBeHonouredWinsInOneHeaderOrSeveral() throws Exception {
        assertEquals(BOTH + "; client_max_window_bits=9",
                answer("permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=9, permessage-deflate"));
        assertEquals(BOTH + "; server_max_window_bits=10",
                answer("x-other; a=b", "permessage-deflate; unknown_parameter", "permessage-deflate; server_max_window_bits=10", "permessage-deflate"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "permessage-deflate; server_max_window_bits",            // §7.1.2.1: a value is required
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=010",        // leading zero
            "permessage-deflate; server_max_window_bits=1a",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; server_no_context_takeover=1",      // §7.1.1.1: no value
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover", // §7: repeated
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; mystery",                            // §7: not defined for an offer
            "Permessage-Deflate",                                     // a different extension name
    })
    void anOfferThatCannotBeHonouredIsDeclined(String offer) throws Exception {
        assertNull(answer(offer));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "permessage-deflate; server_max_window_bits=\"10",       // unterminated quoted string
            "permessage-deflate; =10",
            "permessage-deflate;; client_max_window_bits",
            "permessage-deflate client_max_window_bits",
            "permessage-deflate; client_max_window_bits=\"1 0\"",    // §9.1: a quoted value must be a token
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_max_window_bits=10 11",
            "(permessage-deflate)",
    })
    void aHeaderOutsideTheGrammarIs400(String header) {
        HandshakeException e = assertThrows(HandshakeException.class, () -> answer(header));
        assertEquals(400, e.status());
    }

    @Test
    void emptyListElementsAreSkipped() throws Exception {
        assertEquals(BOTH, answer(" , permessage-deflate ,, "));
    }

    @Test
    void offSettingsAnswerNothingAndReadNothing() throws Exception {
        assertNull(PerMessageDeflate.negotiate(request("permessage-deflate"), PerMessageDeflate.Settings.OFF));
        assertNull(PerMessageDeflate.negotiate(request("((( not even a header"), PerMessageDeflate.Settings.OFF));
    }

    @Test
    void theAnswerIsInTheSwitchingProtocolsResponse() {
        String response = new String(Handshake.switchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", BOTH), StandardCharsets.US_ASCII);
        assertTrue(response.contains("\r\nSec-WebSocket-Extensions: " + BOTH + "\r\n\r\n"), response);
        String plain = new String(Handshake.switchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), StandardCharsets.US_ASCII);
        assertTrue(!plain.contains("Extensions"), plain);
    }

    // ------------------------------------------------------------------ the RFC's examples (§7.2.3), as docs/RFC6455.md shows them

    static final PerMessageDeflate.Agreement AGREED = new PerMessageDeflate.Agreement(15, 0, 6, BOTH);
    static final WebSocketLimits LIMITS = new WebSocketLimits(1 << 20, 16, Duration.ofSeconds(1));

    /** A server frame's bytes as the RFC prints them, masked with key 0 so that they read the same as a client's. */
    static byte[] asClientFrame(String serverFrameHex) {
        byte[] frame = Hex.bytes(serverFrameHex);
        byte[] masked = new byte[frame.length + 4];
        masked[0] = frame[0];
        masked[1] = (byte) (frame[1] | 0x80);
        System.arraycopy(frame, 2, masked, 6, frame.length - 2);
        return masked;
    }

    static List<Message> receiveAll(Receiver receiver, byte[] wire) throws ProtocolException {
        List<Message> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(wire);
        Message m;
        while ((m = receiver.receive(in)) != null) {
            messages.add(m);
        }
        return messages;
    }

    static Receiver receiver(WebSocketLimits limits) {
        return new Receiver(true, limits, null, AGREED);
    }

    @Test
    void rfc7692HelloInOneCompressedFrameBothWays() throws Exception {
        // §7.2.3.1: "Hello" is f2 48 cd c9 c9 07 00 once the 00 00 ff ff tail is removed; RSV1 set: c1
        byte[] hello = "Hello".getBytes(StandardCharsets.US_ASCII);
        PerMessageDeflate.Compressed compressed = PerMessageDeflate.deflate(AGREED, copyWithHeadroom(hello), WebSocket.HEADROOM, 5, 100);
        assertNotNull(compressed);
        byte[] frame = Arrays.copyOf(compressed.array(), WebSocket.HEADROOM + compressed.length());
        int start = FrameEncoder.writeHeaderBefore(frame, WebSocket.HEADROOM, true, PerMessageDeflate.RSV1, Opcode.TEXT, compressed.length());
        assertEquals("c1 07 f2 48 cd c9 c9 07 00", Hex.of(Arrays.copyOfRange(frame, start, frame.length)));

        List<Message> in = receiveAll(receiver(LIMITS), asClientFrame("c1 07 f2 48 cd c9 c9 07 00"));
        assertEquals(List.of(new Message.Text("Hello")), in);
    }

    @Test
    void rfc7692ExamplesOfFragmentsStoredBlocksAndBfinal() throws Exception {
        Receiver receiver = receiver(LIMITS);
        byte[] wire = ReceiverTest.concat(
                // §7.2.3.1: the same message in two fragments, RSV1 on the first only
                asClientFrame("41 03 f2 48 cd"), asClientFrame("80 04 c9 c9 07 00"),
                // §7.2.3.3: a DEFLATE block with no compression
                asClientFrame("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"),
                // §7.2.3.4: ended by a block with BFINAL set (f3: the first bit is 1)
                asClientFrame("c1 07 f3 48 cd c9 c9 07 00"),
                // an uncompressed message in between is as before
                asClientFrame("81 05 48 65 6c 6c 6f"),
                // §7.2.3.6-style empty compressed message: an empty stored block, tail removed
                asClientFrame("c1 01 00"));
        List<Message> messages = receiveAll(receiver, wire);
        assertEquals(List.of(new Message.Text("Hello"), new Message.Text("Hello"), new Message.Text("Hello"),
                new Message.Text("Hello"), new Message.Text("")), messages);
    }

    @Test
    void contextTakeoverDespiteClientNoContextTakeoverIs1007() throws Exception {
        // §7.2.3.2: the second "Hello" refers back into the first message: f2 00 11 00 00. We agreed
        // client_no_context_takeover, so the back-reference points before the start of the data.
        Receiver receiver = receiver(LIMITS);
        assertEquals(1, receiveAll(receiver, asClientFrame("c1 07 f2 48 cd c9 c9 07 00")).size());
        ProtocolException e = assertThrows(ProtocolException.class, () -> receiveAll(receiver, asClientFrame("c1 05 f2 00 11 00 00")));
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, e.closeCode());
    }

    @Test
    void rsv1OnAContinuationOrAControlFrameIs1002AndWithoutTheExtensionToo() {
        int[] bad = {0xc0 /* FIN+RSV1 continuation */, 0xc9 /* ping */, 0xca /* pong */, 0xc8 /* close */};
        for (int first : bad) {
            byte[] frame = asClientFrame("00 00");
            frame[0] = (byte) first;
            byte[] wire = first == 0xc0 ? ReceiverTest.concat(asClientFrame("41 03 f2 48 cd"), frame) : frame;
            ProtocolException e = assertThrows(ProtocolException.class, () -> receiveAll(receiver(LIMITS), wire));
            assertEquals(CloseCode.PROTOCOL_ERROR, e.closeCode(), Integer.toHexString(first));
        }
        // RFC 6455 §5.2 as before: RSV1 without the extension; RSV2 and RSV3 even with it
        assertThrows(ProtocolException.class, () -> receiveAll(new Receiver(true, LIMITS), asClientFrame("c1 07 f2 48 cd c9 c9 07 00")));
        assertThrows(ProtocolException.class, () -> receiveAll(receiver(LIMITS), asClientFrame("a1 07 f2 48 cd c9 c9 07 00")));
        assertThrows(ProtocolException.class, () -> receiveAll(receiver(LIMITS), asClientFrame("91 07 f2 48 cd c9 c9 07 00")));
    }

    @Test
    void dataThatIsNotDeflateIs1007() {
        // BTYPE 11 is reserved (RFC 1951 §3.2.3): ff is BFINAL 1, BTYPE 11
        ProtocolException e = assertThrows(ProtocolException.class, () -> receiveAll(receiver(LIMITS), asClientFrame("c2 03 ff ff ff")));
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, e.closeCode());
        // compressed text that inflates to bytes that are not UTF-8
        byte[] bad = deflateAsAClient(new byte[] {'o', 'k', (byte) 0xC0, (byte) 0xAF});
        e = assertThrows(ProtocolException.class, () -> receiveAll(receiver(LIMITS),
                FrameEncoder.maskedFrame(true, Opcode.TEXT, bad, 0x01020304)));
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, e.closeCode());
    }

    // ------------------------------------------------------------------ limits

    @Test
    void inflatingToExactlyTheLimitIsAcceptedAndOneByteMoreIs1009() throws Exception {
        int limit = 100_000;
        WebSocketLimits limits = LIMITS.withMaxMessageSize(limit);
        byte[] exactly = new byte[limit];
        new Random(7692).nextBytes(exactly);
        Arrays.fill(exactly, 0, limit / 2, (byte) 'a'); // compressible, but not all of it
        List<Message> ok = receiveAll(receiver(limits), compressedFrame(exactly));
        assertArrayEquals(exactly, assertInstanceOf(Message.Binary.class, ok.get(0)).data());

        byte[] oneMore = Arrays.copyOf(exactly, limit + 1);
        Receiver receiver = receiver(limits);
        ProtocolException e = assertThrows(ProtocolException.class, () -> receiveAll(receiver, compressedFrame(oneMore)));
        assertEquals(CloseCode.MESSAGE_TOO_BIG, e.closeCode());
        assertTrue(receiver.messageCapacity() <= limit, "buffer " + receiver.messageCapacity());
    }

    @Test
    void aBombFailsAtTheLimitWithoutInflatingTheRest() throws Exception {
        // 64 MiB of zeros compress to about 64 KiB; the limit is 1 MiB
        byte[] bomb = deflateZeros(64 << 20);
        assertTrue(bomb.length < 100_000, "bomb " + bomb.length);
        Receiver receiver = receiver(LIMITS);
        long before = PerMessageDeflate.liveZlibStreams();
        byte[] frame = FrameEncoder.maskedFrame(true, Opcode.BINARY, bomb, 0x0badcafe);
        frame[0] |= 0x40; // RSV1: compressed
        ProtocolException e = assertThrows(ProtocolException.class, () -> receiveAll(receiver, frame));
        assertEquals(CloseCode.MESSAGE_TOO_BIG, e.closeCode());
        assertEquals(LIMITS.maxMessageSize(), receiver.messageCapacity(), "the buffer grew to the limit and no further");
        receiver.release(); // what WebSocket does on every way out
        assertEquals(before, PerMessageDeflate.liveZlibStreams());
    }

    @Test
    void theCompressedSizeStillCountsFromTheHeader() {
        // a frame whose compressed payload alone is over the limit: 1009 before any of it is read
        byte[] big = Hex.bytes("c2 fe 04 01 00 00 00 00"); // 1025 bytes announced, masked with key 0
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> receiveAll(receiver(LIMITS.withMaxMessageSize(1024)), big));
        assertEquals(CloseCode.MESSAGE_TOO_BIG, e.closeCode());
    }

    @Test
    void noZlibStreamOutlivesAMessage() throws Exception {
        int before = PerMessageDeflate.liveZlibStreams();
        byte[] text = "line\n".repeat(2000).getBytes(StandardCharsets.US_ASCII);
        // a fragmented compressed message: between its frames the Inflater is alive, after it not
        byte[] compressed = deflateAsAClient(text);
        int half = compressed.length / 2;
        byte[] first = FrameEncoder.maskedFrame(false, Opcode.TEXT, Arrays.copyOf(compressed, half), 1);
        first[0] |= 0x40;
        Receiver fresh = receiver(LIMITS);
        assertEquals(List.of(), receiveAll(fresh, first.clone()));
        assertEquals(before + 1, PerMessageDeflate.liveZlibStreams(), "inside the message");
        List<Message> done = receiveAll(fresh, FrameEncoder.maskedFrame(true, Opcode.CONTINUATION,
                Arrays.copyOfRange(compressed, half, compressed.length), 2));
        assertEquals(new String(text, StandardCharsets.US_ASCII), assertInstanceOf(Message.Text.class, done.get(0)).text());
        assertEquals(before, PerMessageDeflate.liveZlibStreams(), "after the message");
        // and a connection that ends inside a message gives it back on release
        Receiver dropped = receiver(LIMITS);
        receiveAll(dropped, first.clone());
        assertEquals(before + 1, PerMessageDeflate.liveZlibStreams());
        dropped.release();
        assertEquals(before, PerMessageDeflate.liveZlibStreams());
        assertThrows(ProtocolException.class, () -> receiveAll(dropped, FrameEncoder.maskedFrame(true, Opcode.CONTINUATION, new byte[] {0}, 3)));
        assertEquals(before, PerMessageDeflate.liveZlibStreams());
    }

    @Test
    void compressingIsSkippedWhenItDoesNotPayAndLeavesNoDeflater() {
        int before = PerMessageDeflate.liveZlibStreams();
        byte[] random = new byte[4096];
        new Random(1).nextBytes(random);
        assertNull(PerMessageDeflate.compress(AGREED, copyWithHeadroom(random), WebSocket.HEADROOM, random.length));
        byte[] text = "seq 1 1000000\n".repeat(300).getBytes(StandardCharsets.US_ASCII);
        PerMessageDeflate.Compressed c = PerMessageDeflate.compress(AGREED, copyWithHeadroom(text), WebSocket.HEADROOM, text.length);
        assertArrayEquals(text, inflate(c));
        assertEquals(before, PerMessageDeflate.liveZlibStreams());
    }

    // ------------------------------------------------------------------ helpers: the JDK's zlib as the peer

    static byte[] copyWithHeadroom(byte[] payload) {
        byte[] b = new byte[WebSocket.HEADROOM + payload.length];
        System.arraycopy(payload, 0, b, WebSocket.HEADROOM, payload.length);
        return b;
    }

    /** What a client sends, RFC 7692 §7.2.1: raw DEFLATE, sync flush, tail removed. */
    static byte[] deflateAsAClient(byte[] data) {
        Deflater deflater = new Deflater(6, true);
        try {
            deflater.setInput(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int n;
            do {
                n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
                out.write(chunk, 0, n);
            } while (n == chunk.length);
            byte[] all = out.toByteArray();
            return Arrays.copyOf(all, all.length - 4);
        } finally {
            deflater.end();
        }
    }

    static byte[] deflateZeros(int size) {
        Deflater deflater = new Deflater(9, true);
        try {
            byte[] zeros = new byte[1 << 20];
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[1 << 16];
            for (int done = 0; done < size; done += zeros.length) {
                deflater.setInput(zeros, 0, Math.min(zeros.length, size - done));
                while (!deflater.needsInput()) {
                    out.write(chunk, 0, deflater.deflate(chunk, 0, chunk.length, Deflater.NO_FLUSH));
                }
            }
            int n;
            do {
                n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
                out.write(chunk, 0, n);
            } while (n == chunk.length);
            byte[] all = out.toByteArray();
            return Arrays.copyOf(all, all.length - 4);
        } finally {
            deflater.end();
        }
    }

    static byte[] compressedFrame(byte[] data) {
        byte[] frame = FrameEncoder.maskedFrame(true, Opcode.BINARY, deflateAsAClient(data), 0x11223344);
        frame[0] |= 0x40;
        return frame;
    }

    /** What a client does with our payload, RFC 7692 §7.2.2. */
    static byte[] inflate(PerMessageDeflate.Compressed c) {
        Inflater inflater = new Inflater(true);
        try {
            byte[] in = Arrays.copyOfRange(c.array(), WebSocket.HEADROOM, WebSocket.HEADROOM + c.length() + 4);
            System.arraycopy(PerMessageDeflate.TAIL, 0, in, c.length(), 4);
            inflater.setInput(in);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            while (!inflater.needsInput()) {
                out.write(chunk, 0, inflater.inflate(chunk));
            }
            return out.toByteArray();
        } catch (java.util.zip.DataFormatException e) {
            throw new AssertionError(e);
        } finally {
            inflater.end();
        }
    }
}
