package wsexec.server;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;

import wsexec.common.Json;
import wsexec.common.Log;
import wsexec.job.Job;
import wsexec.job.LogFiles;
import wsexec.job.OutputLog;
import wsexec.job.Timers;

/**
 * The server-wide registry of kept jobs (docs/PROTOCOL.md, "Kept jobs"): jobs that belong to no
 * connection, whose output goes to an {@link OutputLog} per stream that any number of
 * connections attach to, and that outlive the connection that started them for their keep time.
 */
final class KeptJobs implements Metrics.KeptGauges {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ExecEndpoint endpoint;
    private final Map<String, Kept> jobs = new ConcurrentHashMap<>();
    private final ReentrantLock admission = new ReentrantLock();
    private final java.util.concurrent.atomic.LongAdder forgottenOverwritten = new java.util.concurrent.atomic.LongAdder();

    KeptJobs(ExecEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /**
     * A new server-wide job id: {@code INSTANCE.RANDOM}, the random part 128 bits in URL-safe
     * base64 (22 characters). The instance part lets a gateway route {@code ?job=} by itself.
     */
    static String newId(String instance) {
        byte[] bits = new byte[16];
        RANDOM.nextBytes(bits);
        return instance + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    /** Takes a place for a kept job; null when {@code --max-kept-jobs} are kept already. */
    Kept reserve(String command, Duration keep) {
        admission.lock();
        try {
            if (jobs.size() >= endpoint.config().keep().maxJobs()) {
                return null;
            }
            Kept kept;
            try {
                kept = new Kept(newId(endpoint.instance()), command, keep, endpoint.config().keep());
            } catch (IOException e) {
                Log.error("cannot keep a job's log in " + endpoint.config().keep().dir() + ": " + e.getMessage());
                return null;
            }
            jobs.put(kept.id, kept);
            return kept;
        } finally {
            admission.unlock();
        }
    }

    /** Gives back a place whose job never started. */
    void forget(Kept kept) {
        jobs.remove(kept.id, kept);
        kept.stdout.deleteFiles();
        kept.stderr.deleteFiles();
    }

    /** The job with this id, or null: unknown, expired, or never kept. */
    Kept get(String id) {
        return id == null ? null : jobs.get(id);
    }

    List<Kept> all() {
        return List.copyOf(jobs.values());
    }

    @Override
    public long keptJobs() {
        return jobs.size();
    }

    @Override
    public long attachments() {
        return jobs.values().stream().mapToLong(k -> k.viewers.size()).sum();
    }

    @Override
    public long logBytesHeld() {
        return jobs.values().stream().mapToLong(k -> k.stdout.held() + k.stderr.held()).sum();
    }

    @Override
    public long logBytesOverwritten() {
        return forgottenOverwritten.sum() + jobs.values().stream().mapToLong(k -> k.stdout.overwritten() + k.stderr.overwritten()).sum();
    }

    private void forgotten(Kept kept) {
        forgottenOverwritten.add(kept.stdout.overwritten() + kept.stderr.overwritten());
    }

    /** Ends every kept job (server stop). */
    void terminateAll() {
        Job.terminateAll(jobs.values().stream().map(k -> k.job).filter(j -> j != null && !j.isFinished()).toList());
    }

    /** A kept job: its process, its logs, its viewers, and when it is forgotten. */
    final class Kept implements Job.Host {
        final String id;
        final String command;
        final Duration keep;
        final long startedAtMillis = System.currentTimeMillis();
        final OutputLog stdout;
        final OutputLog stderr;
        final CompletableFuture<Job.Exit> exit = new CompletableFuture<>();
        /** The attachments watching now. */
        final Set<Object> viewers = ConcurrentHashMap.newKeySet();
        volatile Job job;
        private final ReentrantLock lock = new ReentrantLock();
        private ScheduledFuture<?> expiry;
        private volatile long keepUntilMillis;

        Kept(String id, String command, Duration keep, ExecEndpoint.Config.Keep limits) throws IOException {
            this.id = id;
            this.command = command;
            this.keep = keep;
            this.stdout = new OutputLog(limits.buffer(), limits.dir() == null ? null : new LogFiles(limits.dir(), id + ".stdout", limits.maxBytes()));
            this.stderr = new OutputLog(limits.buffer(), limits.dir() == null ? null : new LogFiles(limits.dir(), id + ".stderr", limits.maxBytes()));
        }

        OutputLog log(String stream) {
            return "stderr".equals(stream) ? stderr : stdout;
        }

        @Override
        public Duration linger() {
            return endpoint.config().linger();
        }

        @Override
        public Duration killGrace() {
            return endpoint.config().killGrace();
        }

        /**
         * The connection that started the job, while it watches: its pump for each stream runs
         * right here on the pipe thread, reading the pipe through the log (every read appended
         * first), as a job that is not kept is pumped: no hand-off per read, and a slow client
         * slows the job through the pipe. When that connection goes or detaches, its pump reads
         * on without sending, so the output goes on into the log. Set before the job starts.
         */
        volatile java.util.function.Predicate<InputStream> starterStdout;
        volatile java.util.function.Predicate<InputStream> starterStderr;
        /** Counts down as each stream of the starter's pumps ends; {@link #starterDelivered} says how. */
        final java.util.concurrent.CountDownLatch starterDone = new java.util.concurrent.CountDownLatch(2);
        volatile boolean starterDelivered = true;

        /**
         * Copies the pipe into the log (through the starting connection's pump while it watches);
         * the pipe thread blocks only while a read-write viewer lags or the starter's socket is full.
         */
        @Override
        public void pump(Job job, InputStream pipe, String stream) {
            OutputLog log = log(stream);
            InputStream throughLog = new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = pipe.read(b, off, len);
                    if (n > 0) {
                        try {
                            log.append(b, off, n);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException("interrupted while keeping output");
                        }
                    }
                    return n;
                }
            };
            java.util.function.Predicate<InputStream> starter = "stderr".equals(stream) ? starterStderr : starterStdout;
            try {
                if (starter != null && !starter.test(throughLog)) {
                    starterDelivered = false;
                }
                byte[] buffer = new byte[OutputPump.READ_SIZE];
                while (throughLog.read(buffer, 0, buffer.length) >= 0) {
                    // into the log
                }
            } catch (IOException e) {
                // the pipe broke: the stream ends here
            } finally {
                log.close();
                starterDone.countDown();
            }
        }

        @Override
        public void finished(Job job, Job.Exit end) {
            endpoint.releaseJob();
            endpoint.metrics().jobExited(end.code());
            Log.event("job.exited", "kept job " + id + " exited with " + end.code() + " after " + end.durationMs() + " ms",
                    "job", id, "code", end.code(), "durationMs", end.durationMs());
            Events.jobEnded(id, job.pid(), end.code(), end.durationMs());
            exit.complete(end);
        }

        /** A connection starts watching: the job is no longer going to be forgotten. */
        void attach(Object viewer) {
            lock.lock();
            try {
                viewers.add(viewer);
                if (expiry != null) {
                    expiry.cancel(false);
                    expiry = null;
                }
                keepUntilMillis = 0;
            } finally {
                lock.unlock();
            }
        }

        /** A connection stops watching; the last one starts the keep time. */
        void detach(Object viewer) {
            lock.lock();
            try {
                if (!viewers.remove(viewer) || !viewers.isEmpty() || !jobs.containsKey(id)) {
                    return;
                }
                keepUntilMillis = System.currentTimeMillis() + keep.toMillis();
                expiry = Timers.after(keep.toMillis(), this::expire);
            } finally {
                lock.unlock();
            }
        }

        /** Nobody came back within the keep time: the job ends (TERM, KILL after the grace) and is forgotten. */
        private void expire() {
            lock.lock();
            try {
                if (!viewers.isEmpty()) {
                    return;
                }
                if (jobs.remove(id, this)) {
                    forgotten(this);
                    stdout.deleteFiles();
                    stderr.deleteFiles();
                }
            } finally {
                lock.unlock();
            }
            Job running = job;
            if (running != null && !running.isFinished()) {
                Log.info("kept job " + id + " expired unwatched after " + keep.toMillis() + " ms: ending it");
                running.terminate();
            }
        }

        /** One entry of the {@code jobs} answer. */
        String describe() {
            Job.Exit end = exit.getNow(null);
            Json.ObjectWriter o = Json.object().field("job", id).field("instance", endpoint.instance()).field("command", command)
                    .field("pid", job == null ? -1 : job.pid())
                    .field("state", end == null ? "running" : "exited");
            if (end != null) {
                o.field("code", end.code());
            }
            o.field("startedAt", startedAtMillis);
            long until = keepUntilMillis;
            if (until > 0) {
                o.field("keepUntil", until);
            }
            o.field("viewers", viewers.size());
            o.raw("bytes", Json.object().field("stdout", stdout.end()).field("stderr", stderr.end()).toString());
            return o.toString();
        }
    }
}
