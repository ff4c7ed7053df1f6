import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

import wsexec.websocket.HandshakeException;
import wsexec.websocket.Message;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/** A WebSocket echo server on 127.0.0.1: every message comes back as it was sent. */
public class EchoServer {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 9001;
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            System.out.println("listening on ws://127.0.0.1:" + server.getLocalPort() + "/");
            while (true) {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> echo(socket)); // one virtual thread per connection
            }
        }
    }

    static void echo(Socket socket) {
        try (WebSocket ws = WebSocket.accept(socket, WebSocketLimits.DEFAULTS)) {
            for (Message m; (m = ws.receive()) != null; ) { // null: the connection is closed
                switch (m) {
                    case Message.Text text -> ws.sendText(text.text());
                    case Message.Binary binary -> ws.sendBinary(binary.data());
                    default -> { } // pings and closes are answered by receive()
                }
            }
        } catch (IOException | HandshakeException e) {
            System.err.println(socket.getRemoteSocketAddress() + ": " + e.getMessage());
        }
    }
}
