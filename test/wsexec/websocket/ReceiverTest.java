package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Message assembly: fragmentation, control frames in between, limits and UTF-8, without sockets. */
class ReceiverTest {
    static final WebSocketLimits LIMITS = new WebSocketLimits(1024, 16, Duration.ofSeconds(1));

    static byte[] frame(boolean fin, Opcode opcode, byte[] payload) {
        return FrameEncoder.maskedFrame(fin, opcode, payload, 0x5a5a1234);
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
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

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static int failure(byte[] wire) {
        return assertThrows(ProtocolException.class, () -> receiveAll(new Receiver(true, LIMITS), wire)).closeCode();
    }

    @Test
    void fragmentsAreJoinedAndControlFramesMayComeBetween() throws Exception {
        byte[] wire = concat(frame(false, Opcode.TEXT, text("Hel")),
                frame(true, Opcode.PING, text("p")),
                frame(false, Opcode.CONTINUATION, new byte[0]),
                frame(true, Opcode.CONTINUATION, text("lo")));
        List<Message> messages = receiveAll(new Receiver(true, LIMITS), wire);
        assertEquals(2, messages.size());
        assertArrayEquals(text("p"), assertInstanceOf(Message.Ping.class, messages.get(0)).data());
        assertEquals("Hello", assertInstanceOf(Message.Text.class, messages.get(1)).text());
    }

    @Test
    void continuationWithoutAMessageIs1002() {
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(frame(true, Opcode.CONTINUATION, text("x"))));
    }

    @Test
    void newMessageInsideAFragmentedOneIs1002() {
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(concat(frame(false, Opcode.TEXT, text("a")), frame(true, Opcode.TEXT, text("b")))));
    }

    @Test
    void invalidUtf8Is1007AtTheFirstBadFragment() throws Exception {
        Receiver receiver = new Receiver(true, LIMITS);
        // The first fragment already holds a surrogate: refuse it before the message ends.
        assertNull(receiver.receive(ByteBuffer.wrap(frame(false, Opcode.TEXT, text("ok ")))));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> receiver.receive(ByteBuffer.wrap(frame(false, Opcode.CONTINUATION, Hex.bytes("ed a0 80")))));
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, e.closeCode());
    }

    @Test
    void aCodePointSplitAcrossFragmentsIsValid() throws Exception {
        byte[] euro = text("€");
        byte[] wire = concat(frame(false, Opcode.TEXT, new byte[] {euro[0]}), frame(false, Opcode.CONTINUATION, new byte[] {euro[1]}),
                frame(true, Opcode.CONTINUATION, new byte[] {euro[2]}));
        assertEquals("€", assertInstanceOf(Message.Text.class, receiveAll(new Receiver(true, LIMITS), wire).get(0)).text());
    }

    @Test
    void textEndingInsideACodePointIs1007() {
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, failure(frame(true, Opcode.TEXT, Hex.bytes("41 e2 82"))));
    }

    @Test
    void messageOverTheLimitIs1009FromTheHeaderAlone() throws Exception {
        Receiver receiver = new Receiver(true, LIMITS);
        byte[] header = java.util.Arrays.copyOf(frame(true, Opcode.BINARY, new byte[1025]), 8); // 2 + 2 length + 4 key
        ProtocolException e = assertThrows(ProtocolException.class, () -> receiver.receive(ByteBuffer.wrap(header)));
        assertEquals(CloseCode.MESSAGE_TOO_BIG, e.closeCode());
    }

    @Test
    void fragmentsAddUpTowardsTheLimit() {
        assertEquals(CloseCode.MESSAGE_TOO_BIG, failure(concat(frame(false, Opcode.BINARY, new byte[600]), frame(true, Opcode.CONTINUATION, new byte[600]))));
    }

    @Test
    void exactlyTheLimitIsAccepted() throws Exception {
        Message m = receiveAll(new Receiver(true, LIMITS), frame(true, Opcode.BINARY, new byte[1024])).get(0);
        assertEquals(1024, assertInstanceOf(Message.Binary.class, m).data().length);
    }

    @Test
    void tooManyFragmentsIs1008() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(frame(false, Opcode.BINARY, new byte[1]));
        for (int i = 0; i < 16; i++) {
            out.writeBytes(frame(false, Opcode.CONTINUATION, new byte[1]));
        }
        assertEquals(CloseCode.POLICY_VIOLATION, failure(out.toByteArray()));
    }

    @Test
    void controlFrameRules() {
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(frame(false, Opcode.PING, new byte[0])), "fragmented ping");
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(frame(true, Opcode.PING, new byte[126])), "ping over 125 bytes");
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(frame(true, Opcode.CLOSE, new byte[] {3})), "one-byte close body");
    }

    @Test
    void reservedBitsAndOpcodesAre1002() {
        byte[] rsv1 = frame(true, Opcode.TEXT, text("x"));
        rsv1[0] |= 0b0100_0000;
        assertEquals(CloseCode.PROTOCOL_ERROR, failure(rsv1));
        for (int opcode : new int[] {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
            byte[] f = frame(true, Opcode.BINARY, new byte[0]);
            f[0] = (byte) (0x80 | opcode);
            assertEquals(CloseCode.PROTOCOL_ERROR, failure(f), "opcode " + opcode);
        }
    }

    @Test
    void closeCodesAllowedOnTheWire() throws Exception {
        for (int code : new int[] {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
            Message m = receiveAll(new Receiver(true, LIMITS), frame(true, Opcode.CLOSE, FrameEncoder.closeBody(code, "bye"))).get(0);
            assertEquals(code, assertInstanceOf(Message.Close.class, m).code());
        }
        for (int code : new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
            assertEquals(CloseCode.PROTOCOL_ERROR, failure(frame(true, Opcode.CLOSE, FrameEncoder.closeBody(code, ""))), "code " + code);
        }
    }

    @Test
    void closeWithoutBodyAndCloseWithBadReason() throws Exception {
        Message m = receiveAll(new Receiver(true, LIMITS), frame(true, Opcode.CLOSE, new byte[0])).get(0);
        assertEquals(CloseCode.NO_STATUS_RECEIVED, assertInstanceOf(Message.Close.class, m).code());
        assertEquals(CloseCode.INVALID_FRAME_PAYLOAD_DATA, failure(frame(true, Opcode.CLOSE, Hex.bytes("03 e8 ff"))));
    }
}
