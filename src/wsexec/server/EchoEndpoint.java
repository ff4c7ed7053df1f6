package wsexec.server;

import java.io.IOException;
import java.time.Duration;

import wsexec.websocket.CloseCode;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Message;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/**
 * The {@code echo} endpoint: every text message comes back as text, every
 * binary message as binary. It runs through the same handshake, framing,
 * fragmentation, ping/pong, close and UTF-8 code as {@code serve}, so a
 * conformance suite pointed at it judges the exec server's WebSocket layer.
 */
public final class EchoEndpoint implements Server.Endpoint {
    /**
     * The limits {@code wsexec echo} runs with: conformance suites send 16 MiB messages in one
     * frame and 4 MiB messages as 65,536 fragments of 64 bytes, so both limits leave room above
     * that; the exec server keeps its strict defaults ({@link WebSocketLimits#DEFAULTS}).
     */
    public static final WebSocketLimits LIMITS = new WebSocketLimits(64 << 20, 100_000, Duration.ofSeconds(5));

    @Override
    public Server.Handler open(WebSocket webSocket, Server.Peer peer, AccessPolicy.Admission admission) {
        webSocket.gatherReplies(); // the connection's thread is the only sender of data frames here
        // The server logs the end of every connection, with both close codes.
        return message -> {
            try {
                switch (message) {
                    case Message.Text text -> webSocket.sendText(text.text());
                    case Message.Binary binary -> webSocket.sendBinary(binary.data());
                    default -> {
                    }
                }
            } catch (IOException e) {
                if (webSocket.state() == WebSocket.State.OPEN) {
                    webSocket.close(CloseCode.INTERNAL_ERROR, "send failed");
                }
            }
            return true;
        };
    }
}
