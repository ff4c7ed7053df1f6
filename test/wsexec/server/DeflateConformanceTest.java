package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;
import wsexec.websocket.RawClient.Frame;
import wsexec.websocket.WireFrames;
import wsexec.websocket.Opcode;
import wsexec.websocket.PerMessageDeflate;
import wsexec.CommandLine;
import wsexec.common.Log;

/**
 * RFC 7692 permessage-deflate over real sockets, against {@code echo} with the limits
 * {@code wsexec echo} uses and the exec server with its defaults. The client side is the JDK's own
 * zlib ({@link Deflater}/{@link Inflater} with {@code nowrap}), so both ends of every compressed
 * byte are checked by an implementation that is not ours. docs/CONFORMANCE.md maps rules to tests.
 */
@Timeout(60)
class DeflateConformanceTest {
    static final String OFFER = "permessage-deflate; client_max_window_bits";
    static final String AGREED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    static final int RSV1 = 0b100;

    static TestServer echo;
    static TestServer echoOff;
    static TestServer exec;

    @BeforeAll
    static void start() throws IOException {
        echo = TestServer.echo(EchoEndpoint.LIMITS);
        echoOff = TestServer.echo(EchoEndpoint.LIMITS.withDeflate(PerMessageDeflate.Settings.OFF));
        exec = TestServer.exec();
    }

    @AfterAll
    static void stop() {
        echo.close();
        echoOff.close();
        exec.close();
    }

    // ---------------------------------------------------------------- helpers

    record Opened(RawClient client, String head) {
    }

    /** Connects with these Sec-WebSocket-Extensions header values (one header each) and reads the answer's head. */
    static Opened connect(TestServer server, String... offers) throws IOException {
        return connect(server.port(), offers);
    }

    static Opened connect(int port, String... offers) throws IOException {
        StringBuilder headers = new StringBuilder();
        for (String offer : offers) {
            headers.append("Sec-WebSocket-Extensions: ").append(offer).append("\r\n");
        }
        RawClient client = RawClient.connect(port);
        client.send(RawClient.upgradeRequest("/", headers.toString()).getBytes(StandardCharsets.ISO_8859_1));
        String head = client.readResponseHead();
        if (extensionsHeader(head) != null) {
            client.acceptCompressedFrames();
        }
        return new Opened(client, head);
    }

    static RawClient openCompressed(TestServer server) throws IOException {
        return openCompressed(server.port());
    }

    static RawClient openCompressed(int port) throws IOException {
        Opened opened = connect(port, OFFER);
        assertTrue(opened.head().startsWith("HTTP/1.1 101"), opened.head());
        assertEquals(AGREED, extensionsHeader(opened.head()));
        return opened.client();
    }

    static String extensionsHeader(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "Sec-WebSocket-Extensions:", 0, 25)) {
                return line.substring(25).strip();
            }
        }
        return null;
    }

    /** RFC 7692 §7.2.1 as a client does it: raw DEFLATE, sync flush, the 00 00 ff ff tail removed. */
    static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(6, true);
        try {
            deflater.setInput(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[1 << 16];
            int n;
            do {
                n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
                out.write(chunk, 0, n);
            } while (n == chunk.length || !deflater.needsInput());
            byte[] all = out.toByteArray();
            assertArrayEquals(new byte[] {0, 0, -1, -1}, Arrays.copyOfRange(all, all.length - 4, all.length));
            return Arrays.copyOf(all, all.length - 4);
        } finally {
            deflater.end();
        }
    }

    /** RFC 7692 §7.2.2 as a client does it: the tail appended, inflated with a fresh Inflater (server_no_context_takeover). */
    static byte[] inflate(byte[] payload) {
        Inflater inflater = new Inflater(true);
        try {
            byte[] in = Arrays.copyOf(payload, payload.length + 4);
            in[payload.length + 2] = (byte) 0xFF;
            in[payload.length + 3] = (byte) 0xFF;
            inflater.setInput(in);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[1 << 16];
            while (!inflater.needsInput() && !inflater.finished()) {
                out.write(chunk, 0, inflater.inflate(chunk));
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new AssertionError("the server sent data that is not DEFLATE", e);
        } finally {
            inflater.end();
        }
    }

    /** A masked frame with RSV1 set: the first frame of a compressed message. */
    static byte[] compressedFrame(RawClient client, boolean fin, Opcode opcode, byte[] deflated) {
        byte[] frame = client.frame(fin, opcode, deflated);
        frame[0] |= 0x40;
        return frame;
    }

    /** The payload of a server frame, inflated if it has RSV1. */
    static byte[] payloadOf(Frame frame) {
        return (frame.header().rsv() & RSV1) != 0 ? inflate(frame.payload()) : frame.payload();
    }

    static Frame expect(RawClient client, Opcode opcode) throws IOException {
        Frame f = client.readFrame();
        assertNotNull(f, "connection ended, expected " + opcode);
        assertEquals(opcode, f.opcode(), () -> "got " + f.opcode() + " " + f.text());
        return f;
    }

    /** Waits, up to a deadline, for a count to reach a value; false if it never does. */
    static boolean eventually(IntSupplier value, int expected) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (value.getAsInt() == expected) {
                return true;
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        return value.getAsInt() == expected;
    }

    // ---------------------------------------------------------------- negotiation (RFC 7692 §5, §7.1)

    @Test
    void theResponseNamesTheFirstOfferThatCanBeHonoured() throws IOException {
        Opened plain = connect(echo, "permessage-deflate");
        assertEquals(AGREED, extensionsHeader(plain.head()));
        plain.client().close();
        // several offers in one header, several headers: unknown extensions and bad offers are declined
        Opened several = connect(echo, "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=20",
                "permessage-deflate; server_max_window_bits=11; client_max_window_bits=13, permessage-deflate");
        assertTrue(several.head().startsWith("HTTP/1.1 101"), several.head());
        assertEquals(AGREED + "; server_max_window_bits=11; client_max_window_bits=13", extensionsHeader(several.head()));
        // and the window of 2^11 is honoured: what comes back inflates (with any window, as it has no back-references)
        byte[] text = "0123456789".repeat(500).getBytes(StandardCharsets.US_ASCII);
        several.client().send(compressedFrame(several.client(), true, Opcode.TEXT, deflate(text)));
        Frame reply = expect(several.client(), Opcode.TEXT);
        assertEquals(RSV1, reply.header().rsv());
        assertArrayEquals(text, payloadOf(reply));
        several.client().close();
    }

    @Test
    void anOfferThatCannotBeHonouredGetsNoExtension() throws IOException {
        Opened opened = connect(echo, "permessage-deflate; server_max_window_bits=7", "permessage-deflate; mystery=1");
        assertTrue(opened.head().startsWith("HTTP/1.1 101"), opened.head());
        assertEquals(null, extensionsHeader(opened.head()));
        // no extension: RSV1 is a protocol error as ever
        opened.client().send(compressedFrame(opened.client(), true, Opcode.TEXT, deflate("hi".getBytes(StandardCharsets.US_ASCII))));
        ConformanceTest.assertClosedWith(opened.client(), 1002);
        opened.client().close();
    }

    @Test
    void aMalformedExtensionsHeaderIs400() throws IOException {
        int before = PerMessageDeflate.liveZlibStreams();
        Opened opened = connect(echo, "permessage-deflate; server_max_window_bits=\"10");
        assertTrue(opened.head().startsWith("HTTP/1.1 400"), opened.head());
        opened.client().close();
        assertEquals(before, PerMessageDeflate.liveZlibStreams());
    }

    @Test
    void deflateOffAnswersNoExtensionAndRefusesRsv1() throws IOException {
        Opened opened = connect(echoOff, OFFER);
        assertTrue(opened.head().startsWith("HTTP/1.1 101"), opened.head());
        assertEquals(null, extensionsHeader(opened.head()));
        opened.client().send(compressedFrame(opened.client(), true, Opcode.TEXT, deflate("hi".getBytes(StandardCharsets.US_ASCII))));
        ConformanceTest.assertClosedWith(opened.client(), 1002);
        opened.client().close();
    }

    // ---------------------------------------------------------------- messages (§6, §7.2)

    @Test
    void compressedMessagesRoundTripThroughEcho() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            byte[] text = "line of command output\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
            client.send(compressedFrame(client, true, Opcode.TEXT, deflate(text)));
            Frame reply = expect(client, Opcode.TEXT);
            assertEquals(RSV1, reply.header().rsv(), "the echo comes back compressed");
            assertTrue(reply.payload().length < text.length / 10, "compressed to " + reply.payload().length);
            assertArrayEquals(text, payloadOf(reply));

            byte[] binary = new byte[100_000];
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) (i % 251 < 128 ? i % 7 : 0);
            }
            client.send(compressedFrame(client, true, Opcode.BINARY, deflate(binary)));
            Frame binaryReply = expect(client, Opcode.BINARY);
            assertEquals(RSV1, binaryReply.header().rsv());
            assertArrayEquals(binary, payloadOf(binaryReply));

            // uncompressed messages are still accepted on a connection with the extension
            client.sendText("plain");
            Frame plain = expect(client, Opcode.TEXT);
            assertEquals(0, plain.header().rsv());
            assertEquals("plain", plain.text());

            // random bytes do not compress: they go back uncompressed
            byte[] noise = new byte[4096];
            new java.util.Random(7692).nextBytes(noise);
            client.send(compressedFrame(client, true, Opcode.BINARY, deflate(noise)));
            Frame noiseReply = expect(client, Opcode.BINARY);
            assertEquals(0, noiseReply.header().rsv());
            assertArrayEquals(noise, noiseReply.payload());
            ConformanceTest.closeCleanly(client);
        }
    }

    @Test
    void messagesBelowTheThresholdGoUncompressed() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            int threshold = PerMessageDeflate.Settings.DEFAULTS.threshold();
            client.sendText("a".repeat(threshold - 1));
            assertEquals(0, expect(client, Opcode.TEXT).header().rsv());
            client.sendText("a".repeat(threshold));
            Frame at = expect(client, Opcode.TEXT);
            assertEquals(RSV1, at.header().rsv());
            assertEquals("a".repeat(threshold), new String(payloadOf(at), StandardCharsets.US_ASCII));
            ConformanceTest.closeCleanly(client);
        }
    }

    @Test
    void aFragmentedCompressedMessageWithAPingBetween() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            byte[] text = "κόσμε 🚀 fragments\n".repeat(400).getBytes(StandardCharsets.UTF_8);
            byte[] deflated = deflate(text);
            int third = deflated.length / 3;
            client.send(compressedFrame(client, false, Opcode.TEXT, Arrays.copyOfRange(deflated, 0, third)));
            client.sendFrame(true, Opcode.PING, "between".getBytes(StandardCharsets.US_ASCII));
            assertEquals("between", expect(client, Opcode.PONG).text());
            client.sendFrame(false, Opcode.CONTINUATION, Arrays.copyOfRange(deflated, third, 2 * third));
            client.sendFrame(true, Opcode.CONTINUATION, Arrays.copyOfRange(deflated, 2 * third, deflated.length));
            assertArrayEquals(text, payloadOf(expect(client, Opcode.TEXT)));
            ConformanceTest.closeCleanly(client);
        }
    }

    @Test
    void rsv1OnAContinuationFrameIs1002() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            byte[] deflated = deflate("split in two".repeat(30).getBytes(StandardCharsets.US_ASCII));
            client.send(compressedFrame(client, false, Opcode.TEXT, Arrays.copyOf(deflated, 5)));
            byte[] continuation = client.frame(true, Opcode.CONTINUATION, Arrays.copyOfRange(deflated, 5, deflated.length));
            continuation[0] |= 0x40; // RFC 7692 §6: only the first frame of a message may carry it
            client.send(continuation);
            ConformanceTest.assertClosedWith(client, 1002);
        }
    }

    @Test
    void rsv1OnAControlFrameIs1002() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            client.send(compressedFrame(client, true, Opcode.PING, new byte[] {0}));
            ConformanceTest.assertClosedWith(client, 1002);
        }
    }

    @Test
    void dataThatDoesNotInflateIs1007() throws IOException {
        try (RawClient client = openCompressed(echo)) {
            client.send(compressedFrame(client, true, Opcode.BINARY, new byte[] {(byte) 0xFF, (byte) 0xFF, 0x00}));
            ConformanceTest.assertClosedWith(client, 1007);
        }
        try (RawClient client = openCompressed(exec)) {
            // text that inflates to bytes that are not UTF-8: 1007 as for plain text
            client.send(compressedFrame(client, true, Opcode.TEXT, deflate(new byte[] {'{', (byte) 0xC0, (byte) 0xAF, '}'})));
            ConformanceTest.assertClosedWith(client, 1007);
        }
    }

    // ---------------------------------------------------------------- limits and native memory

    /** 1 GiB of zeros, DEFLATEd (about 1 MB): made once. */
    static byte[] gibibyteOfZeros() {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        try {
            byte[] zeros = new byte[1 << 20];
            ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
            byte[] chunk = new byte[1 << 16];
            for (int i = 0; i < 1024; i++) {
                deflater.setInput(zeros);
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

    @Test
    void aDecompressionBombIs1009AndTheServerServesTheNextClient() throws Exception {
        byte[] bomb = gibibyteOfZeros();
        assertTrue(bomb.length < 1_100_000, "1 GiB of zeros DEFLATEd: " + bomb.length + " bytes");
        int before = PerMessageDeflate.liveZlibStreams();
        try (RawClient client = openCompressed(exec)) {
            // The whole bomb in 64 KiB frames, written by a thread of its own: the server fails the
            // connection long before the last frame and drains what follows.
            AtomicReference<IOException> sendFailure = new AtomicReference<>();
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    int frame = 1 << 16;
                    for (int offset = 0; offset < bomb.length; offset += frame) {
                        byte[] part = Arrays.copyOfRange(bomb, offset, Math.min(bomb.length, offset + frame));
                        boolean last = offset + frame >= bomb.length;
                        client.send(offset == 0 ? compressedFrame(client, last, Opcode.BINARY, part)
                                : client.frame(last, Opcode.CONTINUATION, part));
                    }
                } catch (IOException e) {
                    sendFailure.set(e); // the server may close before the last frame is written
                }
            });
            Frame close = client.readUntilClose();
            assertNotNull(close, "no Close frame");
            assertEquals(1009, close.closeCode(), close.text());
            sender.join(30_000);
            assertFalse(sender.isAlive());
        }
        assertTrue(eventually(PerMessageDeflate::liveZlibStreams, before), "a zlib stream outlived the connection");
        // and the server goes on serving: a compressed exec on a new connection
        try (RawClient next = openCompressed(exec)) {
            next.sendText("{\"type\":\"exec\",\"id\":\"n\",\"command\":\"echo next\"}");
            StringBuilder events = new StringBuilder();
            while (!events.toString().contains("\"type\":\"exit\"")) {
                Frame f = expect(next, Opcode.TEXT);
                events.append(new String(payloadOf(f), StandardCharsets.UTF_8));
            }
            assertTrue(events.toString().contains("next\\n"), events.toString());
        }
    }

    @Test
    void execOutputIsSentCompressed() throws IOException {
        try (RawClient client = openCompressed(exec)) {
            // All of it written first, then cat of the file: cat writes 128 KiB blocks, so the pipe is
            // full at every read and the events are large whatever the machine's load. (A pipe from seq
            // under line buffering, even through cat, is read a few lines at a time on a busy machine,
            // and small messages, each compressed alone, compress less.)
            client.sendText("{\"type\":\"exec\",\"id\":\"s\",\"command\":\"f=$(mktemp) && seq 1 100000 > $f && cat $f; rm -f $f\"}");
            StringBuilder stdout = new StringBuilder();
            long wire = 0;
            int compressed = 0;
            while (true) {
                Frame f = expect(client, Opcode.TEXT);
                wire += f.payload().length;
                if ((f.header().rsv() & RSV1) != 0) {
                    compressed++;
                }
                String event = new String(payloadOf(f), StandardCharsets.UTF_8);
                if (event.contains("\"type\":\"exit\"")) {
                    break;
                }
                if (event.contains("\"type\":\"output\"")) {
                    int start = event.indexOf("\"data\":\"") + 8;
                    stdout.append(event, start, event.lastIndexOf('"')).append("");
                }
            }
            StringBuilder expected = new StringBuilder();
            for (int i = 1; i <= 100_000; i++) {
                expected.append(i).append("\\n"); // as JSON escapes it
            }
            assertEquals(expected.toString(), stdout.toString());
            assertTrue(compressed > 0, "no frame was compressed");
            assertTrue(wire * 3 < expected.length(), "wire " + wire + " bytes for " + expected.length() + " bytes of events");
        }
    }

    @Test
    void binaryOutputFramesAreCompressedAlike() throws IOException {
        try (RawClient client = openCompressed(exec)) {
            client.sendText("{\"type\":\"exec\",\"id\":\"b\",\"binary\":true,\"command\":\"seq 1 50000\"}");
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            int compressed = 0;
            while (true) {
                Frame f = client.readFrame();
                assertNotNull(f);
                if (f.opcode() == Opcode.TEXT && new String(payloadOf(f), StandardCharsets.UTF_8).contains("\"type\":\"exit\"")) {
                    break;
                }
                if (f.opcode() == Opcode.BINARY) {
                    compressed += (f.header().rsv() & RSV1) != 0 ? 1 : 0;
                    byte[] payload = payloadOf(f);
                    assertEquals(1, payload[0], "stdout");
                    stdout.write(payload, 3, payload.length - 3); // 01, id length 1, "b", then the bytes
                }
            }
            StringBuilder expected = new StringBuilder();
            for (int i = 1; i <= 50_000; i++) {
                expected.append(i).append('\n');
            }
            assertEquals(expected.toString(), stdout.toString(StandardCharsets.US_ASCII));
            assertTrue(compressed > 0, "no binary frame was compressed");
        }
    }

    @Test
    void programModeLinesAreCompressedToo() throws IOException {
        String line = "program line ".repeat(40); // 520 bytes: over the threshold
        Server.Config config = TestServer.serverConfig(TestServer.policy(null, java.util.List.of(), java.util.List.of(),
                java.util.List.of("sh", "-c", "for i in 1 2 3; do echo '" + line + "'$i; done")));
        try (TestServer program = TestServer.program(config, new ProgramEndpoint.Config(false, ProgramEndpoint.Config.DEFAULT_PASS_ENV,
                java.time.Duration.ofSeconds(1), ProgramEndpoint.Config.DEFAULT_MAX_LINE_BYTES));
             RawClient client = openCompressed(program)) {
            for (int i = 1; i <= 3; i++) {
                Frame f = expect(client, Opcode.TEXT);
                assertEquals(RSV1, f.header().rsv(), "line " + i);
                assertEquals(line + i, new String(payloadOf(f), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void aConnectionDroppedInsideACompressedMessageEndsItsInflater() throws IOException {
        int before = PerMessageDeflate.liveZlibStreams();
        RawClient client = openCompressed(echo);
        byte[] deflated = deflate("half a message ".repeat(100).getBytes(StandardCharsets.US_ASCII));
        client.send(compressedFrame(client, false, Opcode.TEXT, Arrays.copyOf(deflated, deflated.length / 2)));
        assertTrue(eventually(PerMessageDeflate::liveZlibStreams, before + 1), "the Inflater of the message in progress");
        client.close(); // no Close frame, no FIN on the message: the TCP connection just ends
        assertTrue(eventually(PerMessageDeflate::liveZlibStreams, before), "the Inflater was not ended");
    }

    // ---------------------------------------------------------------- --trace, /metrics, flags

    @Test
    void traceShowsCompressedSizesAndMetricsCountBothSides() throws Exception {
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        Log.to(new java.io.PrintStream(log, true, StandardCharsets.UTF_8));
        byte[] text = "x".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        byte[] deflated = deflate(text);
        Server traced = new Server(TestServer.serverConfig(EchoEndpoint.LIMITS), new EchoEndpoint(),
                new Server.Observability(true, false)).start();
        try (RawClient client = openCompressed(traced.port())) {
            client.send(compressedFrame(client, true, Opcode.TEXT, deflated));
            Frame reply = expect(client, Opcode.TEXT);
            assertArrayEquals(text, payloadOf(reply));
            String wire = reply.payload().length + " bytes";
            assertTrue(eventually(() -> log.toString(StandardCharsets.UTF_8).contains("compressed 1000→" + wire) ? 1 : 0, 1),
                    log.toString(StandardCharsets.UTF_8));
            String out = log.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("| Sec-WebSocket-Extensions: " + AGREED), out);
            assertTrue(out.contains("C->S FIN=1 RSV=100 TEXT   MASK=1"), out);
            assertTrue(out.contains("C->S inflated " + deflated.length + "→1000 bytes"), out);
            assertTrue(out.contains("S->C FIN=1 RSV=100 TEXT   MASK=0 len=" + reply.payload().length), out);
            Metrics metrics = traced.metrics();
            assertEquals(1000, metrics.deflateOutUncompressed.sum());
            assertEquals(reply.payload().length, metrics.deflateOutCompressed.sum());
            assertEquals(1000, metrics.deflateInUncompressed.sum());
            assertEquals(deflated.length, metrics.deflateInCompressed.sum());
            String prometheus = metrics.prometheus();
            assertTrue(prometheus.contains("wsexec_deflate_uncompressed_bytes_total{direction=\"out\"} 1000\n"), prometheus);
            assertTrue(prometheus.contains("wsexec_deflate_compressed_bytes_total{direction=\"in\"} " + deflated.length + "\n"), prometheus);
            assertTrue(prometheus.contains("wsexec_deflate_zlib_streams "), prometheus);
        } finally {
            traced.stop(java.time.Duration.ofSeconds(1));
            Log.to(System.err);
        }
    }

    @Test
    void theFlagsAreParsedForServeAndEchoWithTheirDefaults() throws Exception {
        CommandLine.Serve serve = (CommandLine.Serve) CommandLine.parse(new String[] {"serve"});
        assertEquals(new PerMessageDeflate.Settings(true, 256, 6), serve.server().limits().deflate());
        CommandLine.Serve set = (CommandLine.Serve) CommandLine.parse(new String[] {"serve", "--deflate", "off",
                "--deflate-threshold", "1KiB", "--deflate-level=9"});
        assertEquals(new PerMessageDeflate.Settings(false, 1024, 9), set.server().limits().deflate());
        CommandLine.Echo echoFlags = (CommandLine.Echo) CommandLine.parse(new String[] {"echo", "--deflate-level", "1"});
        assertEquals(new PerMessageDeflate.Settings(true, 256, 1), echoFlags.server().limits().deflate());
        assertEquals(64 << 20, echoFlags.server().limits().maxMessageSize(), "the other echo limits stay");
        for (String[] bad : new String[][] {{"serve", "--deflate", "yes"}, {"serve", "--deflate-level", "0"},
                {"echo", "--deflate-level", "10"}, {"serve", "--deflate-threshold", "big"}}) {
            org.junit.jupiter.api.Assertions.assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(bad), String.join(" ", bad));
        }
        for (String flag : new String[] {"--deflate on|off", "--deflate-threshold SIZE", "--deflate-level N"}) {
            assertTrue(CommandLine.USAGE.contains(flag), flag);
        }
    }
}
