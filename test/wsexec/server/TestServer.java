package wsexec.server;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import wsexec.websocket.Handshake;
import wsexec.websocket.WebSocketLimits;
import wsexec.common.Log;

/** A real server on an ephemeral loopback port, for one test; stopped by close(). */
public final class TestServer implements AutoCloseable {
    final Server server;
    final ExecEndpoint exec;

    private TestServer(Server server, ExecEndpoint exec) {
        this.server = server;
        this.exec = exec;
    }

    static {
        Log.quiet(true);
    }

    public static Server.Config serverConfig(WebSocketLimits limits) {
        try {
            return new Server.Config(InetAddress.getByName("127.0.0.1"), 0, limits, Duration.ofSeconds(10),
                    Handshake.MAX_HEAD_BYTES, 1024);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TestServer exec() throws IOException {
        return exec(ExecEndpoint.Config.DEFAULTS);
    }

    public static TestServer exec(ExecEndpoint.Config config) throws IOException {
        return exec(serverConfig(WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2))), config);
    }

    public static TestServer exec(Server.Config serverConfig, ExecEndpoint.Config config) throws IOException {
        ExecEndpoint endpoint = new ExecEndpoint(config);
        return new TestServer(new Server(serverConfig, endpoint).start(), endpoint);
    }

    /** A server placed as {@code --base-path} and {@code --trusted-proxy} say. */
    public static TestServer exec(Server.Config serverConfig, ExecEndpoint.Config config, Server.Deployment deployment) throws IOException {
        return exec(serverConfig, config, deployment, Server.Observability.DEFAULTS);
    }

    public static TestServer exec(Server.Config serverConfig, ExecEndpoint.Config config, Server.Deployment deployment,
                                  Server.Observability observability) throws IOException {
        ExecEndpoint endpoint = new ExecEndpoint(config);
        return new TestServer(new Server(serverConfig, endpoint, observability, deployment).start(), endpoint);
    }

    /** A loopback server's config with an access policy of the test's choosing (token, origins, --allow…). */
    public static Server.Config serverConfig(AccessPolicy access) {
        return serverConfig(WebSocketLimits.DEFAULTS.withCloseTimeout(Duration.ofSeconds(2))).withAccess(access);
    }

    /** A policy for a server on 127.0.0.1; token null for none. */
    public static AccessPolicy policy(String token, List<String> origins, List<String> allow, List<String> program) {
        try {
            return new AccessPolicy(token, InetAddress.getByName("127.0.0.1"), List.of("wsexec.test"), origins,
                    allow.stream().map(Pattern::compile).toList(), program);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server in {@code --program} mode. */
    public static TestServer program(Server.Config serverConfig, ProgramEndpoint.Config config) throws IOException {
        return new TestServer(new Server(serverConfig, new ProgramEndpoint(config)).start(), null);
    }

    public static TestServer echo(WebSocketLimits limits) throws IOException {
        return new TestServer(new Server(serverConfig(limits), new EchoEndpoint()).start(), null);
    }

    public int port() {
        return server.port();
    }

    public String url() {
        return (server.tls() ? "wss" : "ws") + "://127.0.0.1:" + port() + "/";
    }

    @Override
    public void close() {
        server.stop(Duration.ofSeconds(1));
    }
}
