package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The Receiver reports every incoming frame to its observer: at once, or after a preview of its payload. */
class FrameObserverTest {
    /** RFC 6455 §5.7: a single-frame masked text message, "Hello", key 37 fa 21 3d. */
    static final byte[] MASKED_HELLO = Hex.bytes("81 85 37 fa 21 3d 7f 9f 4d 51 58");

    record Seen(boolean outgoing, FrameHeader header, byte[] preview) {
    }

    static final class Recorder implements FrameObserver {
        final int previewLimit;
        final List<Seen> seen = new ArrayList<>();

        Recorder(int previewLimit) {
            this.previewLimit = previewLimit;
        }

        @Override
        public void frame(boolean outgoing, FrameHeader header, byte[] payload, int offset, int length) {
            seen.add(new Seen(outgoing, header, Arrays.copyOfRange(payload, offset, offset + length)));
        }

        @Override
        public int previewLimit() {
            return previewLimit;
        }
    }

    /** Feeds the wire to a receiver in pieces of {@code step} bytes. */
    static void feed(Receiver receiver, byte[] wire, int step) throws ProtocolException {
        for (int i = 0; i < wire.length; i += step) {
            ByteBuffer in = ByteBuffer.wrap(Arrays.copyOfRange(wire, i, Math.min(wire.length, i + step)));
            while (receiver.receive(in) != null) {
                // messages are not what this test is about
            }
            assertFalse(in.hasRemaining());
        }
    }

    @Test
    void theMaskedHelloOfTheRfcIsReportedWithItsKeyAndUnmaskedPreviewAtEverySplit() throws ProtocolException {
        for (int step = 1; step <= MASKED_HELLO.length; step++) {
            Recorder recorder = new Recorder(64);
            feed(new Receiver(true, ReceiverTest.LIMITS, recorder), MASKED_HELLO, step);
            assertEquals(1, recorder.seen.size(), "step " + step);
            Seen seen = recorder.seen.get(0);
            assertFalse(seen.outgoing());
            assertEquals(new FrameHeader(true, 0, Opcode.TEXT, true, 0x37fa213d, 5, 7), seen.header());
            assertEquals("Hello", new String(seen.preview(), StandardCharsets.UTF_8), "step " + step);
            assertEquals(11, seen.header().headerLength() + seen.header().payloadLength(), "bytes on the wire");
        }
    }

    @Test
    void withoutAPreviewTheHeaderIsReportedBeforeItsPayloadArrives() throws ProtocolException {
        Recorder recorder = new Recorder(0);
        Receiver receiver = new Receiver(true, ReceiverTest.LIMITS, recorder);
        feed(receiver, Arrays.copyOf(MASKED_HELLO, 6), 6); // header and one payload byte
        assertEquals(1, recorder.seen.size());
        assertEquals(0, recorder.seen.get(0).preview().length);
        assertEquals(5, recorder.seen.get(0).header().payloadLength());
    }

    @Test
    void aPreviewIsCutAtItsLimitAndTheRestOfTheFrameIsNotReportedAgain() throws ProtocolException {
        byte[] payload = new byte[300];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        byte[] wire = ReceiverTest.concat(ReceiverTest.frame(true, Opcode.BINARY, payload), ReceiverTest.frame(true, Opcode.PING, new byte[0]));
        Recorder recorder = new Recorder(16);
        feed(new Receiver(true, ReceiverTest.LIMITS, recorder), wire, 7);
        assertEquals(2, recorder.seen.size());
        assertEquals(16, recorder.seen.get(0).header().lengthBits());
        assertArrayEquals(Arrays.copyOf(payload, 16), recorder.seen.get(0).preview());
        assertEquals(Opcode.PING, recorder.seen.get(1).header().opcode());
        assertEquals(0, recorder.seen.get(1).preview().length);
    }

    @Test
    void aFrameThatBreaksARuleIsReportedBeforeTheFailure() {
        // A text frame announcing 5 bytes whose first byte is not UTF-8: 1007 at that byte.
        byte[] wire = FrameEncoder.maskedFrame(true, Opcode.TEXT, new byte[] {(byte) 0xff, 'a', 'b', 'c', 'd'}, 0x01020304);
        Recorder recorder = new Recorder(64);
        Receiver receiver = new Receiver(true, ReceiverTest.LIMITS, recorder);
        ProtocolException e = assertThrows(ProtocolException.class, () -> feed(receiver, Arrays.copyOf(wire, 7), 7));
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, e.closeCode());
        assertEquals(1, recorder.seen.size());
        assertArrayEquals(new byte[] {(byte) 0xff}, recorder.seen.get(0).preview());
        assertTrue(recorder.seen.get(0).header().masked());
    }
}
