package wsexec;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

import wsexec.websocket.CloseCode;
import wsexec.websocket.Handshake;
import wsexec.websocket.HandshakeException;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;

/**
 * Accepts TCP connections, runs the opening handshake and hands each
 * WebSocket to an {@link Endpoint}, on one virtual thread per connection.
 * What runs over the WebSocket is the endpoint's business: the exec protocol
 * ({@link ExecEndpoint}) or the echo used for conformance tests.
 */
final class Server implements AutoCloseable {

    /** What a server does with its connections. */
    interface Endpoint {
        /** Answers a plain HTTP request (one without Upgrade). */
        default byte[] http(HttpRequest request, Peer peer) {
            return Handshake.errorResponse(new HandshakeException(426, "this is a WebSocket endpoint",
                    java.util.Map.of("Upgrade", "websocket", "Sec-WebSocket-Version", Handshake.VERSION)));
        }

        /**
         * Runs one WebSocket connection until it ends. The admission is the connection's proof
         * that it passed the access policy, and its only way to start processes.
         */
        void session(WebSocket webSocket, HttpRequest request, Peer peer, AccessPolicy.Admission admission) throws IOException;

        /** The server is stopping: end every session within the grace. */
        default void shutdown(Duration grace) {
        }
    }

    /** Where a connection comes from. */
    record Peer(InetAddress address, int port) {
        @Override
        public String toString() {
            return address.getHostAddress() + ":" + port;
        }
    }

    /**
     * @param handshakeTimeout          the whole request head must arrive within this time
     * @param maxHeadBytes              bound on the request head
     * @param maxConnections            open connections above this get 503
     * @param maxConnectionsPerAddress  open connections from one client address above this get 429
     * @param pingInterval              a Ping every this often; a peer silent for two intervals is
     *                                  dropped; zero for none
     * @param access                    who may connect, and what may run
     * @param tls                       serve wss:// with this context; null for plain ws://
     */
    record Config(InetAddress bind, int port, WebSocketLimits limits, Duration handshakeTimeout,
                  int maxHeadBytes, int maxConnections, int maxConnectionsPerAddress, Duration pingInterval,
                  AccessPolicy access, SSLContext tls) {

        /**
         * A plain server as before the access policy existed: no token (so loopback only; the
         * Host and Origin checks still apply), no per-address cap, no pings. For tests and embedding.
         */
        Config(InetAddress bind, int port, WebSocketLimits limits, Duration handshakeTimeout,
               int maxHeadBytes, int maxConnections) {
            this(bind, port, limits, handshakeTimeout, maxHeadBytes, maxConnections, maxConnections, Duration.ZERO,
                    AccessPolicy.withoutToken(bind), null);
        }

        Config withAccess(AccessPolicy policy) {
            return new Config(bind, port, limits, handshakeTimeout, maxHeadBytes, maxConnections,
                    maxConnectionsPerAddress, pingInterval, policy, tls);
        }

        Config withMaxConnectionsPerAddress(int max) {
            return new Config(bind, port, limits, handshakeTimeout, maxHeadBytes, maxConnections,
                    max, pingInterval, access, tls);
        }

        Config withPingInterval(Duration interval) {
            return new Config(bind, port, limits, handshakeTimeout, maxHeadBytes, maxConnections,
                    maxConnectionsPerAddress, interval, access, tls);
        }

        Config withTls(SSLContext context) {
            return new Config(bind, port, limits, handshakeTimeout, maxHeadBytes, maxConnections,
                    maxConnectionsPerAddress, pingInterval, access, context);
        }
    }

    private final Config config;
    private final Endpoint endpoint;
    private final ServerSocket serverSocket;
    private final Set<WebSocket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean stopping;

    Server(Config config, Endpoint endpoint) throws IOException {
        this.config = config;
        this.endpoint = endpoint;
        if (config.tls() != null) {
            SSLServerSocket tlsSocket = (SSLServerSocket) config.tls().getServerSocketFactory().createServerSocket();
            tlsSocket.setSSLParameters(Tls.parameters(config.tls()));
            this.serverSocket = tlsSocket;
        } else {
            this.serverSocket = new ServerSocket();
        }
        serverSocket.setReuseAddress(true);
        serverSocket.bind(new InetSocketAddress(config.bind(), config.port()), 1024);
        this.acceptor = Thread.ofPlatform().name("wsexec-accept").daemon(false).unstarted(this::acceptLoop);
    }

    /** The port actually bound (useful with port 0). */
    int port() {
        return serverSocket.getLocalPort();
    }

    Server start() {
        acceptor.start();
        return this;
    }

    /** Whether clients must use wss://. */
    boolean tls() {
        return config.tls() != null;
    }

    int openConnections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!stopping) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (stopping) {
                    return;
                }
                Log.error("accept failed: " + e.getMessage());
                continue;
            }
            Thread.ofVirtual().name("wsexec-conn-" + socket.getPort()).start(() -> connection(socket));
        }
    }

    private void connection(Socket socket) {
        Peer peer = new Peer(socket.getInetAddress(), socket.getPort());
        int count = connections.incrementAndGet();
        int fromPeer = perAddress.merge(peer.address(), 1, Integer::sum);
        // The request head must be complete within the handshake timeout; a slow or silent
        // client is cut off by closing its socket, which ends the blocked read.
        ScheduledFuture<?> deadline = Timers.after(config.handshakeTimeout().toMillis(), () -> closeQuietly(socket));
        try {
            socket.setTcpNoDelay(true);
            // Small: the head is read through it byte by byte, and it stays with the connection
            // for its whole life (WebSocket reads of 1 KiB and more bypass it).
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1024);
            OutputStream out = socket.getOutputStream();
            if (count > config.maxConnections()) {
                refuse(socket, new HandshakeException(503, "too many connections (limit " + config.maxConnections() + ")"), peer);
                return;
            }
            if (fromPeer > config.maxConnectionsPerAddress()) {
                // RFC 6585 §4: 429, this client (not the server as a whole) is over its share
                refuse(socket, new HandshakeException(429, "too many connections from " + peer.address().getHostAddress()
                        + " (limit " + config.maxConnectionsPerAddress() + ")"), peer);
                return;
            }
            HttpRequest request;
            AccessPolicy.Admission admission;
            try {
                byte[] head = Handshake.readHead(in, config.maxHeadBytes());
                request = HttpRequest.parse(head, head.length);
                if (!Handshake.isUpgradeRequest(request)) {
                    config.access().checkHost(request);
                    deadline.cancel(false);
                    out.write(endpoint.http(request, peer));
                    socket.shutdownOutput();
                    return;
                }
                String accept = Handshake.accept(request);
                // The one decision on who may connect: Host, Origin, token — before the 101.
                admission = config.access().admit(request, peer, port(), tls());
                if (!deadline.cancel(false)) {
                    return; // the deadline closed the socket first
                }
                out.write(Handshake.switchingProtocols(accept));
            } catch (HandshakeException e) {
                refuse(socket, e, peer);
                return;
            }
            WebSocket webSocket = new WebSocket(socket, in, config.limits(), null);
            open.add(webSocket);
            Thread keepAlive = config.pingInterval().isZero() ? null : KeepAlive.start(webSocket, config.pingInterval(), peer);
            try {
                if (stopping) {
                    webSocket.close(CloseCode.GOING_AWAY, "server shutting down");
                }
                endpoint.session(webSocket, request, peer, admission);
            } finally {
                open.remove(webSocket);
                webSocket.abort();
                if (keepAlive != null) {
                    keepAlive.interrupt();
                }
            }
        } catch (EOFException e) {
            // the client went away before finishing its request
        } catch (IOException e) {
            if (!socket.isClosed()) {
                Log.info("connection " + peer + " ended: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            Log.error("connection " + peer + " failed: " + e);
        } finally {
            deadline.cancel(false);
            connections.decrementAndGet();
            perAddress.computeIfPresent(peer.address(), (address, n) -> n == 1 ? null : n - 1);
            closeQuietly(socket);
        }
    }

    private static void refuse(Socket socket, HandshakeException e, Peer peer) throws IOException {
        Log.info("refused " + peer + ": " + e.status() + " " + e.getMessage());
        socket.getOutputStream().write(Handshake.errorResponse(e));
        socket.shutdownOutput();
        // Let the client read the answer before the socket closes: drain briefly.
        socket.setSoTimeout(1000);
        try {
            InputStream in = socket.getInputStream();
            byte[] sink = new byte[4096];
            long end = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < end && in.read(sink) >= 0) {
                // discard
            }
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops accepting, asks the endpoint to end its sessions within the grace, then closes what is left. */
    void stop(Duration grace) {
        stopping = true;
        closeQuietly(serverSocket);
        endpoint.shutdown(grace);
        for (WebSocket webSocket : open) {
            webSocket.close(CloseCode.GOING_AWAY, "server shutting down");
        }
        // Half a second for the closing handshakes, so that the whole stop stays within the grace plus a second.
        long deadline = System.nanoTime() + Duration.ofMillis(500).toNanos();
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        open.forEach(WebSocket::abort);
    }

    @Override
    public void close() {
        stop(Duration.ZERO);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // nothing to do
        }
    }
}
