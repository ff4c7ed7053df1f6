package wsexec.server;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import wsexec.websocket.HttpRequest;
import wsexec.websocket.WebSocket;
import wsexec.common.Log;
import wsexec.job.Timers;

/** The {@code serve} endpoint: the exec protocol, one {@link Session} per connection. */
public final class ExecEndpoint implements Server.Endpoint {

    /**
     * @param maxJobsPerConnection running jobs one connection may have at once
     * @param maxJobs              running jobs on the whole server at once
     * @param killGrace            time between TERM and KILL when a job is ended for the client
     * @param linger               how long a job whose process exited may keep its pipes open
     * @param jobTimeout           default time limit of a job; zero for none
     * @param lineBuffered         set children up to flush every line (stdbuf, PYTHONUNBUFFERED)
     * @param idleTimeout          a connection with no running job and no message for this long is
     *                             closed (1000); zero for never
     * @param stdinBuffer          bytes of stdin one connection may have received and not yet written
     *                             to its jobs' pipes; past it, the server stops reading that client
     * @param keep                 limits of kept jobs (docs/PROTOCOL.md, "Kept jobs")
     */
    public record Config(int maxJobsPerConnection, int maxJobs, Duration killGrace, Duration linger,
                  Duration jobTimeout, boolean lineBuffered, Duration idleTimeout, int stdinBuffer, Keep keep) {
        /**
         * @param max      the longest keep time a client may ask for ({@code --keep-max})
         * @param buffer   bytes of each stream held in memory per kept job ({@code --keep-buffer})
         * @param maxJobs  kept jobs on the server at once, running or ended ({@code --max-kept-jobs})
         * @param dir      where kept jobs' logs are written as well ({@code --keep-dir}); null for memory only
         * @param maxBytes bytes of each stream kept on disk per job ({@code --keep-max-bytes})
         */
        public record Keep(Duration max, int buffer, int maxJobs, java.nio.file.Path dir, long maxBytes) {
            public static final long DEFAULT_MAX_BYTES = 1L << 30;
            public static final Keep DEFAULTS = new Keep(Duration.ofHours(24), 8 << 20, 64, null, DEFAULT_MAX_BYTES);

            public Keep(Duration max, int buffer, int maxJobs) {
                this(max, buffer, maxJobs, null, DEFAULT_MAX_BYTES);
            }
        }

        public Config(int maxJobsPerConnection, int maxJobs, Duration killGrace, Duration linger,
                      Duration jobTimeout, boolean lineBuffered, Duration idleTimeout, int stdinBuffer) {
            this(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered, idleTimeout, stdinBuffer, Keep.DEFAULTS);
        }

        public Config withKeep(Keep limits) {
            return new Config(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered, idleTimeout, stdinBuffer, limits);
        }

        public static final int DEFAULT_STDIN_BUFFER = 4 << 20;
        public static final Config DEFAULTS = new Config(64, 512, Duration.ofSeconds(3), Duration.ofSeconds(2),
                Duration.ZERO, true);

        /** Without an idle timeout (as before it existed). */
        public Config(int maxJobsPerConnection, int maxJobs, Duration killGrace, Duration linger,
               Duration jobTimeout, boolean lineBuffered) {
            this(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered, Duration.ZERO, DEFAULT_STDIN_BUFFER);
        }

        Config withIdleTimeout(Duration timeout) {
            return new Config(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered, timeout, stdinBuffer, keep);
        }

        Config withStdinBuffer(int bytes) {
            return new Config(maxJobsPerConnection, maxJobs, killGrace, linger, jobTimeout, lineBuffered, idleTimeout, bytes, keep);
        }
    }

    private final Config config;
    private final KeptJobs kept;
    private volatile String instance = Server.Deployment.DEFAULTS.instance(); // until the server attaches its own
    private final AtomicInteger runningJobs = new AtomicInteger();
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private volatile Metrics metrics = new Metrics();

    public ExecEndpoint(Config config) {
        this.config = config;
        this.kept = new KeptJobs(this);
        if (config.keep().dir() != null) {
            try {
                int left = wsexec.job.LogFiles.clean(config.keep().dir());
                if (left > 0) {
                    Log.info("removed " + left + " log files of kept jobs from an earlier run in " + config.keep().dir());
                }
            } catch (IOException e) {
                Log.error("cannot clean --keep-dir " + config.keep().dir() + ": " + e.getMessage());
            }
        }
    }

    /** The server-wide registry of kept jobs. */
    KeptJobs kept() {
        return kept;
    }

    Config config() {
        return config;
    }

    @Override
    public void attach(Metrics serverMetrics) {
        this.metrics = serverMetrics;
        serverMetrics.kept = kept;
    }

    @Override
    public void attach(Metrics serverMetrics, String instance) {
        attach(serverMetrics);
        this.instance = instance;
    }

    /** This server's name among instances: the prefix of every job id. */
    String instance() {
        return instance;
    }

    /** Where jobs are counted: the server's counters once attached. */
    Metrics metrics() {
        return metrics;
    }

    /** The browser console at {@code /}; 404 for other paths. */
    @Override
    public byte[] http(HttpRequest request, Server.Peer peer) {
        return Console.answer(request);
    }

    int runningJobs() {
        return runningJobs.get();
    }

    /** Takes a place for a new job on the server; false when the server is full. */
    boolean reserveJob() {
        if (runningJobs.incrementAndGet() > config.maxJobs()) {
            runningJobs.decrementAndGet();
            return false;
        }
        return true;
    }

    void releaseJob() {
        runningJobs.decrementAndGet();
    }

    @Override
    public Server.Handler open(WebSocket webSocket, Server.Peer peer, AccessPolicy.Admission admission) {
        Session session = new Session(this, webSocket, peer, admission);
        sessions.add(session);
        session.start();
        return session;
    }

    /** A session's connection has ended and its jobs with it. */
    void ended(Session session) {
        sessions.remove(session);
    }

    @Override
    public void shutdown(Duration grace) {
        for (Session session : sessions) {
            session.terminateAll();
        }
        kept.terminateAll(); // kept jobs outlive connections, not the server
        // KILL goes out at the grace; a little more for the last exit events to be sent.
        Timers.awaitUntil(grace.plusMillis(300), 20, () -> runningJobs.get() == 0);
    }
}
