package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The frame layer against RFC 6455 §5.7's own examples, both directions, and its length rules. */
class FrameCodecTest {

    /** A frame decoded into its header and whole payload. */
    record Decoded(FrameHeader header, byte[] payload) {
    }

    /** Decodes a byte stream fed in pieces of at most {@code step} bytes. */
    static List<Decoded> decodeAll(boolean expectMasked, byte[] bytes, int step) throws ProtocolException {
        FrameDecoder decoder = new FrameDecoder(expectMasked);
        List<Decoded> frames = new ArrayList<>();
        FrameHeader header = null;
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        byte[] copy = bytes.clone(); // unmasking happens in place
        for (int start = 0; start < copy.length; start += step) {
            ByteBuffer in = ByteBuffer.wrap(copy, start, Math.min(step, copy.length - start));
            Object part;
            while ((part = decoder.next(in)) != null) {
                if (part instanceof FrameHeader h) {
                    header = h;
                    payload.reset();
                    if (h.payloadLength() == 0) {
                        frames.add(new Decoded(h, new byte[0]));
                    }
                } else {
                    FrameDecoder.Payload p = (FrameDecoder.Payload) part;
                    payload.write(p.array(), p.offset(), p.length());
                    if (p.endOfFrame()) {
                        frames.add(new Decoded(header, payload.toByteArray()));
                    }
                }
            }
            assertFalse(in.hasRemaining(), "decoder must consume all it is given");
        }
        assertTrue(decoder.isAtFrameBoundary());
        return frames;
    }

    static final byte[] HELLO = "Hello".getBytes(StandardCharsets.US_ASCII);
    static final int RFC_KEY = 0x37fa213d;

    @Test
    void rfcSingleFrameUnmaskedText() throws Exception {
        byte[] wire = Hex.bytes("81 05 48 65 6c 6c 6f");
        assertArrayEquals(wire, FrameEncoder.frame(true, Opcode.TEXT, HELLO));
        Decoded d = decodeAll(false, wire, wire.length).get(0);
        assertEquals(Opcode.TEXT, d.header().opcode());
        assertTrue(d.header().fin());
        assertArrayEquals(HELLO, d.payload());
    }

    @Test
    void rfcSingleFrameMaskedText() throws Exception {
        byte[] wire = Hex.bytes("81 85 37 fa 21 3d 7f 9f 4d 51 58");
        assertArrayEquals(wire, FrameEncoder.maskedFrame(true, Opcode.TEXT, HELLO, RFC_KEY));
        Decoded d = decodeAll(true, wire, wire.length).get(0);
        assertTrue(d.header().masked());
        assertEquals(RFC_KEY, d.header().maskingKey());
        assertArrayEquals(HELLO, d.payload());
    }

    @Test
    void rfcFragmentedUnmaskedText() throws Exception {
        byte[] wire = Hex.bytes("01 03 48 65 6c 80 02 6c 6f");
        ByteArrayOutputStream built = new ByteArrayOutputStream();
        built.writeBytes(FrameEncoder.frame(false, Opcode.TEXT, "Hel".getBytes(StandardCharsets.US_ASCII)));
        built.writeBytes(FrameEncoder.frame(true, Opcode.CONTINUATION, "lo".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(wire, built.toByteArray());
        List<Decoded> frames = decodeAll(false, wire, wire.length);
        assertEquals(2, frames.size());
        assertFalse(frames.get(0).header().fin());
        assertEquals(Opcode.CONTINUATION, frames.get(1).header().opcode());
        assertTrue(frames.get(1).header().fin());
    }

    @Test
    void rfcUnmaskedPingAndMaskedPong() throws Exception {
        byte[] ping = Hex.bytes("89 05 48 65 6c 6c 6f");
        assertArrayEquals(ping, FrameEncoder.frame(true, Opcode.PING, HELLO));
        assertEquals(Opcode.PING, decodeAll(false, ping, 1).get(0).header().opcode());
        byte[] pong = Hex.bytes("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
        assertArrayEquals(pong, FrameEncoder.maskedFrame(true, Opcode.PONG, HELLO, RFC_KEY));
        Decoded d = decodeAll(true, pong, 1).get(0);
        assertEquals(Opcode.PONG, d.header().opcode());
        assertArrayEquals(HELLO, d.payload());
    }

    @Test
    void rfc256BytesAnd64KiBBinaryHeaders() throws Exception {
        byte[] small = FrameEncoder.frame(true, Opcode.BINARY, new byte[256]);
        assertEquals("82 7e 01 00", Hex.of(java.util.Arrays.copyOf(small, 4)));
        byte[] large = FrameEncoder.frame(true, Opcode.BINARY, new byte[65536]);
        assertEquals("82 7f 00 00 00 00 00 01 00 00", Hex.of(java.util.Arrays.copyOf(large, 10)));
        assertEquals(65536, decodeAll(false, large, 4096).get(0).payload().length);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 127, 128, 65535, 65536, 65537})
    void lengthsAroundEveryEncodingBoundary(int length) throws Exception {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (i * 31 + 7);
        }
        byte[] wire = FrameEncoder.maskedFrame(true, Opcode.BINARY, payload, 0x01020304);
        int expectedBits = length < 126 ? 7 : length < 65536 ? 16 : 64;
        assertEquals(FrameEncoder.headerLength(length, true) + length, wire.length);
        Decoded d = decodeAll(true, wire, 1000).get(0);
        assertEquals(expectedBits, d.header().lengthBits());
        assertEquals(length, d.header().payloadLength());
        assertArrayEquals(payload, d.payload());
    }

    @Test
    void inputSplitAtEveryByteBoundaryDecodesTheSame() throws Exception {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(Hex.bytes("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
        stream.writeBytes(FrameEncoder.maskedFrame(true, Opcode.BINARY, new byte[300], 0xdeadbeef));
        stream.writeBytes(FrameEncoder.maskedFrame(true, Opcode.PING, new byte[0], 0x11223344));
        byte[] wire = stream.toByteArray();
        List<Decoded> whole = decodeAll(true, wire, wire.length);
        for (int split = 1; split < wire.length; split++) {
            // two pieces cut at every position
            FrameDecoder decoder = new FrameDecoder(true);
            byte[] copy = wire.clone();
            int frames = 0;
            for (ByteBuffer in : new ByteBuffer[] {ByteBuffer.wrap(copy, 0, split), ByteBuffer.wrap(copy, split, copy.length - split)}) {
                Object part;
                while ((part = decoder.next(in)) != null) {
                    if ((part instanceof FrameHeader h && h.payloadLength() == 0)
                            || (part instanceof FrameDecoder.Payload p && p.endOfFrame())) {
                        frames++;
                    }
                }
            }
            assertEquals(3, frames, "split at " + split);
        }
        List<Decoded> byteByByte = decodeAll(true, wire, 1);
        assertEquals(whole.size(), byteByByte.size());
        for (int i = 0; i < whole.size(); i++) {
            assertArrayEquals(whole.get(i).payload(), byteByByte.get(i).payload());
        }
        assertArrayEquals(HELLO, byteByByte.get(0).payload());
    }

    @Test
    void serverRefusesUnmaskedClientFrame() {
        ProtocolException e = assertThrows(ProtocolException.class, () -> decodeAll(true, Hex.bytes("81 05 48 65 6c 6c 6f"), 7));
        assertEquals(CloseCode.PROTOCOL_ERROR, e.closeCode());
    }

    @Test
    void clientRefusesMaskedServerFrame() {
        ProtocolException e = assertThrows(ProtocolException.class, () -> decodeAll(false, Hex.bytes("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 11));
        assertEquals(CloseCode.PROTOCOL_ERROR, e.closeCode());
    }

    @Test
    void sixtyFourBitLengthWithTopBitSetIsRefused() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> decodeAll(true, Hex.bytes("82 ff 80 00 00 00 00 00 00 00 01 02 03 04"), 14));
        assertEquals(CloseCode.PROTOCOL_ERROR, e.closeCode());
    }

    @Test
    void lengthNotInShortestFormIsRefused() {
        // 5 bytes announced with a 16-bit length
        assertThrows(ProtocolException.class, () -> decodeAll(true, Hex.bytes("82 fe 00 05 01 02 03 04"), 8));
    }

    @Test
    void headerIsReportedBeforeAnyPayloadArrives() throws Exception {
        // A 16 MiB frame announces itself in 14 bytes: the header comes out with no payload in hand,
        // so a limit can refuse it before anything is read or allocated.
        FrameDecoder decoder = new FrameDecoder(true);
        Object part = decoder.next(ByteBuffer.wrap(Hex.bytes("82 ff 00 00 00 00 01 00 00 00 01 02 03 04")));
        FrameHeader header = assertInstanceOf(FrameHeader.class, part);
        assertEquals(16L << 20, header.payloadLength());
        assertNull(decoder.next(ByteBuffer.allocate(0)));
    }

    @Test
    void maskingEightBytesAtATimeMatchesTheDefinition() {
        byte[] data = new byte[1000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        int key = 0xa1b2c3d4;
        for (int start = 0; start < 11; start++) {
            byte[] fast = data.clone();
            // mask in two pieces that begin at an arbitrary key index
            int next = Masking.apply(fast, 0, start, key, 0);
            Masking.apply(fast, start, data.length - start, key, next);
            for (int i = 0; i < data.length; i++) {
                byte expected = (byte) (data[i] ^ (key >>> (24 - 8 * (i % 4))));
                assertEquals(expected, fast[i], "byte " + i + " with a split at " + start);
            }
        }
    }
}
