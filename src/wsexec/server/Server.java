package wsexec.server;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

import wsexec.websocket.CloseCode;
import wsexec.websocket.Handshake;
import wsexec.websocket.HandshakeException;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Message;
import wsexec.websocket.PerMessageDeflate;
import wsexec.websocket.WebSocket;
import wsexec.websocket.WebSocketLimits;
import wsexec.common.Json;
import wsexec.common.Log;
import wsexec.common.Tls;
import wsexec.job.Timers;

/**
 * Accepts TCP connections, runs the opening handshake and hands each
 * WebSocket to an {@link Endpoint}, on one virtual thread per connection.
 * What runs over the WebSocket is the endpoint's business: the exec protocol
 * ({@link ExecEndpoint}) or the echo used for conformance tests.
 */
public final class Server implements AutoCloseable {

    /** What a server does with its connections. */
    public interface Endpoint {
        /** Answers a plain HTTP request (one without Upgrade). */
        default byte[] http(HttpRequest request, Peer peer) {
            return Handshake.errorResponse(new HandshakeException(426, "this is a WebSocket endpoint",
                    java.util.Map.of("Upgrade", "websocket", "Sec-WebSocket-Version", Handshake.VERSION)));
        }

        /**
         * A WebSocket connection has opened: what handles it. The server then reads the
         * connection's messages on the connection's thread and hands each to the handler, until the
         * connection ends or the handler wants no more; then it calls {@link Handler#ended()}. The
         * admission is the connection's proof that it passed the access policy, and its only way
         * to start processes.
         */
        Handler open(WebSocket webSocket, Peer peer, AccessPolicy.Admission admission) throws IOException;

        /** The server is stopping: end every session within the grace. */
        default void shutdown(Duration grace) {
        }

        /** The server's counters, for the endpoint to count its jobs in; called once, before the first connection. */
        default void attach(Metrics metrics) {
        }

        /** As {@link #attach(Metrics)}, with the name of this instance ({@code --instance}) for its jobs. */
        default void attach(Metrics metrics, String instance) {
            attach(metrics);
        }
    }

    /**
     * An endpoint's side of one open connection. The read loop is the server's own
     * ({@link OpenConnection#run}), directly under the connection's thread, so that the stack of an
     * idle connection, parked in its read, has as few frames as can be: a parked virtual thread's
     * frames are copied to the heap, and thousands of idle connections wait like this
     * (bench/README.md, W4).
     */
    public interface Handler {
        /**
         * A text or binary message, on the connection's thread.
         *
         * @return false to read no more: the connection is then ended
         */
        boolean message(Message message) throws IOException;

        /** The connection has ended, however it did: once, on the connection's thread, after the last message. */
        default void ended() {
        }

        /**
         * Whether the server should read the next message on a new thread, and end the one that
         * handled this one (see {@link OpenConnection}): for handlers whose messages are few and
         * whose handling may wait deep in the stack.
         */
        default boolean freshThreadAfterMessage() {
            return false;
        }

        /**
         * A look at the connection, from the watches' thread when the server looks at it for its
         * keepalive (and once at the start, on the connection's thread): the nanoseconds until this
         * wants to look again, or -1 for no more looks. Must not block. One timer item per connection
         * serves both (see {@link KeepAlive}).
         */
        default long watch() {
            return -1;
        }
    }

    /**
     * What the server shows of itself.
     *
     * @param trace         print every frame and handshake head ({@code --trace})
     * @param metricsPublic serve {@code /healthz} and {@code /metrics} to any client without the token
     *                      ({@code --metrics-public}); otherwise loopback clients, or the token
     */
    public record Observability(boolean trace, boolean metricsPublic) {
        static final Observability DEFAULTS = new Observability(false, false);
    }

    /**
     * Where the server sits: the path prefix it lives under ({@code --base-path}), the reverse
     * proxies whose forwarding headers it believes ({@code --trusted-proxy}), and its name among
     * the instances behind one gateway ({@code --instance}).
     *
     * @param basePath starts and ends with "/"; "/" for none
     * @param instance {@code [a-z0-9-]}, 1 to 32 characters: the prefix of this server's job ids
     */
    public record Deployment(String basePath, TrustedProxies proxies, String instance) {
        public static final Deployment DEFAULTS = new Deployment("/", TrustedProxies.NONE);

        public Deployment {
            if (!basePath.startsWith("/") || !basePath.endsWith("/")) {
                throw new IllegalArgumentException("a base path starts and ends with '/', got '" + basePath + "'");
            }
            if (!isInstanceName(instance)) {
                throw new IllegalArgumentException("an instance name is 1 to 32 of a-z, 0-9 and '-', got '" + instance + "'");
            }
        }

        /** On the default instance: this host's name. */
        public Deployment(String basePath, TrustedProxies proxies) {
            this(basePath, proxies, defaultInstance());
        }

        public static boolean isInstanceName(String name) {
            return name != null && name.matches("[a-z0-9-]{1,32}");
        }

        /** The host name, lower case, cut to {@code [a-z0-9-]} and 32 characters; "wsexec" if nothing is left. */
        public static String defaultInstance() {
            String host;
            try {
                host = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
            } catch (IOException | RuntimeException e) {
                host = System.getenv().getOrDefault("HOSTNAME", "");
            }
            String name = host.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "");
            name = name.length() > 32 ? name.substring(0, 32) : name;
            return name.isEmpty() ? "wsexec" : name;
        }
    }

    /**
     * Where a connection comes from: the client's address, and when a trusted proxy forwarded it,
     * that proxy's address and what it said about the client's scheme and host (else null).
     * {@code port} is always the port of the TCP connection (the proxy's, behind one).
     */
    record Peer(InetAddress address, int port, InetAddress proxy, String forwardedScheme, String forwardedHost) {
        Peer(InetAddress address, int port) {
            this(address, port, null, null, null);
        }

        @Override
        public String toString() {
            return proxy == null ? address.getHostAddress() + ":" + port
                    : address.getHostAddress() + " via " + proxy.getHostAddress() + ":" + port;
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
    public record Config(InetAddress bind, int port, WebSocketLimits limits, Duration handshakeTimeout,
                  int maxHeadBytes, int maxConnections, int maxConnectionsPerAddress, Duration pingInterval,
                  AccessPolicy access, SSLContext tls) {

        /**
         * A plain server as before the access policy existed: no token (so loopback only; the
         * Host and Origin checks still apply), no per-address cap, no pings. For tests and embedding.
         */
        public Config(InetAddress bind, int port, WebSocketLimits limits, Duration handshakeTimeout,
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
    /** The most connections open at once since the heap was last given back (see {@link #ended}). */
    private final AtomicInteger peakConnections = new AtomicInteger();

    /**
     * When this many connections or more were open and three quarters of them have closed, the
     * server runs one full collection so that the collector can return the heap they used
     * ({@code -XX:+UseSerialGC} shrinks only after a full collection, which an idle server never
     * triggers on its own): RSS goes back near idle after a burst instead of staying at its peak.
     */
    static final int HEAP_TRIM_PEAK = 1000;
    private final AtomicInteger heapTrims = new AtomicInteger();
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private final Observability observability;
    private final Deployment deployment;
    private final Metrics metrics = new Metrics();
    /** The frame observer of every connection when nothing is traced: it only counts, and keeps nothing per connection. */
    private final Trace counting = new Trace(metrics, null, false);
    private volatile boolean stopping;

    public Server(Config config, Endpoint endpoint) throws IOException {
        this(config, endpoint, Observability.DEFAULTS);
    }

    public Server(Config config, Endpoint endpoint, Observability observability) throws IOException {
        this(config, endpoint, observability, Deployment.DEFAULTS);
    }

    public Server(Config config, Endpoint endpoint, Observability observability, Deployment deployment) throws IOException {
        this.config = config;
        this.deployment = deployment;
        this.endpoint = endpoint;
        this.observability = observability;
        metrics.instance = deployment.instance();
        endpoint.attach(metrics, deployment.instance());
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
    public int port() {
        return serverSocket.getLocalPort();
    }

    public Server start() {
        acceptor.start();
        return this;
    }

    /** Whether clients must use wss://. */
    public boolean tls() {
        return config.tls() != null;
    }

    /** How many times a burst of connections ended and the heap was collected for it. */
    int heapTrims() {
        return heapTrims.get();
    }

    int openConnections() {
        return connections.get();
    }

    /** The counters behind {@code /metrics} and {@code /healthz}. */
    Metrics metrics() {
        return metrics;
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
                if (String.valueOf(e.getMessage()).contains("Too many open files")) {
                    outOfFiles();
                    continue;
                }
                Log.error("accept failed: " + e.getMessage());
                continue;
            }
            Thread.ofVirtual().name("wsexec-conn-" + socket.getPort()).start(() -> connection(socket));
        }
    }

    private long lastOutOfFilesNanos = System.nanoTime() - 60_000_000_000L;

    /**
     * accept failed for want of a file descriptor (EMFILE): one line a minute, not one per attempt,
     * and a pause, since accept fails again at once until a connection or job closes.
     */
    private void outOfFiles() {
        long now = System.nanoTime();
        if (now - lastOutOfFilesNanos >= 60_000_000_000L) {
            lastOutOfFilesNanos = now;
            Log.error("out of file descriptors with " + connections.get() + " connections open: new connections wait; "
                    + "raise the open-files limit (ulimit -n, LimitNOFILE=) or lower --max-connections");
        }
        try {
            Thread.sleep(100);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A connection's first thread: the opening handshake. An accepted WebSocket goes on on a
     * thread of its own (see {@link #serve}), and this one ends.
     */
    private void connection(Socket socket) {
        Peer peer = new Peer(socket.getInetAddress(), socket.getPort());
        int count = connections.incrementAndGet();
        peakConnections.accumulateAndGet(count, Math::max);
        // A trusted proxy carries many clients: they are counted by the address it forwards, once
        // the request head is read. Everyone else is counted by the socket's address, at once.
        boolean viaProxy = deployment.proxies().trusts(peer.address());
        InetAddress counted = viaProxy ? null : peer.address();
        int fromPeer = viaProxy ? 0 : perAddress.merge(peer.address(), 1, Integer::sum);
        // The request head must be complete within the handshake timeout; a slow or silent
        // client is cut off by closing its socket, which ends the blocked read.
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> deadline = Timers.after(config.handshakeTimeout().toMillis(), () -> {
            timedOut.set(true);
            closeQuietly(socket);
        });
        boolean handedOff = false;
        try {
            socket.setTcpNoDelay(true);
            // Small: the head is read through it byte by byte. It ends with the handshake.
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
            PerMessageDeflate.Agreement deflate;
            try {
                byte[] head = Handshake.readHead(in, config.maxHeadBytes());
                try {
                    request = HttpRequest.parse(head, head.length);
                } catch (HandshakeException e) {
                    if (observability.trace()) {
                        Trace.head(peer, false, new String(head, StandardCharsets.ISO_8859_1));
                    }
                    throw e;
                }
                if (viaProxy) {
                    peer = forwarded(peer, request);
                }
                if (observability.trace()) {
                    // after the forwarding headers are read: behind a trusted proxy, the trace names the client
                    Trace.head(peer, false, new String(head, StandardCharsets.ISO_8859_1));
                }
                if (viaProxy) {
                    counted = peer.address();
                    if (perAddress.merge(counted, 1, Integer::sum) > config.maxConnectionsPerAddress()) {
                        throw new HandshakeException(429, "too many connections from " + counted.getHostAddress()
                                + " (limit " + config.maxConnectionsPerAddress() + ")");
                    }
                }
                String relative = relativeTarget(request.target());
                if (relative == null) {
                    deadline.cancel(false);
                    byte[] response = outsideBasePath(request);
                    traceResponse(peer, response);
                    out.write(response);
                    socket.shutdownOutput();
                    return;
                }
                request = new HttpRequest(request.method(), relative, request.version(), request.headers());
                if (!Handshake.isUpgradeRequest(request)) {
                    config.access().checkHost(request, peer);
                    deadline.cancel(false);
                    byte[] response = http(request, peer);
                    traceResponse(peer, response);
                    out.write(response);
                    socket.shutdownOutput();
                    return;
                }
                String accept = Handshake.accept(request);
                // The one decision on who may connect: Host, Origin, token — before the 101.
                admission = config.access().admit(request, peer, port(), tls());
                misdirected(request);
                // RFC 7692 §5: the first permessage-deflate offer we can honour, or none
                deflate = PerMessageDeflate.negotiate(request, config.limits().deflate());
                if (!deadline.cancel(false)) {
                    return; // the deadline closed the socket first
                }
                byte[] switching = Handshake.switchingProtocols(accept, deflate == null ? null : deflate.response());
                traceResponse(peer, switching);
                out.write(switching);
            } catch (HandshakeException e) {
                refuse(socket, e, peer);
                return;
            }
            // Frames the client sent right behind its request head are already in our buffer
            // (available() counts them; reading them does not block). The rest is read from the
            // socket directly, so the 1 KiB buffer does not live as long as the connection.
            byte[] early = in.readNBytes(in.available());
            InputStream frames = early.length == 0 ? socket.getInputStream()
                    : new SequenceInputStream(new ByteArrayInputStream(early), socket.getInputStream());
            // Nearly every client asks for "/": one shared string then, not one per connection.
            String path = request.path().equals("/") ? "/" : request.path();
            Peer client = peer;
            InetAddress countedAs = counted;
            // A fresh thread for the session: its stack holds only what waiting for the next frame
            // needs, not the deeper handshake frames (the stack of a parked virtual thread is heap,
            // and thousands of idle connections wait like this). Its task is an object of its own,
            // not a lambda: a lambda adds two frames under everything the thread does.
            String name = "wsexec-ws-" + peer.port();
            Thread.ofVirtual().name(name).start(new OpenConnection(socket, frames, path, client, admission, deflate, countedAs, name));
            handedOff = true;
        } catch (EOFException e) {
            // the client went away before finishing its request
            if (timedOut.get()) {
                timedOut(peer);
            }
        } catch (IOException e) {
            if (timedOut.get()) {
                timedOut(peer);
            } else if (!socket.isClosed()) {
                Log.info("connection " + peer + " ended: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            Log.error("connection " + peer + " failed: " + e);
        } finally {
            deadline.cancel(false);
            if (!handedOff) {
                ended(socket, counted);
            }
        }
    }

    /**
     * An open WebSocket connection, from after the 101 to its end: the task of the connection's
     * thread. Its {@link #run} reads the messages and hands them to the endpoint's {@link Handler}.
     *
     * <p>When the handler asks for it ({@link Handler#freshThreadAfterMessage()}), the reading goes
     * on after each message on a new virtual thread, with this same object as its task, and the
     * old thread ends. A parked virtual thread keeps its frames in a heap object sized by the
     * deepest stack it ever parked with: a message whose handling waited on a lock or for stdin
     * room leaves that size behind for as long as the connection then idles. The next thread parks
     * with the read's frames only.
     */
    private final class OpenConnection implements Runnable {
        private final Socket socket;
        private final InputStream in;
        private final String path;
        private final Peer peer;
        private final AccessPolicy.Admission admission;
        private final PerMessageDeflate.Agreement deflate;
        private final InetAddress counted;
        private final String threadName;
        // Set by the connection's first thread; its later threads see them (Thread.start orders them).
        private WebSocket webSocket;
        private Handler handler;
        private KeepAlive watch;
        private long openedNanos;

        OpenConnection(Socket socket, InputStream in, String path, Peer peer, AccessPolicy.Admission admission,
                       PerMessageDeflate.Agreement deflate, InetAddress counted, String threadName) {
            this.socket = socket;
            this.in = in;
            this.path = path;
            this.peer = peer;
            this.admission = admission;
            this.deflate = deflate;
            this.counted = counted;
            this.threadName = threadName;
        }

        @Override
        public void run() {
            boolean goesOn = false; // on a fresh thread, which ends the connection in its turn
            try {
                if (webSocket == null) {
                    begin();
                }
                Message message;
                while ((message = webSocket.receive()) != null && handler.message(message)) {
                    if (handler.freshThreadAfterMessage()) {
                        Thread.ofVirtual().name(threadName).start(this);
                        goesOn = true;
                        return;
                    }
                }
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    Log.info("connection " + peer + " ended: " + e.getMessage());
                }
            } catch (RuntimeException e) {
                Log.error("connection " + peer + " failed: " + e);
            } finally {
                if (!goesOn) {
                    end();
                }
            }
        }

        private void begin() throws IOException {
            WebSocket opened = new WebSocket(socket, in, config.limits(),
                    observability.trace() ? new Trace(metrics, peer, true) : counting, deflate);
            openedNanos = System.nanoTime();
            metrics.connectionsOpen.incrementAndGet();
            metrics.connectionsTotal.increment();
            Log.event("connection.opened", "connection " + peer + " " + path + " opened",
                    "peer", peer.toString(), "path", path);
            Events.connectionOpened(peer, path);
            open.add(opened);
            webSocket = opened;
            if (stopping) {
                opened.close(CloseCode.GOING_AWAY, "server shutting down");
            }
            handler = endpoint.open(opened, peer, admission);
            watch = KeepAlive.start(opened, config.pingInterval(), peer, handler);
        }

        /** The connection's end, whichever way it came: the handler's, then the server's. */
        private void end() {
            try {
                if (handler != null) {
                    handler.ended();
                }
            } catch (RuntimeException e) {
                Log.error("connection " + peer + " failed: " + e);
            } finally {
                try {
                    if (webSocket != null) {
                        open.remove(webSocket);
                        webSocket.abort();
                        if (watch != null) {
                            watch.cancel();
                        }
                        closed(webSocket, peer, path, openedNanos);
                    }
                } catch (RuntimeException e) {
                    Log.error("connection " + peer + " failed: " + e);
                } finally {
                    ended(socket, counted);
                }
            }
        }
    }

    /** @param counted the address the connection counts against in the per-address limit; null for none */
    private void ended(Socket socket, InetAddress counted) {
        int left = connections.decrementAndGet();
        int peak = peakConnections.get();
        if (peak >= HEAP_TRIM_PEAK && left * 4 <= peak && peakConnections.compareAndSet(peak, left)) {
            heapTrims.incrementAndGet();
            Log.info("connections fell from " + peak + " to " + left + ": returning their memory");
            Timers.after(1000, System::gc); // once the closes in flight are done
        }
        if (counted != null) {
            perAddress.computeIfPresent(counted, (address, n) -> n == 1 ? null : n - 1);
        }
        closeQuietly(socket);
    }

    /** Answers a plain HTTP request: the operations endpoints here, the rest by the endpoint. */
    byte[] http(HttpRequest request, Peer peer) {
        String path = request.path();
        if (!path.equals("/healthz") && !path.equals("/metrics") && !path.equals("/instances")) {
            return endpoint.http(request, peer);
        }
        if (!request.method().equals("GET")) {
            return Handshake.response(405, "text/plain; charset=utf-8", "only GET\n".getBytes(StandardCharsets.UTF_8),
                    Map.of("Allow", "GET"));
        }
        if (!config.access().mayObserve(request, peer, observability.metricsPublic())) {
            // The same answer as a WebSocket without the token: the token opens it from anywhere.
            return Handshake.response(401, "text/plain; charset=utf-8",
                    (path + " is for loopback clients, or give the token (Authorization: Bearer TOKEN or ?token=TOKEN)\n")
                            .getBytes(StandardCharsets.UTF_8), Map.of("WWW-Authenticate", "Bearer", "Cache-Control", "no-store"));
        }
        if (path.equals("/healthz")) {
            return Handshake.response(200, "application/json", metrics.health().getBytes(StandardCharsets.UTF_8),
                    Map.of("Cache-Control", "no-store"));
        }
        if (path.equals("/instances")) {
            // A gateway in front of several instances answers this itself with all their names
            // (docs/DEPLOY.md); a server on its own names itself.
            return Handshake.response(200, "application/json",
                    ("[" + Json.quote(new StringBuilder(), deployment.instance()) + "]\n").getBytes(StandardCharsets.UTF_8),
                    Map.of("Cache-Control", "no-store"));
        }
        return Handshake.response(200, "text/plain; version=0.0.4; charset=utf-8", metrics.prometheus().getBytes(StandardCharsets.UTF_8),
                Map.of("Cache-Control", "no-store"));
    }

    /**
     * A connection that names its target in the URL ({@code ?instance=NAME}, or {@code ?job=J}
     * whose id starts with its instance's name) and came to another instance was routed wrong by
     * the gateway in front: RFC 9110 §15.5.20, 421 Misdirected Request, saying which instance this
     * is, so that a wrong gateway config shows at once instead of as {@code no_such_job}.
     */
    private void misdirected(HttpRequest request) throws HandshakeException {
        String query = request.query();
        if (query.isEmpty()) {
            return;
        }
        String ours = deployment.instance();
        String instance = AccessPolicy.queryParameter(query, "instance");
        String job = AccessPolicy.queryParameter(query, "job");
        String wanted = instance != null ? instance : job != null && job.indexOf('.') > 0 ? job.substring(0, job.indexOf('.')) : null;
        if (wanted != null && !wanted.equals(ours)) {
            throw new HandshakeException(421, "this is instance '" + ours + "', not '" + wanted + "'"
                    + (instance == null ? " (job " + job + ")" : "") + ": the gateway routed this connection to the wrong instance",
                    Map.of("X-Wsexec-Instance", ours));
        }
    }

    /** The client behind a trusted proxy, as its forwarding headers name it. */
    private Peer forwarded(Peer proxy, HttpRequest request) {
        TrustedProxies.Client client = deployment.proxies().client(proxy.address(), request);
        if (client.address().equals(proxy.address()) && client.scheme() == null && client.host() == null) {
            return proxy; // the proxy forwarded nothing (a health check of its own, say)
        }
        return new Peer(client.address(), proxy.port(), proxy.address(), client.scheme(), client.host());
    }

    /**
     * The request target as the endpoints see it: without the {@code --base-path} prefix, starting
     * with "/". Null when the target is outside the prefix. The prefix without its final slash
     * ({@code /exec}) counts as outside, and is redirected to the prefix by {@link #outsideBasePath}.
     */
    String relativeTarget(String target) {
        String base = deployment.basePath();
        if (base.equals("/")) {
            return target;
        }
        return target.startsWith(base) ? target.substring(base.length() - 1) : null;
    }

    /** 404 for anything outside the base path; a redirect from the prefix without its slash. */
    private byte[] outsideBasePath(HttpRequest request) {
        String base = deployment.basePath();
        String withoutSlash = base.substring(0, base.length() - 1);
        if (request.path().equals(withoutSlash) && !Handshake.isUpgradeRequest(request)) {
            String query = request.query();
            // Relative, so that it works whether or not a proxy in front kept the prefix.
            return Handshake.response(301, "text/plain; charset=utf-8", "the console is one slash further\n".getBytes(StandardCharsets.UTF_8),
                    Map.of("Location", base.substring(base.lastIndexOf('/', base.length() - 2) + 1) + (query.isEmpty() ? "" : "?" + query)));
        }
        metrics.handshakeFailures.increment("404");
        return Handshake.errorResponse(new HandshakeException(404, "not found: this server lives under " + base));
    }

    private void traceResponse(Peer peer, byte[] response) {
        if (observability.trace()) {
            String text = new String(response, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            Trace.head(peer, true, end < 0 ? text : text.substring(0, end));
        }
    }

    /** The end of a WebSocket connection: close codes counted and logged. */
    private void closed(WebSocket webSocket, Peer peer, String path, long openedNanos) {
        metrics.connectionsOpen.decrementAndGet();
        int received = webSocket.closeCodeReceived();
        int sent = webSocket.closeCodeSent();
        if (received != CloseCode.ABNORMAL_CLOSURE) { // 1006: no Close frame came
            metrics.closeCodesReceived.increment(Integer.toString(received));
        }
        if (sent > 0) {
            metrics.closeCodesSent.increment(Integer.toString(sent));
        }
        long ms = (System.nanoTime() - openedNanos) / 1_000_000;
        // "PEER PATH closed: received R, sent S": make interop reads this line for the server's side of a clean close.
        Log.event("connection.closed", "connection " + peer + " " + path + " closed: received " + received + ", sent "
                        + (sent > 0 ? Integer.toString(sent) : "none") + " (after " + ms + " ms)",
                "peer", peer.toString(), "path", path, "codeReceived", received, "codeSent", sent, "durationMs", ms);
        Events.connectionClosed(peer, path, received, sent);
    }

    private void timedOut(Peer peer) {
        metrics.connectionsRejected.increment("handshake_timeout");
        Log.event("connection.refused", "refused " + peer + ": no complete request head within "
                        + config.handshakeTimeout().toMillis() + " ms",
                "peer", peer.toString(), "reason", "handshake_timeout");
    }

    private void refuse(Socket socket, HandshakeException e, Peer peer) throws IOException {
        String reason = Metrics.rejectionReason(e.status());
        metrics.connectionsRejected.increment(reason);
        metrics.handshakeFailures.increment(Integer.toString(e.status()));
        Log.event("connection.refused", "refused " + peer + ": " + e.status() + " " + e.getMessage(),
                "peer", peer.toString(), "status", e.status(), "reason", reason);
        Events.handshakeRefused(peer, e.status());
        byte[] response = Handshake.errorResponse(e);
        traceResponse(peer, response);
        socket.getOutputStream().write(response);
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
    public void stop(Duration grace) {
        stopping = true;
        closeQuietly(serverSocket);
        endpoint.shutdown(grace);
        for (WebSocket webSocket : open) {
            webSocket.close(CloseCode.GOING_AWAY, "server shutting down");
        }
        // Half a second for the closing handshakes, so that the whole stop stays within the grace plus a second.
        Timers.awaitUntil(Duration.ofMillis(500), 10, open::isEmpty);
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
