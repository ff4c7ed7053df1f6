package wsexec;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

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
import wsexec.websocket.Handshake;
import wsexec.websocket.PerMessageDeflate;
import wsexec.websocket.WebSocketLimits;

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

    /** Everything {@code --help} prints (kept here for those who read the options in code). */
    public static final String USAGE = Usage.TEXT;

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
            case "run" -> ClientCommandLine.parseRun(rest);
            case "attach" -> ClientCommandLine.parseAttach(rest);
            case "jobs" -> ClientCommandLine.parseJobs(rest);
            default -> throw new UsageException("unknown subcommand '" + args[0] + "' (try --help)");
        };
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
                    return new SubcommandHelp(Usage.section("serve"));
                }
                case "--base-path" -> basePath = Values.basePath(flags.value(flag));
                case "--instance" -> {
                    instance = flags.value(flag);
                    if (!Server.Deployment.isInstanceName(instance)) {
                        throw new UsageException("--instance is 1 to 32 of a-z, 0-9 and '-', got '" + instance + "'");
                    }
                }
                case "--trusted-proxy" -> trustedProxies.add(Values.cidr(flags.value(flag)));
                case "--port" -> port = Values.port(flags.value(flag));
                case "--bind" -> bind = flags.value(flag);
                case "--max-message" -> limits = limits.withMaxMessageSize(Values.size(flag, flags.value(flag)));
                case "--max-fragments" -> limits = limits.withMaxFragments(Values.positive(flag, flags.value(flag)));
                case "--deflate", "--deflate-threshold", "--deflate-level" -> limits = deflate(limits, flag, flags.value(flag));
                case "--max-connections" -> maxConnections = Values.positive(flag, flags.value(flag));
                case "--max-connections-per-address" -> maxConnectionsPerAddress = Values.positive(flag, flags.value(flag));
                case "--ping-interval" -> pingInterval = Values.duration(flag, flags.value(flag));
                case "--idle-timeout" -> idleTimeout = Values.duration(flag, flags.value(flag));
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--no-auth" -> noAuth = flags.present(flag);
                case "--allow-origin" -> origins.add(Values.origin(flags.value(flag)));
                case "--hostname" -> hostnames.add(Values.hostname(flags.value(flag)));
                case "--allow" -> allow.add(Values.regex(flags.value(flag)));
                case "--program" -> program = flags.present(flag);
                case "--pass-stderr" -> passStderr = flags.present(flag);
                case "--pass-env" -> passEnv = List.of(flags.value(flag).split(",")).stream()
                        .map(String::strip).filter(n -> !n.isEmpty()).toList();
                case "--tls-keystore" -> keystore = Path.of(flags.value(flag));
                case "--tls-password-file" -> passwordFile = Path.of(flags.value(flag));
                case "--handshake-timeout" -> handshakeTimeout = Values.duration(flag, flags.value(flag));
                case "--close-timeout" -> limits = limits.withCloseTimeout(Values.duration(flag, flags.value(flag)));
                case "--max-jobs" -> maxJobs = Values.positive(flag, flags.value(flag));
                case "--max-jobs-per-connection" -> maxJobsPerConnection = Values.positive(flag, flags.value(flag));
                case "--job-timeout" -> jobTimeout = Values.duration(flag, flags.value(flag));
                case "--kill-grace" -> killGrace = Values.duration(flag, flags.value(flag));
                case "--linger" -> linger = Values.duration(flag, flags.value(flag));
                case "--stdin-buffer" -> stdinBuffer = Values.size(flag, flags.value(flag));
                case "--keep-max" -> keepMax = Values.duration(flag, flags.value(flag));
                case "--keep-buffer" -> keepBuffer = Values.positiveSize(flag, flags.value(flag));
                case "--max-kept-jobs" -> maxKeptJobs = Values.positive(flag, flags.value(flag));
                case "--keep-dir" -> keepDir = Path.of(flags.value(flag));
                case "--keep-max-bytes" -> keepMaxBytes = Values.positiveSize(flag, flags.value(flag));
                case "--no-line-buffer" -> lineBuffered = !flags.present(flag);
                case "--quiet" -> Log.quiet(flags.present(flag));
                case "--trace" -> trace = flags.present(flag);
                case "--metrics-public" -> metricsPublic = flags.present(flag);
                case "--log-format" -> logFormat = Values.logFormat(flags.value(flag));
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
        InetAddress address = Values.address(bind);
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
                    return new SubcommandHelp(Usage.section("echo"));
                }
                case "--port" -> port = Values.port(flags.value(flag));
                case "--bind" -> bind = flags.value(flag);
                case "--max-message" -> limits = limits.withMaxMessageSize(Values.size(flag, flags.value(flag)));
                case "--max-fragments" -> limits = limits.withMaxFragments(Values.positive(flag, flags.value(flag)));
                case "--deflate", "--deflate-threshold", "--deflate-level" -> limits = deflate(limits, flag, flags.value(flag));
                case "--quiet" -> Log.quiet(flags.present(flag));
                case "--trace" -> trace = flags.present(flag);
                case "--metrics-public" -> metricsPublic = flags.present(flag);
                case "--log-format" -> logFormat = Values.logFormat(flags.value(flag));
                default -> throw new UsageException("unknown option '" + flag + "' for echo (try --help)");
            }
        }
        if (!flags.remaining().isEmpty()) {
            throw new UsageException("unexpected argument '" + flags.remaining().get(0) + "' for echo");
        }
        // The echo server runs nothing, so it asks for no token and checks no Host or Origin:
        // conformance suites connect from anywhere. No pings either: suites count every frame.
        return new Echo(new Server.Config(Values.address(bind), port, limits, Duration.ofSeconds(10), Handshake.MAX_HEAD_BYTES, 10_000,
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
            case "--deflate-threshold" -> new PerMessageDeflate.Settings(d.enabled(), Values.size(flag, value), d.level());
            default -> {
                int level = Values.integer(flag, value);
                if (level < 1 || level > 9) {
                    throw new UsageException("--deflate-level must be 1-9, got " + value);
                }
                yield new PerMessageDeflate.Settings(d.enabled(), d.threshold(), level);
            }
        });
    }

}
