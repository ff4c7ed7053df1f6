package wsexec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import wsexec.client.Client;
import wsexec.client.Terminal;
import wsexec.client.MultiRun;
import wsexec.common.AccessToken;
import wsexec.common.Log;
import wsexec.common.OpenFiles;
import wsexec.common.Version;
import wsexec.server.EchoEndpoint;
import wsexec.server.ExecEndpoint;
import wsexec.server.ProgramEndpoint;
import wsexec.server.Server;

/**
 * The command line. {@link #main} is a thin shell over {@link #run}, which
 * tests call directly: arguments and streams in, exit status out.
 */
public final class Main {
    public static final String VERSION = Version.VERSION;

    /** Exit status for a command line that cannot be used. */
    static final int USAGE = 2;

    private Main() {
    }

    /** The JDK's system property for the number of carrier threads of virtual threads. */
    static final String CARRIERS_PROPERTY = "jdk.virtualThreadScheduler.parallelism";

    public static void main(String[] args) {
        // Before the first virtual thread: the scheduler reads this once, when it is created.
        System.setProperty(CARRIERS_PROPERTY, carriers(System.getProperty(CARRIERS_PROPERTY), Runtime.getRuntime().availableProcessors()));
        int status = run(args, null, System.out, System.err, true);
        System.out.flush();
        System.exit(status);
    }

    /**
     * Carrier threads for virtual threads: one per core and one more, unless the command line sets
     * {@code -Djdk.virtualThreadScheduler.parallelism} (the JDK's default is one per core).
     *
     * <p>A job start blocks in native code until the child has run exec, and so holds its carrier
     * for milliseconds: more the more descriptors the server holds, since the JDK's launch helper
     * closes each one it inherited (25 ms with 4,000 open here, 40 ms with 8,000). With one carrier
     * per core, two clients starting jobs at once on a 2-core machine held every carrier, and every
     * other connection waited. With 3,000 idle connections and 4 clients starting jobs in a loop
     * ({@code bench/stall.js}), a new client's handshake took 50–80 ms (median), up to 0.2–0.44 s;
     * with the spare carrier 7–8 ms, up to 51–92 ms, at about the same jobs per second. Two per
     * core did a little better (6–7 ms, up to 27 ms) but cost 1.8 KB more per idle connection (W4:
     * 11.2 against 9.4–9.9 KB). Handing starts to platform threads instead made the wait it adds to
     * every start part of each idle connection's stack chunk (bench/README.md, "Fifth session").
     */
    public static String carriers(String fromCommandLine, int cores) {
        return fromCommandLine != null ? fromCommandLine : Integer.toString(cores + 1);
    }

    /**
     * Runs one command line as {@code wsexec ARGS...} would, with our own stdin, and returns its
     * exit status instead of exiting: 0, {@value #USAGE} for a command line that cannot be used,
     * or what the subcommand returns ({@code run}: the remote exit code).
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return run(args, null, out, err, false);
    }

    /** The same with {@code in} as what {@code run} forwards as the job's stdin. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return run(args, in, out, err, false);
    }

    /**
     * @param in         what {@code run} forwards as the job's stdin; null for our own stdin, opened
     *                   only by {@code run} ({@link Client#standardInput})
     * @param ownProcess whether this is the whole process (from {@link #main}): then {@code run}
     *                   turns Ctrl-C into a signal for the remote job instead of just dying
     */
    static int run(String[] args, InputStream in, PrintStream out, PrintStream err, boolean ownProcess) {
        CommandLine.Command command;
        try {
            command = CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            err.println("wsexec: " + e.getMessage());
            return USAGE;
        }
        // Not a pattern switch: its first run spins a class at run time (SwitchBootstraps), which
        // cost tens of milliseconds of every start (bench/README.md, Start-up).
        if (command instanceof CommandLine.Run run && run.options().multi() != null) {
            return new MultiRun(run.options(), out, err).run(ownProcess);
        }
        if (command instanceof CommandLine.Run run) {
            return new Client(run.options(), in != null ? in : Terminal.standardInput(), out, err).run(ownProcess);
        }
        if (command instanceof CommandLine.Serve serve) {
            Log.format(serve.logFormat());
            return serve(serve.server(), serve.observability(),
                    serve.program() == null ? new ExecEndpoint(serve.exec()) : new ProgramEndpoint(serve.program()),
                    serve.program() == null ? "serving" : "serving " + String.join(" ", serve.server().access().program()),
                    serve.shutdownGrace(), serve.deployment(), out, err);
        }
        if (command instanceof CommandLine.Echo echo) {
            Log.format(echo.logFormat());
            return serve(echo.server(), echo.observability(), new EchoEndpoint(), "echoing", java.time.Duration.ZERO,
                    Server.Deployment.DEFAULTS, out, err);
        }
        if (command instanceof CommandLine.Version) {
            out.println("wsexec " + VERSION);
            return 0;
        }
        if (command instanceof CommandLine.SubcommandHelp help) {
            out.print(help.text());
            return 0;
        }
        if (command instanceof CommandLine.Help) {
            out.print(CommandLine.USAGE);
            return 0;
        }
        throw new AssertionError("unhandled command " + command);
    }

    /** Starts a server, prints its URL, and serves until the process is told to stop (SIGTERM, SIGINT). */
    private static int serve(Server.Config config, Server.Observability observability, Server.Endpoint endpoint, String verb,
                             java.time.Duration grace, Server.Deployment deployment, PrintStream out, PrintStream err) {
        Server server;
        try {
            server = new Server(config, endpoint, observability, deployment);
        } catch (BindException e) {
            err.println("wsexec: cannot listen on " + config.bind().getHostAddress() + ":" + config.port() + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("wsexec: cannot start server: " + e.getMessage());
            return 1;
        }
        String tooFewFiles = OpenFiles.tooLowFor(config.maxConnections(), OpenFiles.softLimit());
        if (tooFewFiles != null) {
            err.println("wsexec: warning: " + tooFewFiles);
        }
        String token = config.access().token();
        Path tokenFile = null;
        if (token != null) {
            try {
                // Where `wsexec run` on this machine finds the token by itself (mode 0600).
                tokenFile = AccessToken.write(System.getenv(), server.port(), token);
            } catch (IOException | UnsupportedOperationException e) {
                Log.error("cannot write the token file (clients need --token): " + e.getMessage());
            }
        }
        Path writtenTokenFile = tokenFile;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Log.info("stopping: ending jobs and closing connections");
            deleteQuietly(writtenTokenFile);
            server.stop(grace);
            stopped.countDown();
            out.flush();
            // A signal-initiated stop is the normal way to end a server: exit 0, not 128+n.
            Runtime.getRuntime().halt(0);
        }, "wsexec-shutdown"));
        server.start();
        String host = config.bind().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        // In the journal (a service's stdout goes there too) the URL is printed without the token:
        // whoever may read the journal may not thereby run commands. The service has it in a file.
        String query = token == null || Log.format() == Log.Format.JOURNAL ? "" : "?token=" + AccessToken.urlEncoded(token);
        out.println("wsexec " + VERSION + " " + verb + " on " + (server.tls() ? "wss://" : "ws://") + host + ":" + server.port() + deployment.basePath() + query);
        if (endpoint instanceof ExecEndpoint) {
            // The console is served at / of the same port; the page reads the token from its own URL.
            out.println("open " + (server.tls() ? "https://" : "http://") + host + ":" + server.port() + deployment.basePath() + query
                    + " in a browser for the console");
        }
        out.flush();
        if (writtenTokenFile != null) {
            Log.info("token written to " + writtenTokenFile + " (removed when the server stops)");
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            Log.error("cannot remove " + file + ": " + e.getMessage());
        }
    }
}
