package wsexec;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;

import wsexec.websocket.Handshake;
import wsexec.websocket.WebSocketLimits;

/** A real server on an ephemeral loopback port, for one test; stopped by close(). */
final class TestServer implements AutoCloseable {
    final Server server;
    final ExecEndpoint exec;

    private TestServer(Server server, ExecEndpoint exec) {
        this.server = server;
        this.exec = exec;
    }

    static {
        Log.quiet(true);
    }

    static Server.Config serverConfig(WebSocketLimits limits) {
        try {
            return new Server.Config(InetAddress.getByName("127.0.0.1"), 0, limits, Duration.ofSeconds(10),
                    Handshake.MAX_HEAD_BYTES, 1024);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static TestServer exec() throws IOException {
        return exec(ExecEndpoint.Config.DEFAULTS);
    }

    static TestServer exec(ExecEndpoint.Config config) throws IOException {
        return exec(serverConfig(WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2))), config);
    }

    static TestServer exec(Server.Config serverConfig, ExecEndpoint.Config config) throws IOException {
        ExecEndpoint endpoint = new ExecEndpoint(config);
        return new TestServer(new Server(serverConfig, endpoint).start(), endpoint);
    }

    static TestServer echo(WebSocketLimits limits) throws IOException {
        return new TestServer(new Server(serverConfig(limits), new EchoEndpoint()).start(), null);
    }

    int port() {
        return server.port();
    }

    String url() {
        return "ws://127.0.0.1:" + port() + "/";
    }

    @Override
    public void close() {
        server.stop(Duration.ofSeconds(1));
    }
}
