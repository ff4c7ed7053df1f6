package wsexec;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import javax.net.ssl.SSLContext;

import wsexec.websocket.Handshake;
import wsexec.websocket.PerMessageDeflate;
import wsexec.websocket.WebSocketLimits;
import wsexec.client.RunOptions;
import wsexec.common.AccessToken;
import wsexec.common.Log;
import wsexec.common.Tls;
import wsexec.common.Version;
import wsexec.server.AccessPolicy;
import wsexec.server.EchoEndpoint;
import wsexec.server.ExecEndpoint;
import wsexec.server.ProgramEndpoint;
import wsexec.server.Server;
import wsexec.server.TrustedProxies;

/**
 * Every option of every subcommand is parsed here, into immutable records.
 * Flags take {@code --name value} or {@code --name=value}; sizes take
 * {@code 1048576}, {@code 64KiB}, {@code 1MiB}, {@code 1GiB}; durations take
 * {@code 500ms}, {@code 10s}, {@code 2m} (a bare number means seconds).
 */
public final class CommandLine {
    private CommandLine() {
    }

    /** A command line that cannot be used; printed as one line, exit status 2. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message, null, false, false);
        }
    }

    public sealed interface Command {
    }

    public record Help() implements Command {
    }

    public record Version() implements Command {
    }

    /** {@code serve --help}, {@code run --help}, {@code echo --help}: that subcommand's options. */
    public record SubcommandHelp(String text) implements Command {
    }

    /**
     * @param program       the {@code --program} mode's settings; null when clients send commands
     * @param observability {@code --trace} and {@code --metrics-public}
     * @param logFormat     {@code --log-format}
     * @param deployment    {@code --base-path} and {@code --trusted-proxy}
     */
    public record Serve(Server.Config server, ExecEndpoint.Config exec, Duration shutdownGrace,
                 ProgramEndpoint.Config program, Server.Observability observability, Log.Format logFormat,
                 Server.Deployment deployment) implements Command {
    }

    public record Echo(Server.Config server, Server.Observability observability, Log.Format logFormat) implements Command {
    }

    /** {@code run}: the client's options. */
    public record Run(RunOptions options) implements Command {
    }

    public static final String USAGE = """
            wsexec — run shell commands on a server and stream their output over WebSocket

            usage:
              wsexec serve [options]              run the exec server
              wsexec serve [options] --program -- CMD [ARGS…]   run CMD for each connection (websocketd style)
              wsexec run [options] [--] COMMAND…  run COMMAND on a server, print its output, exit with its code
              wsexec attach [options] JOB         watch a kept job (run --keep/--detach): its output, then its exit code
              wsexec jobs [options]               list the server's kept jobs
              wsexec echo [options]               run an echo server (for WebSocket conformance testing)
              wsexec --help | --version

            serve options:
              --port N                   TCP port (default 8023; 0 picks a free one)
              --bind ADDRESS             address to listen on (default 127.0.0.1)
              --max-message SIZE         largest message a client may send (default 1MiB)
              --max-fragments N          most frames per message (default 1024)
              --deflate on|off           accept permessage-deflate compression, RFC 7692 (default on)
              --deflate-threshold SIZE   send messages smaller than this uncompressed (default 256B)
              --deflate-level N          zlib level 1 (fast) to 9 (small) for sent messages (default 6)
              --max-connections N        open connections before 503 (default 1024)
              --handshake-timeout TIME   the request head must arrive within this (default 10s)
              --close-timeout TIME       wait for the peer's Close frame at most this (default 5s)
              --max-jobs N               running jobs on the server (default 512)
              --max-jobs-per-connection N  running jobs per connection (default 64)
              --job-timeout TIME         time limit for every job (default none)
              --kill-grace TIME          between TERM and KILL when a job is ended (default 3s)
              --linger TIME              how long a finished process may leave its pipes open (default 2s)
              --keep-max TIME            longest "keep" a client may ask for (default 24h)
              --keep-buffer SIZE         output held in memory per stream of a kept job (default 8MiB)
              --max-kept-jobs N          kept jobs on the server, running or ended (default 64)
              --keep-dir DIR             also write kept jobs' output to files there (mode 0600), so a replay
                                         from the start is exact beyond --keep-buffer (default: memory only)
              --keep-max-bytes SIZE      output per stream of a kept job kept in --keep-dir (default 1GiB)
              --stdin-buffer SIZE        stdin one connection may have on its way to its jobs (default 4MiB);
                                         past it the server reads no more from that client until jobs read
              --no-line-buffer           do not ask children to flush each line (stdbuf, PYTHONUNBUFFERED)
              --quiet                    log errors only
              --log-format text|json|journal  log lines as text (default), as one JSON object per line, or
                                         for journald/syslog: "<6>MESSAGE" with the level as a <N> prefix
              --trace                    print every frame both ways and the handshake heads (tokens redacted)
              --metrics-public           serve /healthz and /metrics to every client without the token
                                         (default: loopback clients, or with the token)
              --max-connections-per-address N  open connections from one client address before 429 (default 256)
              --ping-interval TIME       ping clients this often; drop one silent for two intervals (default 30s; 0 off)
              --idle-timeout TIME        close a connection with no job and no message for this long (default 10m; 0 off)
              --base-path PATH           serve everything (WebSocket, console, /healthz, /metrics) under PATH, e.g.
                                         /exec/; anything outside it is 404 (default /)
              --instance NAME            this server's name behind a gateway: job ids start with it, jobs get
                                         WSEXEC_INSTANCE; ?instance= or ?job= of another instance is 421
                                         (default: the host name, cut to a-z 0-9 -, at most 32 characters)
              --trusted-proxy CIDR       believe Forwarded / X-Forwarded-For / -Proto / -Host from peers in CIDR, e.g.
                                         127.0.0.1/32 (repeatable; default: none, the headers are ignored)

            access (see README "Security"):
              --token-file FILE          the token clients must present (default: a new random one, printed in the URL)
              --no-auth                  no token at all; refused unless --bind is a loopback address
              --allow-origin ORIGIN      a browser origin allowed besides the server's own, exactly (repeatable)
              --hostname NAME            a name clients reach the server by, besides loopback and --bind (repeatable)
              --allow REGEX              run only commands that match a pattern entirely (repeatable)
              --program                  run the command after "--" for each connection; messages are its stdin lines,
                                         its stdout lines are messages
              --pass-stderr              with --program: send stderr lines to the client as {"type":"stderr",…}
              --pass-env NAME,…          with --program: environment variables it gets (default PATH,LD_LIBRARY_PATH)
              --tls-keystore FILE.p12    serve wss:// with this PKCS#12 keystore (TLS 1.2 and 1.3)
              --tls-password-file FILE   the keystore's password, on the file's first line

            run options:
              --url URL                  server to use (default ws://127.0.0.1:8023/)
              --json                     print the raw JSON events, one per line
              --pty                      run the command under a pseudo-terminal (stdout and stderr merged)
              --cwd DIR                  working directory on the server
              --env NAME=VALUE           set an environment variable for the command (repeatable)
              --connect-timeout TIME     give up connecting after this (default 10s)
              --token TOKEN              the server's token (also: --token-file FILE, $WSEXEC_TOKEN, ?token= in
                                         the URL; for a server on this machine it is found by itself)
              --cacert FILE              trust this certificate (PEM) for wss://, e.g. a self-signed one
              --kill-after TIME          Ctrl-C sends INT to the command; KILL follows if it is still
                                         running after this (default 3s)
              --keep [TIME]              keep the job on the server if the connection drops, for this long
                                         (default 1h); reconnect and resume byte-exact. A hang-up (the
                                         terminal closed) detaches and leaves the job running
              --detach                   start the job kept (--keep's time, default 1h), print its id, exit 0
              --on HOSTS                 run on several instances at once: a,b,c (names behind one --url
                                         gateway), 'all' (the gateway's GET instances), or give several --url;
                                         each line is prefixed 'NAME: '; exit 0 only if every host exited 0
              --no-prefix                with --on: lines without the 'NAME: ' prefix (still never cut)
              --max-parallel N           with --on: at most N hosts connected at once (default 64)
              One word is run by the server's shell (/bin/sh -c); several words are run as a
              program with those arguments, without a shell.

            attach options: --url, --token, --token-file, --cacert, --connect-timeout, --json as for run, and
              --from start|now           replay from the job's first byte (default) or watch from now
              --read-only                watch only: no stdin, no signals (Ctrl-C just stops watching)
            jobs options: --url, --token, --token-file, --cacert, --connect-timeout, --json

            echo options:
              --port N (default 9001)  --bind ADDRESS (default 127.0.0.1)
              --max-message SIZE (default 64MiB)  --max-fragments N (default 100000)
              --deflate on|off  --deflate-threshold SIZE  --deflate-level N (as for serve)
              --quiet  --log-format text|json|journal  --trace  --metrics-public (as for serve)

            in a browser: open the http:// URL serve prints (the console); GET /healthz and /metrics for operators
            """;

    public static Command parse(String[] args) throws UsageException {
        if (args.length == 0) {
            return new Help();
        }
        List<String> rest = List.of(args).subList(1, args.length);
        return switch (args[0]) {
            case "--help", "-h", "help" -> new Help();
            case "--version", "version" -> new Version();
            case "serve" -> parseServe(rest);
            case "echo" -> parseEcho(rest);
            case "run" -> parseRun(rest);
            case "attach" -> parseAttach(rest);
            case "jobs" -> parseJobs(rest);
            default -> throw new UsageException("unknown subcommand '" + args[0] + "' (try --help)");
        };
    }

    /** Walks flags and their values; remembers what is left after "--" or the first non-flag. */
    private static final class Flags {
        private final List<String> args;
        private int i;
        private String pendingValue;

        Flags(List<String> args) {
            this.args = args;
        }

        /** The next flag name, or null at the end of flags. */
        String next() {
            if (i >= args.size()) {
                return null;
            }
            String arg = args.get(i);
            if (arg.equals("--")) {
                i++;
                return null;
            }
            if (!arg.startsWith("--")) {
                return null;
            }
            i++;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                pendingValue = arg.substring(eq + 1);
                return arg.substring(0, eq);
            }
            pendingValue = null;
            return arg;
        }

        String value(String flag) throws UsageException {
            if (pendingValue != null) {
                String v = pendingValue;
                pendingValue = null;
                return v;
            }
            if (i >= args.size()) {
                throw new UsageException(flag + " needs a value");
            }
            return args.get(i++);
        }

        /** A value that may be left out: {@code --flag=v}, or the next argument if it matches {@code pattern}. */
        String optionalValue(String pattern) {
            if (pendingValue != null) {
                String v = pendingValue;
                pendingValue = null;
                return v;
            }
            if (i < args.size() && args.get(i).matches(pattern)) {
                return args.get(i++);
            }
            return null;
        }

        /** For a flag without a value: checks that none was given ({@code --flag=x}) and says it is there. */
        boolean present(String flag) throws UsageException {
            noValue(flag);
            return true;
        }

        void noValue(String flag) throws UsageException {
            if (pendingValue != null) {
                throw new UsageException(flag + " takes no value");
            }
        }

        List<String> remaining() {
            return args.subList(i, args.size());
        }
    }

    private static Command parseServe(List<String> args) throws UsageException {
        String bind = "127.0.0.1";
        int port = 8023;
        WebSocketLimits limits = WebSocketLimits.DEFAULTS;
        Duration handshakeTimeout = Duration.ofSeconds(10);
        int maxConnections = 1024;
        ExecEndpoint.Config d = ExecEndpoint.Config.DEFAULTS;
        int maxJobs = d.maxJobs();
        int maxJobsPerConnection = d.maxJobsPerConnection();
        Duration killGrace = d.killGrace();
        Duration linger = d.linger();
        int stdinBuffer = d.stdinBuffer();
        Duration keepMax = d.keep().max();
        int keepBuffer = d.keep().buffer();
        int maxKeptJobs = d.keep().maxJobs();
        Path keepDir = null;
        long keepMaxBytes = d.keep().maxBytes();
        Duration jobTimeout = d.jobTimeout();
        boolean lineBuffered = d.lineBuffered();
        int maxConnectionsPerAddress = 256;
        Duration pingInterval = Duration.ofSeconds(30);
        Duration idleTimeout = Duration.ofMinutes(10);
        Path tokenFile = null;
        boolean noAuth = false;
        List<String> origins = new ArrayList<>();
        List<String> hostnames = new ArrayList<>();
        List<Pattern> allow = new ArrayList<>();
        boolean program = false;
        boolean passStderr = false;
        List<String> passEnv = ProgramEndpoint.Config.DEFAULT_PASS_ENV;
        Path keystore = null;
        Path passwordFile = null;
        boolean trace = false;
        boolean metricsPublic = false;
        Log.Format logFormat = Log.Format.TEXT;
        String basePath = "/";
        String instance = Server.Deployment.defaultInstance();
        List<TrustedProxies.Cidr> trustedProxies = new ArrayList<>();
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            switch (flag) {
                case "--help" -> {
                    return new SubcommandHelp(section("serve"));
                }
                case "--base-path" -> basePath = basePath(flags.value(flag));
                case "--instance" -> {
                    instance = flags.value(flag);
                    if (!Server.Deployment.isInstanceName(instance)) {
                        throw new UsageException("--instance is 1 to 32 of a-z, 0-9 and '-', got '" + instance + "'");
                    }
                }
                case "--trusted-proxy" -> trustedProxies.add(cidr(flags.value(flag)));
                case "--port" -> port = port(flags.value(flag));
                case "--bind" -> bind = flags.value(flag);
                case "--max-message" -> limits = limits.withMaxMessageSize(size(flag, flags.value(flag)));
                case "--max-fragments" -> limits = limits.withMaxFragments(positive(flag, flags.value(flag)));
                case "--deflate", "--deflate-threshold", "--deflate-level" -> limits = deflate(limits, flag, flags.value(flag));
                case "--max-connections" -> maxConnections = positive(flag, flags.value(flag));
                case "--max-connections-per-address" -> maxConnectionsPerAddress = positive(flag, flags.value(flag));
                case "--ping-interval" -> pingInterval = duration(flag, flags.value(flag));
                case "--idle-timeout" -> idleTimeout = duration(flag, flags.value(flag));
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--no-auth" -> noAuth = flags.present(flag);
                case "--allow-origin" -> origins.add(origin(flags.value(flag)));
                case "--hostname" -> hostnames.add(hostname(flags.value(flag)));
                case "--allow" -> allow.add(regex(flags.value(flag)));
                case "--program" -> program = flags.present(flag);
                case "--pass-stderr" -> passStderr = flags.present(flag);
                case "--pass-env" -> passEnv = List.of(flags.value(flag).split(",")).stream()
                        .map(String::strip).filter(n -> !n.isEmpty()).toList();
                case "--tls-keystore" -> keystore = Path.of(flags.value(flag));
                case "--tls-password-file" -> passwordFile = Path.of(flags.value(flag));
                case "--handshake-timeout" -> handshakeTimeout = duration(flag, flags.value(flag));
                case "--close-timeout" -> limits = limits.withCloseTimeout(duration(flag, flags.value(flag)));
                case "--max-jobs" -> maxJobs = positive(flag, flags.value(flag));
                case "--max-jobs-per-connection" -> maxJobsPerConnection = positive(flag, flags.value(flag));
                case "--job-timeout" -> jobTimeout = duration(flag, flags.value(flag));
                case "--kill-grace" -> killGrace = duration(flag, flags.value(flag));
                case "--linger" -> linger = duration(flag, flags.value(flag));
                case "--stdin-buffer" -> stdinBuffer = size(flag, flags.value(flag));
                case "--keep-max" -> keepMax = duration(flag, flags.value(flag));
                case "--keep-buffer" -> keepBuffer = size(flag, flags.value(flag));
                case "--max-kept-jobs" -> maxKeptJobs = positive(flag, flags.value(flag));
                case "--keep-dir" -> keepDir = Path.of(flags.value(flag));
                case "--keep-max-bytes" -> keepMaxBytes = size(flag, flags.value(flag));
                case "--no-line-buffer" -> lineBuffered = !flags.present(flag);
                case "--quiet" -> Log.quiet(flags.present(flag));
                case "--trace" -> trace = flags.present(flag);
                case "--metrics-public" -> metricsPublic = flags.present(flag);
                case "--log-format" -> logFormat = logFormat(flags.value(flag));
                default -> throw new UsageException("unknown option '" + flag + "' for serve (try --help)");
            }
        }
        List<String> command = List.copyOf(flags.remaining());
        if (program && command.isEmpty()) {
            throw new UsageException("--program needs the command to run, e.g. serve --program -- cat");
        }
        if (!program && !command.isEmpty()) {
            throw new UsageException("unexpected argument '" + command.get(0) + "' for serve (to run one program for every connection, use --program)");
        }
        if (program && !allow.isEmpty()) {
            throw new UsageException("--allow does not apply to --program: clients cannot choose what runs");
        }
        InetAddress address = address(bind);
        String token = null;
        if (noAuth) {
            if (tokenFile != null) {
                throw new UsageException("--no-auth and --token-file contradict each other");
            }
            if (!AccessPolicy.isLoopbackOnly(address)) {
                throw new UsageException("--no-auth is refused unless --bind is a loopback address (anyone who can reach "
                        + bind + " could run commands)");
            }
        } else if (tokenFile != null) {
            try {
                token = AccessToken.read(tokenFile);
            } catch (IOException e) {
                throw new UsageException("cannot use --token-file: " + e.getMessage());
            }
        } else {
            token = AccessToken.generate(new SecureRandom());
        }
        SSLContext tls = null;
        if ((keystore == null) != (passwordFile == null)) {
            throw new UsageException("--tls-keystore and --tls-password-file go together");
        }
        if (keystore != null) {
            try {
                tls = Tls.server(keystore, passwordFile);
            } catch (IOException | GeneralSecurityException e) {
                throw new UsageException("cannot load --tls-keystore " + keystore + ": " + e.getMessage());
            }
        }
        AccessPolicy access = new AccessPolicy(token, address, hostnames, origins, allow, program ? command : null);
        Server.Config server = new Server.Config(address, port, limits, handshakeTimeout, Handshake.MAX_HEAD_BYTES, maxConnections,
                maxConnectionsPerAddress, pingInterval, access, tls);
        ExecEndpoint.Config exec = new ExecEndpoint.Config(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered,
                idleTimeout, stdinBuffer, new ExecEndpoint.Config.Keep(keepMax, keepBuffer, maxKeptJobs, keepDir, keepMaxBytes));
        ProgramEndpoint.Config programConfig = program
                ? new ProgramEndpoint.Config(passStderr, passEnv, killGrace, ProgramEndpoint.Config.DEFAULT_MAX_LINE_BYTES, stdinBuffer) : null;
        return new Serve(server, exec, killGrace, programConfig, new Server.Observability(trace, metricsPublic), logFormat,
                new Server.Deployment(basePath, new TrustedProxies(trustedProxies), instance));
    }

    /** One subcommand's part of {@link #USAGE}: from its "options:" heading to the next subcommand's. */
    static String section(String subcommand) {
        String[] order = {"serve", "run", "echo"};
        int start = USAGE.indexOf(subcommand + " options:");
        int end = USAGE.indexOf("\n\nin a browser");
        for (int i = 0; i < order.length - 1; i++) {
            if (order[i].equals(subcommand)) {
                end = USAGE.indexOf("\n" + order[i + 1] + " options:");
            }
        }
        return "usage: wsexec " + subcommand + " [options]" + (subcommand.equals("run") ? " [--] COMMAND…" : "")
                + "\n\n" + USAGE.substring(start, end).stripTrailing() + "\n";
    }

    /** {@code --base-path}: a path prefix, normalised to start and end with "/". */
    private static String basePath(String text) throws UsageException {
        String path = text.strip();
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        if (!path.endsWith("/")) {
            path = path + "/";
        }
        if (!path.matches("/([A-Za-z0-9._~\\-]+/)*") || path.contains("/./") || path.contains("/../")) {
            throw new UsageException("--base-path needs a path like /exec/, got '" + text + "'");
        }
        return path;
    }

    private static TrustedProxies.Cidr cidr(String text) throws UsageException {
        try {
            return TrustedProxies.Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--trusted-proxy needs an address or CIDR like 127.0.0.1/32 or 10.0.0.0/8: " + e.getMessage());
        }
    }

    private static Log.Format logFormat(String text) throws UsageException {
        return switch (text) {
            case "text" -> Log.Format.TEXT;
            case "json" -> Log.Format.JSON;
            case "journal" -> Log.Format.JOURNAL;
            default -> throw new UsageException("--log-format must be text, json or journal, got '" + text + "'");
        };
    }

    /** An origin as browsers send it (RFC 6454 §6.2): scheme://host[:port], lower case, nothing after. */
    private static String origin(String text) throws UsageException {
        String origin = text.strip().toLowerCase(Locale.ROOT);
        if (origin.endsWith("/")) {
            origin = origin.substring(0, origin.length() - 1);
        }
        if (!origin.matches("https?://[a-z0-9.\\-]+(:[0-9]{1,5})?|https?://\\[[0-9a-f:.]+\\](:[0-9]{1,5})?")) {
            throw new UsageException("--allow-origin needs an origin like https://example.org or http://localhost:3000, got '" + text + "'");
        }
        return origin;
    }

    private static String hostname(String text) throws UsageException {
        String name = text.strip();
        if (name.isEmpty() || !name.matches("[A-Za-z0-9.\\-]+|\\[?[0-9A-Fa-f:.]+\\]?")) {
            throw new UsageException("--hostname needs a host name or IP address, got '" + text + "'");
        }
        return name.startsWith("[") || !name.contains(":") ? name : "[" + name + "]";
    }

    private static Pattern regex(String text) throws UsageException {
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw new UsageException("--allow is not a regular expression: " + e.getDescription() + " in '" + text + "'");
        }
    }

    private static Command parseEcho(List<String> args) throws UsageException {
        String bind = "127.0.0.1";
        int port = 9001;
        WebSocketLimits limits = EchoEndpoint.LIMITS;
        boolean trace = false;
        boolean metricsPublic = false;
        Log.Format logFormat = Log.Format.TEXT;
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            switch (flag) {
                case "--help" -> {
                    return new SubcommandHelp(section("echo"));
                }
                case "--port" -> port = port(flags.value(flag));
                case "--bind" -> bind = flags.value(flag);
                case "--max-message" -> limits = limits.withMaxMessageSize(size(flag, flags.value(flag)));
                case "--max-fragments" -> limits = limits.withMaxFragments(positive(flag, flags.value(flag)));
                case "--deflate", "--deflate-threshold", "--deflate-level" -> limits = deflate(limits, flag, flags.value(flag));
                case "--quiet" -> Log.quiet(flags.present(flag));
                case "--trace" -> trace = flags.present(flag);
                case "--metrics-public" -> metricsPublic = flags.present(flag);
                case "--log-format" -> logFormat = logFormat(flags.value(flag));
                default -> throw new UsageException("unknown option '" + flag + "' for echo (try --help)");
            }
        }
        if (!flags.remaining().isEmpty()) {
            throw new UsageException("unexpected argument '" + flags.remaining().get(0) + "' for echo");
        }
        // The echo server runs nothing, so it asks for no token and checks no Host or Origin:
        // conformance suites connect from anywhere. No pings either: suites count every frame.
        return new Echo(new Server.Config(address(bind), port, limits, Duration.ofSeconds(10), Handshake.MAX_HEAD_BYTES, 10_000,
                10_000, Duration.ZERO, AccessPolicy.runsNothing(), null), new Server.Observability(trace, metricsPublic), logFormat);
    }

    /** {@code --deflate on|off}, {@code --deflate-threshold SIZE}, {@code --deflate-level 1-9} (RFC 7692). */
    private static WebSocketLimits deflate(WebSocketLimits limits, String flag, String value) throws UsageException {
        PerMessageDeflate.Settings d = limits.deflate();
        return limits.withDeflate(switch (flag) {
            case "--deflate" -> switch (value) {
                case "on" -> new PerMessageDeflate.Settings(true, d.threshold(), d.level());
                case "off" -> new PerMessageDeflate.Settings(false, d.threshold(), d.level());
                default -> throw new UsageException("--deflate must be on or off, got '" + value + "'");
            };
            case "--deflate-threshold" -> new PerMessageDeflate.Settings(d.enabled(), size(flag, value), d.level());
            default -> {
                int level = integer(flag, value);
                if (level < 1 || level > 9) {
                    throw new UsageException("--deflate-level must be 1-9, got " + value);
                }
                yield new PerMessageDeflate.Settings(d.enabled(), d.threshold(), level);
            }
        });
    }

    private static Command parseRun(List<String> args) throws UsageException {
        URI url = URI.create("ws://127.0.0.1:8023/");
        List<URI> urls = new ArrayList<>();
        String on = null;
        boolean noPrefix = false;
        int maxParallel = RunOptions.Multi.DEFAULT_MAX_PARALLEL;
        boolean json = false;
        boolean pty = false;
        String cwd = null;
        Map<String, String> env = new LinkedHashMap<>();
        Duration connectTimeout = Duration.ofSeconds(10);
        String token = null;
        Path tokenFile = null;
        Path cacert = null;
        Duration killAfter = Duration.ofSeconds(3);
        Duration keep = null;
        boolean detach = false;
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            switch (flag) {
                case "--help" -> {
                    return new SubcommandHelp(section("run"));
                }
                case "--url" -> {
                    url = wsUrl(flags.value(flag));
                    urls.add(url);
                }
                case "--on" -> on = flags.value(flag);
                case "--no-prefix" -> noPrefix = flags.present(flag);
                case "--max-parallel" -> maxParallel = positive(flag, flags.value(flag));
                case "--json" -> json = flags.present(flag);
                case "--pty" -> pty = flags.present(flag);
                case "--cwd" -> cwd = flags.value(flag);
                case "--env" -> {
                    String pair = flags.value(flag);
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--env needs NAME=VALUE, got '" + pair + "'");
                    }
                    env.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                case "--connect-timeout" -> connectTimeout = duration(flag, flags.value(flag));
                case "--token" -> token = flags.value(flag);
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--cacert" -> cacert = Path.of(flags.value(flag));
                case "--kill-after" -> killAfter = duration(flag, flags.value(flag));
                case "--keep" -> {
                    String time = flags.optionalValue("\\d+(ms|s|m|h|d)");
                    keep = time == null ? RunOptions.DEFAULT_KEEP : duration(flag, time);
                }
                case "--detach" -> detach = flags.present(flag);
                default -> throw new UsageException("unknown option '" + flag + "' for run (try --help)");
            }
        }
        List<String> command = new ArrayList<>(flags.remaining());
        if (command.isEmpty()) {
            throw new UsageException("run needs a command, e.g. wsexec run -- date");
        }
        if (cacert != null && !url.getScheme().equalsIgnoreCase("wss")) {
            throw new UsageException("--cacert is for wss:// URLs, got " + url);
        }
        if (detach && keep == null) {
            keep = RunOptions.DEFAULT_KEEP;
        }
        RunOptions.Multi multi = null;
        if (on != null || urls.size() > 1) {
            List<String> hosts = on == null || on.equals("all") ? List.of() : List.of(on.split(","));
            if (hosts.stream().anyMatch(h -> !h.matches("[a-z0-9-]{1,32}"))) {
                throw new UsageException("--on takes instance names (a-z, 0-9, '-') separated by commas, or 'all'; got '" + on + "'");
            }
            if (on != null && urls.size() > 1) {
                throw new UsageException("give either --on NAMES with one --url (a gateway), or several --url without --on");
            }
            if (keep != null || detach || pty) {
                throw new UsageException("--on runs one job on each host and waits for them: not with --keep, --detach or --pty");
            }
            multi = new RunOptions.Multi(on == null ? null : on.equals("all") ? List.of() : hosts, List.copyOf(urls), noPrefix, maxParallel);
        } else if (noPrefix) {
            throw new UsageException("--no-prefix is for --on");
        }
        return new Run(new RunOptions(url, json, pty, cwd, Map.copyOf(env), connectTimeout, killAfter, List.copyOf(command), token, tokenFile,
                cacert, RunOptions.Mode.RUN, keep, detach, null, "start", false, multi));
    }

    /** {@code attach JOB}: the connection options of run, plus where to start and whether to watch only. */
    private static Command parseAttach(List<String> args) throws UsageException {
        Connection c = new Connection();
        String from = "start";
        boolean readOnly = false;
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            if (c.take(flag, flags)) {
                continue;
            }
            switch (flag) {
                case "--from" -> {
                    from = flags.value(flag);
                    if (!from.equals("start") && !from.equals("now")) {
                        throw new UsageException("--from is 'start' or 'now', got '" + from + "'");
                    }
                }
                case "--read-only" -> readOnly = flags.present(flag);
                default -> throw new UsageException("unknown option '" + flag + "' for attach (try --help)");
            }
        }
        List<String> rest = flags.remaining();
        if (rest.size() != 1) {
            throw new UsageException("attach needs one job id, e.g. wsexec attach Xq3…");
        }
        return new Run(c.options(RunOptions.Mode.ATTACH, rest.get(0), from, readOnly));
    }

    /** {@code jobs}: the connection options of run. */
    private static Command parseJobs(List<String> args) throws UsageException {
        Connection c = new Connection();
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            if (!c.take(flag, flags)) {
                throw new UsageException("unknown option '" + flag + "' for jobs (try --help)");
            }
        }
        if (!flags.remaining().isEmpty()) {
            throw new UsageException("unexpected argument '" + flags.remaining().get(0) + "' for jobs");
        }
        return new Run(c.options(RunOptions.Mode.JOBS, null, "start", false));
    }

    /** The options every client subcommand shares: where the server is and how to get in. */
    private static final class Connection {
        URI url = URI.create("ws://127.0.0.1:8023/");
        boolean json;
        Duration connectTimeout = Duration.ofSeconds(10);
        String token;
        Path tokenFile;
        Path cacert;

        boolean take(String flag, Flags flags) throws UsageException {
            switch (flag) {
                case "--url" -> url = wsUrl(flags.value(flag));
                case "--json" -> json = flags.present(flag);
                case "--connect-timeout" -> connectTimeout = duration(flag, flags.value(flag));
                case "--token" -> token = flags.value(flag);
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--cacert" -> cacert = Path.of(flags.value(flag));
                default -> {
                    return false;
                }
            }
            return true;
        }

        RunOptions options(RunOptions.Mode mode, String job, String from, boolean readOnly) throws UsageException {
            if (cacert != null && !url.getScheme().equalsIgnoreCase("wss")) {
                throw new UsageException("--cacert is for wss:// URLs, got " + url);
            }
            return new RunOptions(url, json, false, null, Map.of(), connectTimeout, Duration.ofSeconds(3), List.of(), token, tokenFile,
                    cacert, mode, mode == RunOptions.Mode.ATTACH ? RunOptions.DEFAULT_KEEP : null, false, job, from, readOnly, null);
        }
    }

    private static URI wsUrl(String text) throws UsageException {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new UsageException("--url must start with ws:// or wss://, got '" + text + "'");
            }
            if (uri.getHost() == null) {
                throw new UsageException("--url has no host: '" + text + "'");
            }
            return uri.getPath() == null || uri.getPath().isEmpty()
                    ? new URI(uri.getScheme(), uri.getUserInfo(), uri.getHost(), uri.getPort(), "/", uri.getQuery(), null)
                    : uri;
        } catch (java.net.URISyntaxException e) {
            throw new UsageException("--url is not a URL: '" + text + "'");
        }
    }

    static int port(String text) throws UsageException {
        int port = integer("--port", text);
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be 0–65535, got " + text);
        }
        return port;
    }

    private static InetAddress address(String text) throws UsageException {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new UsageException("--bind: unknown address '" + text + "'");
        }
    }

    private static int positive(String flag, String text) throws UsageException {
        int value = integer(flag, text);
        if (value < 1) {
            throw new UsageException(flag + " must be at least 1, got " + text);
        }
        return value;
    }

    private static int integer(String flag, String text) throws UsageException {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a whole number, got '" + text + "'");
        }
    }

    /** Parses a size: a byte count with an optional KiB/MiB/GiB (or K/M/G) suffix; at most 2 GiB - 1. */
    static int size(String flag, String text) throws UsageException {
        String t = text.trim();
        long unit = 1;
        String upper = t.toUpperCase(Locale.ROOT);
        for (String[] suffix : new String[][] {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"},
                {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"K", "1024"}, {"M", "1048576"}, {"G", "1073741824"}, {"B", "1"}}) {
            if (upper.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                t = t.substring(0, t.length() - suffix[0].length()).trim();
                break;
            }
        }
        try {
            long value = Long.parseLong(t) * unit;
            if (value < 0 || value > Integer.MAX_VALUE) {
                throw new UsageException(flag + " must be between 0 and 2GiB, got " + text);
            }
            return (int) value;
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a size like 1048576, 64KiB or 1MiB, got '" + text + "'");
        }
    }

    /** Parses a duration: 250ms, 10s, 2m, 1h, or a bare number of seconds. */
    static Duration duration(String flag, String text) throws UsageException {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return nonNegative(flag, Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))), text);
            }
            if (t.endsWith("s")) {
                return nonNegative(flag, Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000)), text);
            }
            if (t.endsWith("m")) {
                return nonNegative(flag, Duration.ofSeconds(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60)), text);
            }
            if (t.endsWith("h")) {
                return nonNegative(flag, Duration.ofSeconds(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 3600)), text);
            }
            return nonNegative(flag, Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000)), text);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a duration like 500ms, 10s or 2m, got '" + text + "'");
        }
    }

    private static Duration nonNegative(String flag, Duration d, String text) throws UsageException {
        if (d.isNegative()) {
            throw new UsageException(flag + " must not be negative, got " + text);
        }
        return d;
    }
}
