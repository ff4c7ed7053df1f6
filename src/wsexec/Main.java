package wsexec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The command line. {@link #main} is a thin shell over {@link #run}, which
 * tests call directly: arguments and streams in, exit status out.
 */
public final class Main {
    public static final String VERSION = "0.1.0";

    /** Exit status for a command line that cannot be used. */
    static final int USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args, null, System.out, System.err, true);
        System.out.flush();
        System.exit(status);
    }

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
        if (command instanceof CommandLine.Run run) {
            return new Client(run, in != null ? in : Client.standardInput(), out, err).run(ownProcess);
        }
        if (command instanceof CommandLine.Serve serve) {
            Log.format(serve.logFormat());
            return serve(serve.server(), serve.observability(),
                    serve.program() == null ? new ExecEndpoint(serve.exec()) : new ProgramEndpoint(serve.program()),
                    serve.program() == null ? "serving" : "serving " + String.join(" ", serve.server().access().program()),
                    serve.shutdownGrace(), out, err);
        }
        if (command instanceof CommandLine.Echo echo) {
            Log.format(echo.logFormat());
            return serve(echo.server(), echo.observability(), new EchoEndpoint(), "echoing", java.time.Duration.ZERO, out, err);
        }
        if (command instanceof CommandLine.Version) {
            out.println("wsexec " + VERSION);
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
                             java.time.Duration grace, PrintStream out, PrintStream err) {
        Server server;
        try {
            server = new Server(config, endpoint, observability);
        } catch (BindException e) {
            err.println("wsexec: cannot listen on " + config.bind().getHostAddress() + ":" + config.port() + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("wsexec: cannot start server: " + e.getMessage());
            return 1;
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
        String query = token == null ? "" : "?token=" + AccessToken.urlEncoded(token);
        out.println("wsexec " + VERSION + " " + verb + " on " + (server.tls() ? "wss://" : "ws://") + host + ":" + server.port() + "/" + query);
        if (endpoint instanceof ExecEndpoint) {
            // The console is served at / of the same port; the page reads the token from its own URL.
            out.println("open " + (server.tls() ? "https://" : "http://") + host + ":" + server.port() + "/" + query
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
