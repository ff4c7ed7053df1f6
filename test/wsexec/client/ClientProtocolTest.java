package wsexec.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.Handshake;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Message;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/**
 * The {@code run} client against a scripted server, for event orders a real server
 * produces only by chance.
 */
@Timeout(30)
class ClientProtocolTest {

    /** Accepts one client, waits for its exec, then sends the given events in order. */
    static CompletableFuture<Void> scriptedServer(ServerSocket listener, List<String> events) {
        return CompletableFuture.runAsync(() -> {
            try (Socket socket = listener.accept()) {
                InputStream in = new BufferedInputStream(socket.getInputStream());
                byte[] head = Handshake.readHead(in, Handshake.MAX_HEAD_BYTES);
                String accept = Handshake.accept(HttpRequest.parse(head, head.length));
                socket.getOutputStream().write(Handshake.switchingProtocols(accept));
                WebSocket webSocket = new WebSocket(socket, in, WebSocketLimits.DEFAULTS, null);
                Message first = webSocket.receive();
                assertTrue(first instanceof Message.Text t && t.text().contains("\"type\":\"exec\""), String.valueOf(first));
                for (String event : events) {
                    webSocket.sendText(event);
                }
                while (webSocket.receive() != null) {
                    // read the client's stdin messages and its close
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, task -> Thread.ofPlatform().name("scripted-server").start(task)); // not the common pool, which the JDK client uses
    }

    @Test
    void anUnknownJobErrorRacingTheExitDoesNotEndTheRun() throws Exception {
        // The client's stdin EOF can reach the server just after the job ended: the server then
        // answers "unknown_job" before the exit event it is about to send.
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> server = scriptedServer(listener, List.of(
                    "{\"type\":\"started\",\"id\":\"1\",\"pid\":1}",
                    "{\"type\":\"output\",\"id\":\"1\",\"stream\":\"stdout\",\"data\":\"done\\n\"}",
                    "{\"type\":\"error\",\"id\":\"1\",\"code\":\"unknown_job\",\"message\":\"no running job with id \\\"1\\\"\"}",
                    "{\"type\":\"exit\",\"id\":\"1\",\"code\":7,\"durationMs\":1}"));
            Clients.Result r = Clients.main(new byte[0], "run", "--url",
                    "ws://127.0.0.1:" + listener.getLocalPort() + "/?token=scripted-server-token", "--", "true");
            assertEquals(7, r.status(), r.err());
            assertEquals("done\n", r.out());
            assertEquals("", r.err());
            server.get();
        }
    }

    @Test
    void anErrorAboutTheExecEndsTheRunWithItsMessage() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> server = scriptedServer(listener, List.of(
                    "{\"type\":\"error\",\"id\":\"1\",\"code\":\"forbidden\",\"message\":\"command not allowed\"}"));
            Clients.Result r = Clients.main(new byte[0], "run", "--url",
                    "ws://127.0.0.1:" + listener.getLocalPort() + "/?token=scripted-server-token", "--", "rm -rf /");
            assertEquals(Client.FAILED, r.status());
            assertEquals("wsexec: command not allowed\n", r.err());
            server.get();
        }
    }
}
