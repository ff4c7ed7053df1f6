package wsexec.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link WebSocket#accept}: the embedder's entry point, over a real loopback socket. */
@Timeout(20)
class AcceptTest {

    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private static String request(String extraHeaders) {
        return "GET /chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
    }

    /** Sends the request, runs accept on the server side; returns the response head and the accepted WebSocket. */
    private record Outcome(String response, CompletableFuture<WebSocket> accepted) {
    }

    private static Outcome handshake(String request, List<String> subprotocols) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
            client.setSoTimeout(5000);
            Socket server = listener.accept();
            CompletableFuture<WebSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return WebSocket.accept(server, WebSocketLimits.DEFAULTS, subprotocols);
                } catch (IOException | HandshakeException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            client.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            StringBuilder head = new StringBuilder();
            int b;
            while (!head.toString().endsWith("\r\n\r\n") && (b = client.getInputStream().read()) >= 0) {
                head.append((char) b);
            }
            try {
                accepted.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // the refusal: the future says so
            }
            return new Outcome(head.toString(), accepted);
        }
    }

    @Test
    void acceptAnswers101WithTheServersPreferredSubprotocol() throws Exception {
        Outcome o = handshake(request("Sec-WebSocket-Protocol: chat, superchat\r\n"), List.of("superchat", "chat"));
        assertTrue(o.response().startsWith("HTTP/1.1 101 "), o.response());
        assertTrue(o.response().contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), o.response());
        assertTrue(o.response().contains("\r\nSec-WebSocket-Protocol: superchat\r\n"), o.response());
        WebSocket ws = o.accepted().get();
        assertEquals("superchat", ws.subprotocol());
        assertEquals("/chat", ws.request().path());
        assertEquals("room=1", ws.request().query());
        ws.abort();
    }

    @Test
    void noSubprotocolIsNamedWhenTheClientOffersNoneTheServerSpeaks() throws Exception {
        Outcome o = handshake(request("Sec-WebSocket-Protocol: chat\r\n"), List.of("mqtt"));
        assertTrue(o.response().startsWith("HTTP/1.1 101 "), o.response());
        assertTrue(!o.response().contains("Sec-WebSocket-Protocol"), o.response());
        assertNull(o.accepted().get().subprotocol());
        o.accepted().get().abort();
    }

    @Test
    void aBadHandshakeIsAnsweredWithItsStatusAndThrown() throws Exception {
        Outcome o = handshake(request("").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), List.of());
        assertTrue(o.response().startsWith("HTTP/1.1 426 "), o.response());
        ExecutionException e = assertThrows(ExecutionException.class, () -> o.accepted().get());
        assertEquals(426, ((HandshakeException) e.getCause()).status());
    }
}
