package wsexec.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One running process and the threads that carry its output.
 *
 * <p>Life of a job: {@code started} is sent before any output; stdout and
 * stderr are pumped by two platform threads; when both pipes are at end of
 * stream and the process has exited, {@code exit} is sent — so every byte of
 * output reaches the client before the exit code. If the process exits but
 * something it left behind keeps its pipes open, the job's group is killed
 * after {@link Host#linger()} so the exit is not held back forever.
 */
public final class Job {
    /** A marker in the stdin queue for "close stdin". */
    private static final Chunk END_OF_INPUT = new Chunk(new byte[0], new InputBudget(0));

    /**
     * What a job needs from whoever runs it: where its output goes, what its end means, and the
     * times that bound its cleanup. The job knows nothing of connections or frames.
     */
    public interface Host {
        /** How long a process that exited may leave its pipes open to a background child. */
        Duration linger();

        /** Between TERM and KILL. */
        Duration killGrace();

        /**
         * Carries one output stream ({@code "stdout"} or {@code "stderr"}) until its end; runs on
         * a pipe thread. If it stops early it must read the rest and drop it, so the process never
         * blocks on a full pipe.
         */
        void pump(Job job, InputStream pipe, String stream);

        /** All output is carried and the process has exited; runs once, on a pipe thread. */
        void finished(Job job, Exit exit);
    }

    /**
     * How a job ended.
     *
     * @param code       the exit code; 128 + n for death by signal n, as shells report it
     * @param signal     the signal that ended it, or null
     * @param reason     why the server ended it ({@code "timeout"}), or null
     * @param durationMs from start to exit
     */
    public record Exit(int code, JobSignal signal, String reason, long durationMs) {
    }

    public final String id;
    private final Host host;
    private final Process process;
    private final long startNanos = System.nanoTime();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicBoolean terminating = new AtomicBoolean();
    private volatile ScheduledFuture<?> timeout;
    private volatile ScheduledFuture<?> linger;
    private volatile String endReason;
    private final ReentrantLock stdinLock = new ReentrantLock();
    private BlockingQueue<Chunk> stdin; // created on first use; guarded by stdinLock
    private boolean stdinDone; // stdin was closed: bytes for it are dropped; guarded by stdinLock
    private final boolean pty;
    /** Under a pty, {@code script} runs the command in a session and group of its own: those groups. */
    private final Set<Long> innerGroups = ConcurrentHashMap.newKeySet();

    public Job(Host host, String id, Process process, boolean pty) {
        this.host = host;
        this.id = id;
        this.process = process;
        this.pty = pty;
    }

    public long pid() {
        return process.pid();
    }

    /** Starts the pumps; the caller has sent {@code started}. */
    public void start(long timeoutMillis) {
        PipeThreads.Task stderr = PipeThreads.start("job-" + pid() + "-stderr",
                () -> host.pump(this, process.getErrorStream(), "stderr"));
        PipeThreads.start("job-" + pid() + "-stdout", () -> {
            host.pump(this, process.getInputStream(), "stdout");
            stderr.join();
            finish();
        });
        if (timeoutMillis > 0) {
            timeout = Timers.after(timeoutMillis, () -> {
                endReason = "timeout";
                terminate();
            });
        }
        if (pty) {
            // Learn the terminal's group early, so that cleanup finds it even after script is gone.
            Timers.afterBlocking(200, "job-" + pid() + "-groups", this::allGroups);
        }
        // If the process exits while descendants hold its pipes open, do not wait for them forever.
        process.onExit().thenRun(() -> {
            if (finished.get()) {
                return;
            }
            ScheduledFuture<?> kill = Timers.afterBlocking(host.linger().toMillis(), "job-" + pid() + "-linger", () -> {
                if (!finished.get()) {
                    ProcessGroups.signal(process, allGroups(), JobSignal.KILL);
                }
            });
            linger = kill;
            if (finished.get()) {
                kill.cancel(false); // finish() ran meanwhile and may have missed it
            }
        });
    }

    private void finish() {
        int code;
        try {
            code = process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            code = -1;
        }
        finished.set(true);
        // Cancelled timers leave the queue at once: none of them keeps this finished process alive.
        for (ScheduledFuture<?> t : new ScheduledFuture<?>[] {timeout, linger}) {
            if (t != null) {
                t.cancel(false);
            }
        }
        long durationMs = (System.nanoTime() - startNanos) / 1_000_000;
        // The JDK reports death by signal n as 128 + n, as shells do.
        JobSignal signal = code > 128 ? JobSignal.byNumber(code - 128) : null;
        host.finished(this, new Exit(code, signal, endReason, durationMs));
        closeStdin();
        // The job is over: anything it left running in its group goes too (looked for in batches).
        LeftoverSweep.check(allGroups(), host.killGrace());
    }

    public boolean isFinished() {
        return finished.get();
    }

    /** Sends a signal to the job's process group, off the caller's thread (and off the timer thread). */
    public void signal(JobSignal signal) {
        Timers.blocking("job-" + pid() + "-signal",
                () -> ProcessGroups.signal(process, signal == JobSignal.KILL ? allGroups() : signalTargets(), signal));
    }

    /**
     * Where a signal for the command goes: its process group. Under a pty that is the group
     * inside the terminal, not script's own, so that script passes the command's fate on as
     * its exit code (script answers a signal of its own by ending the session itself).
     */
    private List<Long> signalTargets() {
        if (pty) {
            innerGroups.addAll(ProcessGroups.innerGroups(process));
            if (!innerGroups.isEmpty()) {
                return List.copyOf(innerGroups);
            }
        }
        return List.of(process.pid());
    }

    /** Every process group of the job, for KILL and for cleaning up. */
    private List<Long> allGroups() {
        if (pty) {
            innerGroups.addAll(ProcessGroups.innerGroups(process));
        }
        List<Long> groups = new ArrayList<>();
        groups.add(process.pid());
        groups.addAll(innerGroups);
        return groups;
    }

    /** TERM now, KILL after the grace if the job has not finished by then. Idempotent. */
    public void terminate() {
        terminateAll(List.of(this));
    }

    /**
     * Ends jobs: TERM to all of them now, KILL after the grace to those not finished by then.
     * One {@code kill} process carries each signal to every group, however many jobs a
     * connection had. A job already being ended is left alone.
     */
    public static void terminateAll(Collection<Job> jobs) {
        List<Job> ending = jobs.stream().filter(job -> job.terminating.compareAndSet(false, true)).toList();
        if (ending.isEmpty()) {
            return;
        }
        Job first = ending.get(0);
        Timers.blocking("jobs-term", () -> signalAll(ending, JobSignal.TERM));
        Timers.afterBlocking(first.host.killGrace().toMillis(), "jobs-kill",
                () -> signalAll(ending.stream().filter(job -> !job.finished.get()).toList(), JobSignal.KILL));
    }

    private static void signalAll(List<Job> jobs, JobSignal signal) {
        if (jobs.isEmpty()) {
            return;
        }
        if (!ProcessGroups.enabled()) {
            jobs.forEach(job -> ProcessGroups.signal(job.process, signal));
            return;
        }
        List<Long> groups = new ArrayList<>();
        for (Job job : jobs) {
            groups.addAll(signal == JobSignal.KILL ? job.allGroups() : job.signalTargets());
        }
        ProcessGroups.signal(jobs.get(0).process, groups, signal);
    }

    /** Bytes on their way to stdin, and the budget of the connection that sent them. */
    private record Chunk(byte[] data, InputBudget budget) {
    }

    /**
     * Queues bytes for the process's stdin, counted against the sending connection's budget.
     * Waits only while that budget is spent (the process is not reading as fast as the client
     * sends), and never once the connection closes: then the bytes are dropped.
     *
     * @return false if the connection closed while waiting
     */
    public boolean writeStdin(byte[] data, InputBudget budget) throws InterruptedException {
        if (data.length == 0) {
            return true;
        }
        if (!budget.acquire(data.length)) {
            return false;
        }
        enqueue(new Chunk(data, budget));
        return true;
    }

    /** Closes stdin once what was queued before has been written. */
    public void closeStdinLater() {
        enqueue(END_OF_INPUT);
    }

    private void enqueue(Chunk chunk) {
        stdinLock.lock();
        try {
            if (stdinDone) {
                chunk.budget().release(chunk.data().length); // stdin is closed: dropped, as a pipe would
                return;
            }
            startStdinWriter();
            stdin.add(chunk);
        } finally {
            stdinLock.unlock();
        }
    }

    /** Lock held. */
    private void startStdinWriter() {
        if (stdin != null) {
            return;
        }
        stdin = new LinkedBlockingQueue<>(); // bounded by the budgets of the chunks in it
        BlockingQueue<Chunk> queue = stdin;
        // A platform thread: a write to a full pipe would pin a virtual thread's carrier.
        PipeThreads.start("job-" + pid() + "-stdin", () -> {
            OutputStream out = process.getOutputStream();
            try {
                while (true) {
                    Chunk chunk = queue.take();
                    if (chunk == END_OF_INPUT) {
                        break;
                    }
                    try {
                        out.write(chunk.data());
                        out.flush();
                    } finally {
                        chunk.budget().release(chunk.data().length);
                    }
                }
            } catch (IOException e) {
                // the process closed its stdin or exited: what it did not read is dropped, as with a pipe
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeQuietly(out);
                dropStdin();
            }
        });
    }

    /** Stdin is over: whatever is still queued is dropped and its budget given back. */
    private void dropStdin() {
        stdinLock.lock();
        try {
            stdinDone = true;
            if (stdin != null) {
                for (Chunk chunk; (chunk = stdin.poll()) != null; ) {
                    chunk.budget().release(chunk.data().length);
                }
            }
        } finally {
            stdinLock.unlock();
        }
    }

    private void closeStdin() {
        stdinLock.lock();
        try {
            if (stdin == null) {
                stdinDone = true;
                closeQuietly(process.getOutputStream());
                return;
            }
        } finally {
            stdinLock.unlock();
        }
        dropStdin();
        stdin.offer(END_OF_INPUT); // wakes the writer, which closes the pipe
    }

    private static void closeQuietly(OutputStream out) {
        try {
            out.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
