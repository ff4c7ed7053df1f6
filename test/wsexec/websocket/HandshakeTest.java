package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import wsexec.common.Version;

class HandshakeTest {

    static final String VALID = "GET /chat HTTP/1.1\r\n"
            + "Host: server.example.com\r\n"
            + "Upgrade: websocket\r\n"
            + "Connection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Origin: http://example.com\r\n"
            + "Sec-WebSocket-Version: 13\r\n";

    static HttpRequest parse(String head) throws Exception {
        byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
        int length = bytes.length;
        // parse() takes the head without its final CRLF
        if (head.endsWith("\r\n")) {
            length -= 2;
        }
        return HttpRequest.parse(bytes, length);
    }

    static int statusOf(String head) throws Exception {
        return assertThrows(HandshakeException.class, () -> Handshake.accept(parse(head))).status();
    }

    @Test
    void rfcSection13KeyGivesTheRfcAcceptValue() {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Handshake.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    @Test
    void acceptsTheRfcExampleRequest() throws Exception {
        HttpRequest request = parse(VALID);
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Handshake.accept(request));
        assertEquals("/chat", request.path());
        String response = new String(Handshake.switchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), StandardCharsets.US_ASCII);
        assertTrue(response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
        assertTrue(response.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assertTrue(response.endsWith("\r\n\r\n"));
    }

    @Test
    void headerNamesAndUpgradeTokenIgnoreCaseAndConnectionIsATokenList() throws Exception {
        String firefox = VALID.replace("Upgrade: websocket", "upgrade: WebSocket")
                .replace("Connection: Upgrade", "Connection: keep-alive, Upgrade");
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Handshake.accept(parse(firefox)));
    }

    @Test
    void wrongVersionGets426WithTheVersionWeSpeak() throws Exception {
        HandshakeException e = assertThrows(HandshakeException.class,
                () -> Handshake.accept(parse(VALID.replace("Version: 13", "Version: 8"))));
        assertEquals(426, e.status());
        assertEquals("13", e.headers().get("Sec-WebSocket-Version"));
        String response = new String(Handshake.errorResponse(e), StandardCharsets.UTF_8);
        assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"));
        assertTrue(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    @Test
    void everyOtherBadUpgradeGets400() throws Exception {
        assertEquals(400, statusOf(VALID.replace("GET ", "POST ")));
        assertEquals(400, statusOf(VALID.replace("HTTP/1.1", "HTTP/1.0")));
        assertEquals(400, statusOf(VALID.replace("Host: server.example.com\r\n", "")));
        assertEquals(400, statusOf(VALID.replace("Upgrade: websocket", "Upgrade: h2c")));
        assertEquals(400, statusOf(VALID.replace("Connection: Upgrade", "Connection: keep-alive")));
        assertEquals(400, statusOf(VALID.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")));
        assertEquals(400, statusOf(VALID.replace("dGhlIHNhbXBsZSBub25jZQ==", "dG9vIHNob3J0")), "decodes to 9 bytes");
        assertEquals(400, statusOf(VALID.replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64 at all!!")));
    }

    @Test
    void missingVersionIsAVersionProblem() throws Exception {
        // §4.4: an absent version is not one we speak: the client learns which we do.
        HttpRequest request = parse(VALID.replace("Sec-WebSocket-Version: 13\r\n", ""));
        assertEquals(426, assertThrows(HandshakeException.class, () -> Handshake.accept(request)).status());
    }

    @Test
    void malformedHeadsAre400() {
        assertEquals(400, assertThrows(HandshakeException.class, () -> parse("GET /\r\n")).status());
        assertEquals(400, assertThrows(HandshakeException.class, () -> parse("GET / HTTP/1.1\r\nno colon here\r\n")).status());
        assertEquals(400, assertThrows(HandshakeException.class, () -> parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n")).status());
    }

    @Test
    void moreThan100HeadersIs431() {
        StringBuilder head = new StringBuilder(VALID);
        for (int i = 0; i < 95; i++) {
            head.append("X-Filler-").append(i).append(": x\r\n");
        }
        assertEquals(431, assertThrows(HandshakeException.class, () -> parse(head.toString())).status());
    }

    @Test
    void readHeadStopsAtTheBlankLineAndLeavesTheRest() throws Exception {
        byte[] wire = (VALID + "\r\n" + "FRAME").getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayInputStream in = new ByteArrayInputStream(wire);
        byte[] head = Handshake.readHead(in, Handshake.MAX_HEAD_BYTES);
        assertEquals(VALID.length() - 2, head.length);
        assertEquals("FRAME", new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void readHeadRefusesAHeadOverTheLimitWith431() {
        String big = VALID + "X-Big: " + "a".repeat(9000) + "\r\n\r\n";
        HandshakeException e = assertThrows(HandshakeException.class,
                () -> Handshake.readHead(new ByteArrayInputStream(big.getBytes(StandardCharsets.ISO_8859_1)), Handshake.MAX_HEAD_BYTES));
        assertEquals(431, e.status());
    }

    @Test
    void readHeadReportsAPeerThatLeavesEarly() {
        assertThrows(EOFException.class, () -> Handshake.readHead(new ByteArrayInputStream("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1)), 8192));
    }
}
