package wsexec.server;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import wsexec.websocket.HandshakeException;
import wsexec.websocket.HttpRequest;
import wsexec.common.Log;
import wsexec.common.Urls;
import wsexec.job.Commands;
import wsexec.job.ProcessGroups;
import wsexec.websocket.WebSocket;

/**
 * The one place that decides who may use the server and what may run on it.
 *
 * <p>Two gates, in this order, and nothing else opens either:
 * <ol>
 *   <li>{@link #admit} runs before the {@code 101} answer: the {@code Host} must name this server
 *       (else 421, against DNS rebinding), a browser's {@code Origin} must be the server's own or one
 *       allowed with {@code --allow-origin} (else 403, against cross-site WebSocket hijacking), and the
 *       token must be right (else 401). Only then is there an {@link Admission}.</li>
 *   <li>{@link Admission#job} and {@link Admission#program} are the only code that creates a
 *       {@link ProcessBuilder} for a client, and a job is built only if the command matches the
 *       {@code --allow} list (else {@link Forbidden}, and nothing starts).</li>
 * </ol>
 * An {@link Admission} cannot be made anywhere else, so no request reaches a process without
 * passing authentication, origin and command policy (AccessPolicyTest checks this in the sources).
 */
public final class AccessPolicy {
    /** Names every server answers to: the loopback interface. IPv6 literals are compared as addresses. */
    static final List<String> LOOPBACK_NAMES = List.of("127.0.0.1", "localhost", "[::1]");

    private final byte[] token;                 // null: no authentication (only allowed on loopback)
    private final boolean checkHost;            // false only for the echo server, which runs nothing
    private final boolean runsCommands;
    private final Set<String> names;            // host names, lower case
    private final Set<InetAddress> addresses;   // IP literals the server answers to
    private final Set<String> allowedOrigins;   // exact, beyond the server's own origins
    private final List<Pattern> allow;          // empty: any command
    private final List<String> program;         // non-null: each connection runs this, clients choose nothing

    /**
     * @param token     the secret clients must present; null turns authentication off, which is
     *                  refused unless {@code bind} is a loopback address
     * @param bind      the address the server listens on; it answers to it (to every local address
     *                  when it is the wildcard) besides the loopback names
     * @param hostnames more names clients may use ({@code --hostname}), e.g. behind a proxy
     * @param origins   browser origins allowed besides the server's own ({@code --allow-origin}), exact
     * @param allow     commands allowed, each pattern matched against the whole command; empty: any
     * @param program   the fixed program of {@code --program} mode, or null
     */
    public AccessPolicy(String token, InetAddress bind, List<String> hostnames, List<String> origins,
                 List<Pattern> allow, List<String> program) {
        if (token == null && !isLoopbackOnly(bind)) {
            throw new IllegalArgumentException("authentication can only be turned off on a loopback address, not "
                    + bind.getHostAddress());
        }
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.checkHost = true;
        this.runsCommands = true;
        Set<String> n = new LinkedHashSet<>();
        Set<InetAddress> a = new LinkedHashSet<>();
        List<String> all = new ArrayList<>(LOOPBACK_NAMES);
        all.addAll(hostnames);
        for (String name : all) {
            InetAddress literal = ipLiteral(name);
            if (literal != null) {
                a.add(literal);
            } else {
                n.add(name.toLowerCase(Locale.ROOT));
            }
        }
        if (bind.isAnyLocalAddress()) {
            a.addAll(localAddresses());
        } else {
            a.add(bind);
        }
        this.names = Collections.unmodifiableSet(n);
        this.addresses = Collections.unmodifiableSet(a);
        this.allowedOrigins = Set.copyOf(origins);
        this.allow = List.copyOf(allow);
        this.program = program == null ? null : List.copyOf(program);
    }

    private AccessPolicy() {
        this.token = null;
        this.checkHost = false;
        this.runsCommands = false;
        this.names = Set.of();
        this.addresses = Set.of();
        this.allowedOrigins = Set.of();
        this.allow = List.of();
        this.program = null;
    }

    /** No token, host and origin checked, any command: for a server on loopback (tests, embedding). */
    static AccessPolicy withoutToken(InetAddress bind) {
        return new AccessPolicy(null, bind, List.of(), List.of(), List.of(), null);
    }

    /**
     * For the echo server: anyone may connect (it answers conformance suites from anywhere), and
     * its admissions can start nothing at all.
     */
    public static AccessPolicy runsNothing() {
        return new AccessPolicy();
    }

    /** Whether a client must present the token. */
    boolean authenticates() {
        return token != null;
    }

    /** The token, for printing the URL and writing the token file; null when there is none. */
    public String token() {
        return token == null ? null : new String(token, StandardCharsets.UTF_8);
    }

    /** The fixed program of {@code --program} mode, or null. */
    public List<String> program() {
        return program;
    }

    /** A command the policy will not run; becomes an {@code error} event with code {@code forbidden}. */
    static final class Forbidden extends Exception {
        private static final long serialVersionUID = 1L;

        Forbidden(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Checks a plain HTTP request (no upgrade): only its {@code Host}, as a page served to a browser
     * must not be readable through a rebound DNS name.
     */
    void checkHost(HttpRequest request, Server.Peer peer) throws HandshakeException {
        if (!checkHost) {
            return;
        }
        String host = request.header("Host");
        if (host == null || request.headerCount("Host") != 1) {
            throw new HandshakeException(400, "missing or repeated Host header");
        }
        if (!answersTo(hostPart(host))) {
            // RFC 9110 §15.5.20: 421, the request was directed at a server that will not answer for that name
            throw new HandshakeException(421, "Host '" + printable(host) + "' is not a name this server answers to (see --hostname)");
        }
        // Behind a trusted proxy, the host the browser asked for is checked too: a proxy that passes
        // any name on would otherwise let a rebound DNS name through.
        if (peer.forwardedHost() != null && !answersTo(hostPart(peer.forwardedHost()))) {
            throw new HandshakeException(421, "forwarded host '" + printable(peer.forwardedHost())
                    + "' is not a name this server answers to (see --hostname)");
        }
    }

    /**
     * Decides an upgrade request that is a valid WebSocket handshake: Host (421), then Origin (403),
     * then token (401). Never puts the token, or what was presented as one, into a message.
     *
     * @param serverPort the port the server listens on (its own origin includes it)
     * @param tls        whether the server speaks TLS (its own origin is then https)
     */
    Admission admit(HttpRequest request, Server.Peer peer, int serverPort, boolean tls) throws HandshakeException {
        checkHost(request, peer);
        if (checkHost) {
            String origin = request.header("Origin");
            if (origin != null && (request.headerCount("Origin") != 1 || !originAllowed(origin, serverPort, tls, peer))) {
                throw new HandshakeException(403, "Origin '" + printable(origin) + "' is not allowed (see --allow-origin)");
            }
        }
        if (token != null && !tokenPresented(request)) {
            throw new HandshakeException(401, "missing or wrong token (give it as Authorization: Bearer TOKEN or ?token=TOKEN)",
                    Map.of("WWW-Authenticate", "Bearer"));
        }
        // Only --program mode reads the request later (for the program's CGI variables); other
        // connections do not keep its head for their whole life.
        return new Admission(program != null ? request : null, peer, serverPort, tls);
    }

    /**
     * Whether a client may read {@code /healthz} and {@code /metrics} (after {@link #checkHost}). They
     * run nothing and hold no secret, but tell who is connected and how busy the server is, so by
     * default only loopback clients (the machine's own users, monitoring agents) read them without
     * the token; anyone with the token may; {@code --metrics-public} opens them to every client.
     */
    boolean mayObserve(HttpRequest request, Server.Peer peer, boolean metricsPublic) {
        return metricsPublic || peer.address().isLoopbackAddress() || (token != null && tokenPresented(request));
    }

    /**
     * A connection that passed {@link #admit}: the only holder of the right to build processes.
     * Its constructor is private to this file.
     */
    final class Admission {
        private final HttpRequest request;
        private final Server.Peer peer;
        private final int serverPort;
        private final boolean tls;

        private Admission(HttpRequest request, Server.Peer peer, int serverPort, boolean tls) {
            this.request = request;
            this.peer = peer;
            this.serverPort = serverPort;
            this.tls = tls;
        }

        /** The request head, kept only in {@code --program} mode (null otherwise). */
        HttpRequest request() {
            return request;
        }

        Server.Peer peer() {
            return peer;
        }

        int serverPort() {
            return serverPort;
        }

        boolean tls() {
            return tls;
        }

        /** Whether the request's credentials are the server's secret, not to be passed on. */
        boolean authenticated() {
            return token != null;
        }

        /**
         * Builds the process for a job the client asked for, if the command policy allows it.
         *
         * @param line the command as requested: {@code /bin/sh -c TEXT} for a shell command, or an argv
         * @param ownPath whether the job's environment sets its own {@code PATH}: then a shell command
         *                always goes through the shell, which searches that {@code PATH}
         */
        ProcessBuilder job(List<String> line, boolean pty, boolean lineBuffered, boolean ownPath) throws Forbidden {
            if (!runsCommands) {
                throw new Forbidden("this server runs no commands");
            }
            if (program != null) {
                throw new Forbidden("this server runs only its own program (--program)");
            }
            if (!permits(line)) {
                throw new Forbidden("command not allowed by the server's --allow list");
            }
            // Judged above as requested; run without a shell where the shell would add nothing.
            List<String> run = pty || ownPath ? line : Commands.withoutShell(line);
            return new ProcessBuilder(ProcessGroups.leader(Commands.prepare(run, pty, lineBuffered)));
        }

        /** Builds the process of {@code --program} mode, with exactly the environment given. */
        public ProcessBuilder program(Map<String, String> environment) throws Forbidden {
            if (!runsCommands || program == null) {
                throw new Forbidden("this server has no --program");
            }
            ProcessBuilder builder = new ProcessBuilder(ProcessGroups.leader(program));
            builder.environment().clear();
            builder.environment().putAll(environment);
            return builder;
        }
    }

    /**
     * Whether a command matches the allow list. A shell command ({@code /bin/sh -c TEXT}) is judged by
     * its text; an argv by its words joined with single spaces. Each pattern must match all of it.
     */
    boolean permits(List<String> line) {
        if (allow.isEmpty()) {
            return true;
        }
        String subject = line.size() == 3 && line.get(0).equals("/bin/sh") && line.get(1).equals("-c")
                ? line.get(2) : String.join(" ", line);
        for (Pattern pattern : allow) {
            if (pattern.matcher(subject).matches()) {
                return true;
            }
        }
        return false;
    }

    /** The secret a request carries, if it is the right one; compared in constant time. */
    private boolean tokenPresented(HttpRequest request) {
        String presented = null;
        String authorization = request.header("Authorization");
        // RFC 6750 §2.1: "Bearer" credentials; the scheme name is case-insensitive (RFC 9110 §11.1)
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = authorization.substring(7).strip();
        } else {
            presented = queryParameter(request.query(), "token");
        }
        return presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }

    /** The decoded value of a query parameter, or null. A '+' stays a '+': tokens may contain it. */
    static String queryParameter(String query, String name) {
        return Urls.queryParameter(query, name);
    }

    /** The query string without a {@code token} parameter, so the secret is passed on nowhere. */
    static String withoutToken(String query) {
        StringBuilder kept = new StringBuilder();
        for (String pair : query.split("&")) {
            if (pair.isEmpty() || pair.equals("token") || pair.startsWith("token=")) {
                continue;
            }
            if (!kept.isEmpty()) {
                kept.append('&');
            }
            kept.append(pair);
        }
        return kept.toString();
    }

    /**
     * An Origin (RFC 6454 §7: scheme "://" host [":" port], or "null") is allowed when it is listed
     * exactly, or when it is the server's own: http (https with TLS), a name the server answers to,
     * and the server's port (left out when it is the scheme's default). Behind a trusted proxy that
     * forwarded the host ({@code X-Forwarded-Host}, {@code Forwarded: host=}), the server's own origin
     * is the one the browser sees: the forwarded scheme (else the server's) and the forwarded host.
     */
    private boolean originAllowed(String origin, int serverPort, boolean tls, Server.Peer peer) {
        if (allowedOrigins.contains(origin)) {
            return true;
        }
        URI uri;
        try {
            uri = new URI(origin);
        } catch (URISyntaxException e) {
            return false;
        }
        String scheme = peer.forwardedScheme() != null ? peer.forwardedScheme() : tls ? "https" : "http";
        if (!scheme.equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null
                || (uri.getRawPath() != null && !uri.getRawPath().isEmpty()) || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
            return false;
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        int port = uri.getPort() == -1 ? defaultPort : uri.getPort();
        if (peer.forwardedHost() != null) {
            String host = hostPart(peer.forwardedHost());
            String portText = peer.forwardedHost().substring(host.length());
            int forwardedPort = portText.startsWith(":") ? Integer.parseInt(portText.substring(1)) : defaultPort;
            return port == forwardedPort && uri.getHost().equalsIgnoreCase(host) && answersTo(uri.getHost());
        }
        return port == serverPort && answersTo(uri.getHost());
    }

    /** Whether a host (a name, an IPv4 literal, or an IPv6 literal in brackets) is one of ours. */
    private boolean answersTo(String host) {
        InetAddress literal = ipLiteral(host);
        if (literal != null) {
            return addresses.contains(literal);
        }
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1); // "localhost." is "localhost"
        }
        return names.contains(name);
    }

    /** The host of a Host header value: without the port; IPv6 literals keep their brackets. */
    static String hostPart(String host) {
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close < 0 ? host : host.substring(0, close + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /** Parses an IP literal (never a DNS lookup); null when the text is a name. */
    static InetAddress ipLiteral(String host) {
        return Urls.ipLiteral(host);
    }

    /** Whether binding to this address exposes the server to loopback clients only. */
    public static boolean isLoopbackOnly(InetAddress bind) {
        return bind.isLoopbackAddress();
    }

    private static List<InetAddress> localAddresses() {
        List<InetAddress> found = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    found.add(address instanceof Inet6Address six && six.getScopeId() != 0
                            ? stripScope(six) : address);
                }
            }
        } catch (SocketException e) {
            Log.error("cannot list network interfaces: " + e.getMessage());
        }
        return found;
    }

    private static InetAddress stripScope(Inet6Address address) {
        try {
            return InetAddress.getByAddress(address.getAddress());
        } catch (UnknownHostException e) {
            return address;
        }
    }

    /** A header value fit for one log line: control characters replaced, at most 100 characters. */
    private static String printable(String value) {
        String cut = value.length() > 100 ? value.substring(0, 100) + "…" : value;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
