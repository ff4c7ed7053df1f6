package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import wsexec.websocket.RawClient;
import wsexec.websocket.RawClient.Frame;
import wsexec.websocket.WireFrames;
import wsexec.websocket.Opcode;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/**
 * RFC 6455 conformance over real sockets, against the {@code echo} endpoint with the
 * limits {@code wsexec echo} uses (and the exec server where its limits differ).
 * Every test sends the exact bytes of a case and checks the exact frames that come
 * back: a protocol error is a Close frame with the right code, then the end of the
 * TCP stream, with nothing in between. docs/CONFORMANCE.md maps RFC rules to tests.
 */
@Timeout(30)
class ConformanceTest {
    /** {@code wsexec echo}'s limits; the close timeout only matters to tests that say so. */
    static final WebSocketLimits ECHO = EchoEndpoint.LIMITS;

    static TestServer echo;
    static TestServer exec;

    @BeforeAll
    static void start() throws IOException {
        echo = TestServer.echo(ECHO);
        exec = TestServer.exec();
    }

    @AfterAll
    static void stop() {
        echo.close();
        exec.close();
    }

    // ---------------------------------------------------------------- helpers

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * A frame header with any first octet and any length field, masked with key 0
     * (so the payload that follows goes on the wire as it is). Lets a test write
     * headers no encoder would: a length with its top bit set, a non-minimal length.
     */
    static byte[] header(int firstOctet, int lengthField, long extendedLength) {
        int extra = lengthField == 126 ? 2 : lengthField == 127 ? 8 : 0;
        byte[] h = new byte[2 + extra + 4];
        h[0] = (byte) firstOctet;
        h[1] = (byte) (0x80 | lengthField);
        for (int i = 0; i < extra; i++) {
            h[2 + i] = (byte) (extendedLength >>> (8 * (extra - 1 - i)));
        }
        return h; // masking key 00 00 00 00
    }

    /** A masked frame with any first octet (FIN, RSV, opcode), for tests that build the bytes before connecting. */
    static byte[] masked(int firstOctet, byte[] payload) {
        byte[] frame = WireFrames.maskedFrame(true, Opcode.BINARY, payload, 0x3a5c96e1);
        frame[0] = (byte) firstOctet;
        return frame;
    }

    static RawClient open(TestServer server) throws IOException {
        return RawClient.open(server.port());
    }

    /** The next frame is a Close with this code, and then the server ends the TCP stream. */
    static Frame assertClosedWith(RawClient client, int code) throws IOException {
        Frame close = client.readFrame();
        assertNotNull(close, "connection ended without a Close frame");
        assertEquals(Opcode.CLOSE, close.opcode(), () -> "expected Close " + code + ", got " + close.opcode() + " " + close.text());
        assertEquals(code, close.closeCode(), () -> "close reason: " + close.text().substring(Math.min(2, close.payload().length)));
        assertTrue(close.header().fin());
        assertTrue(close.payload().length <= 125);
        assertNothingMore(client);
        return close;
    }

    /** After its Close frame the server sends nothing and closes its side of TCP (EOF, or a reset). */
    static void assertNothingMore(RawClient client) throws IOException {
        try {
            Frame next = client.readFrame();
            if (next != null) {
                fail("frame after Close: " + next.opcode() + " " + next.text());
            }
        } catch (SocketException e) {
            // a reset: closed as well
        }
    }

    static void assertFails(TestServer server, int code, byte[] bytes) throws IOException {
        try (RawClient client = open(server)) {
            client.send(bytes);
            assertClosedWith(client, code);
        }
    }

    static Frame expect(RawClient client, Opcode opcode) throws IOException {
        Frame f = client.readFrame();
        assertNotNull(f, "connection ended, expected " + opcode);
        assertEquals(opcode, f.opcode(), () -> "got " + f.opcode() + " " + f.text());
        assertTrue(f.header().fin(), "the server sends whole messages");
        return f;
    }

    /** Ends a test connection cleanly: Close 1000, its echo, then the server's EOF. */
    static void closeCleanly(RawClient client) throws IOException {
        client.sendClose(1000, "done");
        assertClosedWith(client, 1000);
    }

    // ---------------------------------------------------------------- §5.2 framing

    @ParameterizedTest(name = "RSV {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void reservedBitsAre1002(int rsv) throws IOException {
        try (RawClient client = open(echo)) {
            // A valid message first: it is echoed, then the bad frame fails the connection.
            client.sendText("before");
            assertEquals("before", expect(client, Opcode.TEXT).text());
            client.send(client.rawFrame(0x80 | rsv << 4 | Opcode.TEXT.code, utf8("hi")));
            assertClosedWith(client, 1002);
        }
    }

    @Test
    void reservedBitsOnAControlFrameAre1002() throws IOException {
        assertFails(echo, 1002, masked(0x80 | 0x40 | Opcode.PING.code, utf8("rsv")));
    }

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(ints = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF})
    void reservedOpcodesAre1002(int opcode) throws IOException {
        try (RawClient client = open(echo)) {
            client.sendText("before");
            assertEquals("before", expect(client, Opcode.TEXT).text());
            client.send(client.rawFrame(0x80 | opcode, utf8("reserved")));
            assertClosedWith(client, 1002);
        }
    }

    @Test
    void unmaskedClientFrameIs1002() throws IOException {
        // §5.1: "a server MUST close the connection upon receiving a frame that is not masked"
        assertFails(echo, 1002, WireFrames.frame(true, Opcode.TEXT, utf8("unmasked")));
        assertFails(exec, 1002, WireFrames.frame(true, Opcode.TEXT, utf8("unmasked")));
    }

    @Test
    void sixtyFourBitLengthWithTheTopBitSetIs1002() throws IOException {
        // §5.2: "the most significant bit MUST be 0"; only the header is sent.
        assertFails(echo, 1002, header(0x82, 127, 0x8000_0000_0000_0010L));
    }

    @Test
    void lengthNotInItsShortestFormIs1002() throws IOException {
        // §5.2: "the minimal number of bytes MUST be used to encode the length"
        assertFails(echo, 1002, concat(header(0x82, 126, 5), utf8("abcde")));
        assertFails(echo, 1002, concat(header(0x82, 127, 200), new byte[200]));
    }

    @Test
    void lengthAboveTheLimitIs1009FromTheHeaderAlone() throws IOException {
        // Only the header goes out; the Close comes back although not one payload byte was sent.
        assertFails(echo, 1009, header(0x82, 127, ECHO.maxMessageSize() + 1L));
        assertFails(echo, 1009, header(0x81, 127, Long.MAX_VALUE));
        assertFails(exec, 1009, header(0x81, 127, WebSocketLimits.DEFAULTS.maxMessageSize() + 1L));
    }

    @Test
    void fragmentsAddingUpAboveTheLimitAre1009AtTheHeaderThatCrossesIt() throws IOException {
        int limit = WebSocketLimits.DEFAULTS.maxMessageSize();
        try (RawClient client = open(exec)) {
            byte[] first = new byte[limit - 10];
            client.sendFrame(false, Opcode.BINARY, first);
            client.send(header(0x80, 11, 0)); // the continuation that would pass the limit: header only
            assertClosedWith(client, 1009);
        }
    }

    @Test
    void oneFragmentMoreThanTheLimitIs1008() throws IOException {
        // The echo limit (100,000) lets the 65,536-fragment case through; one past it is refused
        // at the header of the fragment that crosses it.
        try (RawClient client = open(echo)) {
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (int i = 0; i < ECHO.maxFragments(); i++) {
                wire.writeBytes(client.frame(false, i == 0 ? Opcode.BINARY : Opcode.CONTINUATION, hex("2a")));
            }
            wire.writeBytes(header(0x80, 1, 0)); // fragment number maxFragments + 1: header only
            client.send(wire.toByteArray());
            assertClosedWith(client, 1008);
        }
    }

    // ---------------------------------------------------------------- §5.5 control frames

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 1, 2, 100, 125})
    void pingGetsPongWithTheSamePayload(int length) throws IOException {
        byte[] payload = new byte[length];
        new Random(length).nextBytes(payload);
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.PING, payload);
            assertArrayEquals(payload, expect(client, Opcode.PONG).payload());
            closeCleanly(client);
        }
    }

    @Test
    void execServerAnswersPingsToo() throws IOException {
        try (RawClient client = open(exec)) {
            client.sendFrame(true, Opcode.PING, utf8("exec"));
            assertEquals("exec", expect(client, Opcode.PONG).text());
            closeCleanly(client);
        }
    }

    @Test
    void tenPingsGetTenPongsInOrder() throws IOException {
        try (RawClient client = open(echo)) {
            ByteArrayOutputStream pings = new ByteArrayOutputStream();
            for (int i = 0; i < 10; i++) {
                pings.writeBytes(client.frame(true, Opcode.PING, utf8("ping " + i)));
            }
            client.send(pings.toByteArray());
            for (int i = 0; i < 10; i++) {
                assertEquals("ping " + i, expect(client, Opcode.PONG).text());
            }
            closeCleanly(client);
        }
    }

    @Test
    void unsolicitedPongIsIgnored() throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(true, Opcode.PONG, utf8("unsolicited")),
                    client.frame(true, Opcode.PONG, new byte[0]),
                    client.frame(true, Opcode.TEXT, utf8("after the pongs"))));
            // The first frame back is the echo: nothing answered the pongs.
            assertEquals("after the pongs", expect(client, Opcode.TEXT).text());
            closeCleanly(client);
        }
    }

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(ints = {0x8, 0x9, 0xA})
    void controlFrameWithMoreThan125BytesIs1002(int opcode) throws IOException {
        byte[] payload = new byte[126];
        if (opcode == 0x8) {
            payload[0] = 0x03; // a valid code 1000 followed by a reason that makes 126 bytes
            payload[1] = (byte) 0xE8;
            java.util.Arrays.fill(payload, 2, 126, (byte) 'r');
        }
        try (RawClient client = open(echo)) {
            client.send(client.frame(true, Opcode.of(opcode), payload));
            assertClosedWith(client, 1002);
        }
    }

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(ints = {0x8, 0x9, 0xA})
    void fragmentedControlFrameIs1002(int opcode) throws IOException {
        byte[] payload = opcode == 0x8 ? WireFrames.closeBody(1000, "") : utf8("fragment");
        try (RawClient client = open(echo)) {
            client.send(client.frame(false, Opcode.of(opcode), payload));
            assertClosedWith(client, 1002);
        }
    }

    // ---------------------------------------------------------------- §5.4 fragmentation

    @Test
    void pingsAndPongsBetweenFragmentsAreHandledThere() throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(false, Opcode.TEXT, utf8("frag")),
                    client.frame(true, Opcode.PING, utf8("in between")),
                    client.frame(false, Opcode.CONTINUATION, utf8("men")),
                    client.frame(true, Opcode.PONG, utf8("unsolicited")),
                    client.frame(true, Opcode.CONTINUATION, utf8("ted"))));
            // The pong answers the ping at once: it comes before the message is complete.
            assertEquals("in between", expect(client, Opcode.PONG).text());
            assertEquals("fragmented", expect(client, Opcode.TEXT).text());
            closeCleanly(client);
        }
    }

    @Test
    void pongArrivesBeforeTheMessageEnds() throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(false, Opcode.BINARY, hex("0102")), client.frame(true, Opcode.PING, utf8("now"))));
            assertEquals("now", expect(client, Opcode.PONG).text()); // the message is still open
            client.sendFrame(true, Opcode.CONTINUATION, hex("03"));
            assertArrayEquals(hex("010203"), expect(client, Opcode.BINARY).payload());
            closeCleanly(client);
        }
    }

    @Test
    void continuationWithNoMessageInProgressIs1002() throws IOException {
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.CONTINUATION, utf8("orphan"));
            assertClosedWith(client, 1002);
        }
        try (RawClient client = open(echo)) {
            // after a complete message, too
            client.sendText("whole");
            assertEquals("whole", expect(client, Opcode.TEXT).text());
            client.sendFrame(false, Opcode.CONTINUATION, utf8("orphan"));
            assertClosedWith(client, 1002);
        }
    }

    @ParameterizedTest(name = "second opcode {0}")
    @ValueSource(ints = {0x1, 0x2})
    void newDataFrameInsideAMessageIs1002(int opcode) throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(false, Opcode.TEXT, utf8("first")),
                    client.frame(true, Opcode.of(opcode), utf8("second"))));
            assertClosedWith(client, 1002);
        }
    }

    @Test
    void oneByteFragmentsAreReassembled() throws IOException {
        byte[] text = utf8("Hello, wörld — κόσμε 🚀");
        try (RawClient client = open(echo)) {
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (int i = 0; i < text.length; i++) {
                wire.writeBytes(client.frame(i == text.length - 1, i == 0 ? Opcode.TEXT : Opcode.CONTINUATION, new byte[] {text[i]}));
            }
            client.send(wire.toByteArray());
            assertArrayEquals(text, expect(client, Opcode.TEXT).payload());
            byte[] binary = hex("00 ff 80 7f 01");
            for (int i = 0; i < binary.length; i++) {
                client.sendFrame(i == binary.length - 1, i == 0 ? Opcode.BINARY : Opcode.CONTINUATION, new byte[] {binary[i]});
            }
            assertArrayEquals(binary, expect(client, Opcode.BINARY).payload());
            closeCleanly(client);
        }
    }

    @Test
    void emptyFragmentsAndEmptyMessagesAreReassembled() throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(false, Opcode.TEXT, new byte[0]),
                    client.frame(false, Opcode.CONTINUATION, new byte[0]),
                    client.frame(false, Opcode.CONTINUATION, utf8("abc")),
                    client.frame(true, Opcode.CONTINUATION, new byte[0])));
            assertEquals("abc", expect(client, Opcode.TEXT).text());
            client.send(concat(client.frame(false, Opcode.BINARY, new byte[0]), client.frame(true, Opcode.CONTINUATION, new byte[0])));
            assertEquals(0, expect(client, Opcode.BINARY).payload().length);
            client.sendFrame(true, Opcode.TEXT, new byte[0]);
            assertEquals(0, expect(client, Opcode.TEXT).payload().length);
            closeCleanly(client);
        }
    }

    // ---------------------------------------------------------------- §8.1 UTF-8

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "c0 af",            // overlong '/' in 2 bytes
            "c1 bf",            // overlong in 2 bytes
            "e0 80 af",         // overlong '/' in 3 bytes
            "e0 9f bf",         // overlong U+07FF in 3 bytes
            "f0 80 80 af",      // overlong '/' in 4 bytes
            "f0 8f bf bf",      // overlong U+FFFF in 4 bytes
            "ed a0 80",         // U+D800, a surrogate
            "ed af bf",         // U+DBFF
            "ed b0 80",         // U+DC00
            "ed bf bf",         // U+DFFF
            "ed a0 80 ed b0 80", // a surrogate pair encoded as two code points (CESU-8)
            "f4 90 80 80",      // U+110000, above U+10FFFF
            "f5 80 80 80",      // a lead byte that cannot occur
            "f8 88 80 80 80",   // 5-byte form
            "fe", "ff",         // never in UTF-8
            "80",               // a continuation byte with no lead
            "ce",               // text ends inside a code point
            "e2 82",            // text ends inside a code point
            "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64", // Autobahn 6.4-style: κόσμε, U+D800, "edited"
    })
    void invalidUtf8Is1007(String bytes) throws IOException {
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.TEXT, concat(utf8("ok "), hex(bytes)));
            assertClosedWith(client, 1007);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "7f",               // U+007F
            "c2 80",            // U+0080, smallest 2-byte
            "df bf",            // U+07FF
            "e0 a0 80",         // U+0800, smallest 3-byte
            "ed 9f bf",         // U+D7FF, just below the surrogates
            "ee 80 80",         // U+E000, just above them
            "ef bf bd",         // U+FFFD
            "ef bf bf",         // U+FFFF, a noncharacter but valid UTF-8
            "f0 90 80 80",      // U+10000, smallest 4-byte
            "f4 8f bf bf",      // U+10FFFF, the largest code point
    })
    void validUtf8BoundariesAreEchoed(String bytes) throws IOException {
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.TEXT, hex(bytes));
            assertArrayEquals(hex(bytes), expect(client, Opcode.TEXT).payload());
            closeCleanly(client);
        }
    }

    @Test
    void codePointSplitAcrossFragmentsIsValidAtEveryCut() throws IOException {
        byte[] text = utf8("κόσμε🚀€");
        try (RawClient client = open(echo)) {
            for (int cut = 0; cut <= text.length; cut++) {
                client.send(concat(client.frame(false, Opcode.TEXT, java.util.Arrays.copyOfRange(text, 0, cut)),
                        client.frame(true, Opcode.CONTINUATION, java.util.Arrays.copyOfRange(text, cut, text.length))));
                assertArrayEquals(text, expect(client, Opcode.TEXT).payload(), "cut at " + cut);
            }
            closeCleanly(client);
        }
    }

    @Test
    void invalidUtf8FailsAtTheFirstBadByteInsideAFrame() throws IOException {
        // The header announces 1,000 bytes; only the first 8 are sent, and the 8th makes the
        // text invalid (ED A0 starts U+D800). The Close must come back before the rest is sent.
        byte[] start = concat(utf8("valid "), hex("ed a0"));
        try (RawClient client = open(echo)) {
            client.send(concat(header(0x81, 126, 1000), start));
            assertClosedWith(client, 1007);
        }
        try (RawClient client = open(exec)) {
            client.send(concat(header(0x81, 126, 1000), start));
            assertClosedWith(client, 1007);
        }
    }

    @Test
    void invalidUtf8FailsAtTheFragmentThatHoldsIt() throws IOException {
        // Autobahn 6.4.1's shape: valid fragment, fragment that makes it invalid, and the last
        // fragment never sent: the Close comes back without it.
        try (RawClient client = open(echo)) {
            client.sendFrame(false, Opcode.TEXT, utf8("κόσμε"));
            client.sendFrame(false, Opcode.CONTINUATION, hex("f4 90 80 80"));
            assertClosedWith(client, 1007);
        }
        try (RawClient client = open(echo)) {
            // the bad byte is the first of its fragment; its lead byte came in the one before
            client.sendFrame(false, Opcode.TEXT, hex("41 f4"));
            client.sendFrame(false, Opcode.CONTINUATION, hex("90"));
            assertClosedWith(client, 1007);
        }
    }

    @Test
    void invalidUtf8SentOneByteAtATimeFailsWithoutTheRest() throws IOException {
        try (RawClient client = open(echo)) {
            client.sendSlowly(concat(header(0x81, 126, 300), utf8("abc"), hex("c0")));
            assertClosedWith(client, 1007);
        }
    }

    // ---------------------------------------------------------------- §5.5.1, §7 closing

    @Test
    void emptyCloseIsAnsweredWithAnEmptyClose() throws IOException {
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.CLOSE, new byte[0]);
            Frame close = assertClosedWith(client, 1005); // 1005 = no status code in the frame
            assertEquals(0, close.payload().length);
        }
    }

    @Test
    void closeWithAOneBytePayloadIs1002() throws IOException {
        assertFails(echo, 1002, masked(0x80 | Opcode.CLOSE.code, hex("03")));
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    void closeCodeForbiddenOnTheWireIs1002(int code) throws IOException {
        assertFails(echo, 1002, masked(0x80 | Opcode.CLOSE.code, WireFrames.closeBody(code, "")));
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
    void legalCloseCodeIsEchoed(int code) throws IOException {
        try (RawClient client = open(echo)) {
            client.sendClose(code, "reason");
            assertClosedWith(client, code);
        }
    }

    @Test
    void execServerEchoesTheCloseCodeToo() throws IOException {
        try (RawClient client = open(exec)) {
            client.sendClose(4321, "");
            assertClosedWith(client, 4321);
        }
    }

    @Test
    void closeWithTheLongestReasonIsEchoed() throws IOException {
        try (RawClient client = open(echo)) {
            client.sendClose(1000, "r".repeat(123)); // 2 + 123 = 125 bytes, the most a control frame holds
            assertClosedWith(client, 1000);
        }
    }

    @Test
    void closeReasonThatIsNotUtf8Is1007() throws IOException {
        assertFails(echo, 1007, masked(0x80 | Opcode.CLOSE.code, concat(hex("03e8"), utf8("ok "), hex("ed a0 80"))));
        assertFails(echo, 1007, masked(0x80 | Opcode.CLOSE.code, concat(hex("03e8"), hex("ce"))));
    }

    @Test
    void nothingIsSentAfterTheCloseEvenWhenThePeerGoesOn() throws IOException {
        try (RawClient client = open(echo)) {
            // Close, then a ping, a message, and a second Close, all in one write.
            client.send(concat(client.frame(true, Opcode.CLOSE, WireFrames.closeBody(1000, "")),
                    client.frame(true, Opcode.PING, utf8("after close")),
                    client.frame(true, Opcode.TEXT, utf8("after close")),
                    client.frame(true, Opcode.CLOSE, WireFrames.closeBody(1001, ""))));
            assertClosedWith(client, 1000); // and nothing else: no pong, no echo, no second close
        }
    }

    @Test
    void closeInTheMiddleOfAFragmentedMessageIsEchoed() throws IOException {
        try (RawClient client = open(echo)) {
            client.send(concat(client.frame(false, Opcode.TEXT, utf8("half")), client.frame(true, Opcode.CLOSE, WireFrames.closeBody(1000, ""))));
            assertClosedWith(client, 1000);
        }
    }

    @Test
    void afterTheClosingHandshakeTheServerClosesTcpFirst() throws IOException, InterruptedException {
        try (RawClient client = open(echo)) {
            closeCleanly(client); // reads the echoed Close, then EOF while our side is still open
            // and the server lets go of the connection once we close ours
        }
        assertTrue(Processes.await(5000, () -> echo.server.openConnections() == 0), "echo still holds a connection");
    }

    @Test
    void serverDoesNotWaitForeverForAPeerThatNeverAnswersItsClose() throws IOException, InterruptedException {
        // A protocol error: the server sends Close 1002 and half-closes. The client neither answers
        // nor closes its side; the server must drop the connection once its close timeout passes.
        try (TestServer server = TestServer.echo(ECHO.withCloseTimeout(Duration.ofMillis(300)));
             RawClient client = open(server)) {
            client.send(client.rawFrame(0x80 | 0x10 | Opcode.TEXT.code, utf8("rsv")));
            Frame close = client.readFrame();
            assertEquals(1002, close.closeCode());
            assertTrue(Processes.await(5000, () -> server.server.openConnections() == 0),
                    "server still waits for a peer that will never answer");
        }
    }

    /**
     * A server-side connection on a plain accepted socket, with a thread in its receive loop,
     * so a test can start the closing handshake from the server (as shutdown does, with 1001).
     */
    record ServerSide(java.net.ServerSocket listener, java.net.Socket socket, WebSocket webSocket, Thread reader,
                      RawClient client) implements AutoCloseable {
        static ServerSide open(Duration closeTimeout) throws IOException {
            java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
            RawClient client = RawClient.connect(listener.getLocalPort()); // frames only: no handshake needed here
            java.net.Socket socket = listener.accept();
            WebSocket webSocket = new WebSocket(socket, socket.getInputStream(), ECHO.withCloseTimeout(closeTimeout), null);
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    while (webSocket.receive() != null) {
                        // data after our Close is read and dropped by receive() itself
                    }
                } catch (IOException e) {
                    // the connection ended
                }
            });
            return new ServerSide(listener, socket, webSocket, reader, client);
        }

        @Override
        public void close() throws IOException {
            webSocket.abort();
            client.close();
            listener.close();
        }
    }

    @Test
    void serverCloseWithASilentPeerEndsAfterTheCloseTimeout() throws Exception {
        try (ServerSide side = ServerSide.open(Duration.ofMillis(300))) {
            side.webSocket().close(1001, "going away");
            Frame close = side.client().readFrame();
            assertEquals(1001, close.closeCode());
            // The client never answers and never closes: the close timeout must end the wait.
            side.reader().join(Duration.ofSeconds(5));
            assertTrue(!side.reader().isAlive(), "receive() still waits for a Close that will never come");
            assertEquals(WebSocket.State.CLOSED, side.webSocket().state());
            assertNothingMore(side.client());
        }
    }

    @Test
    void peerThatKeepsSendingAfterOurCloseGetsNothingBackAndIsCutOff() throws Exception {
        try (ServerSide side = ServerSide.open(Duration.ofMillis(500))) {
            side.webSocket().close(1000, "");
            assertEquals(1000, side.client().readFrame().closeCode());
            // Pings, messages and fragments keep coming but never a Close: no pong, no echo,
            // and the connection ends when the close timeout passes.
            long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            try {
                while (side.reader().isAlive() && System.nanoTime() < end) {
                    side.client().send(concat(side.client().frame(true, Opcode.PING, utf8("ping?")),
                            side.client().frame(true, Opcode.TEXT, utf8("still talking")),
                            side.client().frame(false, Opcode.BINARY, hex("00"))));
                    side.client().send(side.client().frame(true, Opcode.CONTINUATION, hex("01")));
                    Thread.sleep(20);
                }
            } catch (SocketException e) {
                // the server closed the socket under our writes: that is the cut-off
            }
            side.reader().join(Duration.ofSeconds(5));
            assertTrue(!side.reader().isAlive(), "the server never stopped listening to a peer that does not close");
            assertNothingMore(side.client());
        }
    }

    @Test
    void peerThatAnswersOurCloseLateIsStillClosedCleanly() throws Exception {
        try (ServerSide side = ServerSide.open(Duration.ofSeconds(30))) {
            side.webSocket().close(1001, "going away");
            assertEquals(1001, side.client().readFrame().closeCode());
            side.client().send(concat(side.client().frame(true, Opcode.PING, utf8("ping?")),
                    side.client().frame(true, Opcode.TEXT, utf8("late message"))));
            side.client().sendClose(1001, "");
            // The peer's Close ends the handshake at once (not after the 30 s timeout), and the
            // server closes TCP first: the client sees EOF without having closed its side.
            assertNothingMore(side.client());
            side.client().close();
            side.reader().join(Duration.ofSeconds(5));
            assertTrue(!side.reader().isAlive());
            assertEquals(1001, side.webSocket().closeCodeReceived());
            assertEquals(1001, side.webSocket().closeCodeSent());
        }
    }

    // ---------------------------------------------------------------- slow delivery

    @Test
    void everyKindOfInputWorksOneBytePerWrite() throws IOException {
        byte[] medium = new byte[300]; // 16-bit length
        new Random(1).nextBytes(medium);
        byte[] large = new byte[70_000]; // 64-bit length
        new Random(2).nextBytes(large);
        try (RawClient client = open(echo)) {
            client.sendSlowly(client.frame(true, Opcode.TEXT, utf8("slow κόσμε 🚀")));
            assertEquals("slow κόσμε 🚀", expect(client, Opcode.TEXT).text());
            client.sendSlowly(client.frame(true, Opcode.BINARY, medium));
            assertArrayEquals(medium, expect(client, Opcode.BINARY).payload());
            byte[] largeFrame = client.frame(true, Opcode.BINARY, large);
            client.sendSlowly(java.util.Arrays.copyOf(largeFrame, 64)); // the 14-byte header and some payload
            client.send(java.util.Arrays.copyOfRange(largeFrame, 64, largeFrame.length));
            assertArrayEquals(large, expect(client, Opcode.BINARY).payload());
            client.sendSlowly(concat(client.frame(false, Opcode.TEXT, utf8("fr")),
                    client.frame(true, Opcode.PING, utf8("p")),
                    client.frame(false, Opcode.CONTINUATION, hex("ce")), // half of 'κ'
                    client.frame(true, Opcode.CONTINUATION, concat(hex("ba"), utf8("ag")))));
            assertEquals("p", expect(client, Opcode.PONG).text());
            assertEquals("frκag", expect(client, Opcode.TEXT).text());
            client.sendSlowly(client.frame(true, Opcode.CLOSE, WireFrames.closeBody(3000, "slow")));
            assertClosedWith(client, 3000);
        }
    }

    @Test
    void protocolErrorsAreFoundOneBytePerWriteToo() throws IOException {
        try (RawClient client = open(echo)) {
            client.sendSlowly(client.rawFrame(0x80 | 0x20 | Opcode.BINARY.code, utf8("slow")));
            assertClosedWith(client, 1002);
        }
        try (RawClient client = open(echo)) {
            client.sendSlowly(header(0x82, 127, ECHO.maxMessageSize() + 1L));
            assertClosedWith(client, 1009);
        }
    }

    // ---------------------------------------------------------------- volume (Autobahn 9, 10)

    /** Text of exactly {@code length} bytes, mixing 1- to 4-byte code points. */
    static byte[] mixedText(int length) {
        byte[] unit = utf8("wsexec κόσμε € 🚀 ");
        byte[] text = new byte[length];
        int i = 0;
        for (; i + unit.length <= length; i += unit.length) {
            System.arraycopy(unit, 0, text, i, unit.length);
        }
        java.util.Arrays.fill(text, i, length, (byte) '.');
        return text;
    }

    @Test
    void sixteenMebibyteMessagesInOneFrame() throws IOException {
        byte[] binary = new byte[16 << 20];
        new Random(16).nextBytes(binary);
        byte[] text = mixedText(16 << 20);
        try (RawClient client = open(echo)) {
            client.sendFrame(true, Opcode.BINARY, binary);
            assertArrayEquals(binary, expect(client, Opcode.BINARY).payload());
            client.sendFrame(true, Opcode.TEXT, text);
            assertArrayEquals(text, expect(client, Opcode.TEXT).payload());
            closeCleanly(client);
        }
    }

    @Test
    void fourMebibytesIn65536FragmentsOf64Bytes() throws IOException {
        // Text, so code points are cut at fragment boundaries all along the message.
        byte[] text = mixedText(4 << 20);
        try (RawClient client = open(echo)) {
            ByteArrayOutputStream wire = new ByteArrayOutputStream(text.length + 65_536 * 6);
            int fragments = 0;
            for (int i = 0; i < text.length; i += 64) {
                boolean last = i + 64 >= text.length;
                wire.writeBytes(client.frame(last, i == 0 ? Opcode.TEXT : Opcode.CONTINUATION, java.util.Arrays.copyOfRange(text, i, i + 64)));
                fragments++;
            }
            assertEquals(65_536, fragments);
            client.send(wire.toByteArray());
            assertArrayEquals(text, expect(client, Opcode.TEXT).payload());
            closeCleanly(client);
        }
    }

    @Test
    void thousandsOfSmallMessagesComeBackAllAndInOrder() throws Exception {
        int count = 10_000;
        try (RawClient client = open(echo)) {
            AtomicReference<Exception> writerFailure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    ByteArrayOutputStream batch = new ByteArrayOutputStream();
                    for (int i = 0; i < count; i++) {
                        batch.writeBytes(client.frame(true, i % 2 == 0 ? Opcode.TEXT : Opcode.BINARY, utf8("message " + i)));
                        if (batch.size() > 16_384) {
                            client.send(batch.toByteArray());
                            batch.reset();
                        }
                    }
                    client.send(batch.toByteArray());
                } catch (IOException e) {
                    writerFailure.set(e);
                }
            });
            for (int i = 0; i < count; i++) {
                Frame f = expect(client, i % 2 == 0 ? Opcode.TEXT : Opcode.BINARY);
                assertEquals("message " + i, f.text());
            }
            writer.join();
            assertNull(writerFailure.get());
            closeCleanly(client);
        }
    }
}
