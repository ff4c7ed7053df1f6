package wsexec.job;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import wsexec.common.Log;

/**
 * One platform thread for everything that happens later: handshake deadlines, kill graces,
 * job time limits, keepalive and idle checks. Its work items are few and short and never
 * block; their number is bounded by connections and jobs. What blocks — signalling process
 * groups starts and waits for a {@code kill} process — goes from here to a pipe thread
 * ({@link #afterBlocking}), so one slow {@code kill} cannot delay a handshake deadline.
 *
 * <p>A cancelled item leaves the queue at once (most deadlines are cancelled: a handshake
 * that completes, a job that ends before its time limit), so that nothing it refers to — a
 * socket, a finished {@link Process} — is kept alive until the time it would have run.
 */
public final class Timers {
    private static final ScheduledThreadPoolExecutor EXECUTOR = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "wsexec-timers");
        thread.setDaemon(true);
        return thread;
    });

    static {
        EXECUTOR.setRemoveOnCancelPolicy(true);
    }

    private Timers() {
    }

    public static ScheduledFuture<?> after(long millis, Runnable task) {
        return EXECUTOR.schedule(guard(task), millis, TimeUnit.MILLISECONDS);
    }

    static void now(Runnable task) {
        EXECUTOR.execute(guard(task));
    }

    /**
     * Runs {@code task} after {@code millis} on a platform thread of {@link PipeThreads}, never on
     * the timer thread: for work that blocks — starting and waiting for {@code kill}, reading
     * {@code /proc} — which would otherwise hold up every deadline of the server.
     */
    public static ScheduledFuture<?> afterBlocking(long millis, String name, Runnable task) {
        return after(millis, () -> PipeThreads.start(name, guard(task)));
    }

    /** {@link #afterBlocking} without the wait. */
    public static void blocking(String name, Runnable task) {
        PipeThreads.start(name, guard(task));
    }

    /**
     * Runs {@code step} on the timer thread after {@code firstNanos}, then again after as many
     * nanoseconds as it returns, until it returns a negative number or the loop is cancelled.
     * A watch over one connection costs one queued item instead of a sleeping thread: with
     * thousands of idle connections that is the difference between bytes and kilobytes each.
     * The step must not block; work that might (a send) it hands to a thread of its own.
     */
    public static Loop loop(long firstNanos, LongSupplier step) {
        Loop loop = new Loop(step);
        loop.schedule(firstNanos);
        return loop;
    }

    /** A repeating step started by {@link #loop}. */
    public static final class Loop implements Runnable {
        private final LongSupplier step;
        private volatile ScheduledFuture<?> next;
        private volatile boolean cancelled;

        private Loop(LongSupplier step) {
            this.step = step;
        }

        @Override
        public void run() {
            if (cancelled) {
                return;
            }
            long delay;
            try {
                delay = step.getAsLong();
            } catch (RuntimeException e) {
                Log.error("timer task failed: " + e);
                return;
            }
            if (delay >= 0) {
                schedule(delay);
            }
        }

        private void schedule(long nanos) {
            ScheduledFuture<?> future = EXECUTOR.schedule(this, nanos, TimeUnit.NANOSECONDS);
            next = future;
            if (cancelled) {
                future.cancel(false); // cancel() ran while we scheduled: do not outlive it
            }
        }

        /** Stops the loop; a step already running finishes, and is not scheduled again. */
        public void cancel() {
            cancelled = true;
            ScheduledFuture<?> future = next;
            if (future != null) {
                future.cancel(false);
            }
        }
    }

    /**
     * Waits, checking every {@code stepMillis}, until {@code done} holds or {@code limit} has passed
     * (used while stopping, to give jobs and closing handshakes their time and no more).
     *
     * @return whether {@code done} held in time
     */
    public static boolean awaitUntil(Duration limit, long stepMillis, BooleanSupplier done) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(stepMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                Log.error("timer task failed: " + e);
            }
        };
    }
}
