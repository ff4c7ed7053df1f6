package wsexec;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One platform thread for everything that happens later or must not run on a
 * virtual thread: handshake deadlines, kill graces, job time limits, and
 * signalling process groups (which starts and waits for a {@code kill} process).
 * Its work items are few and short; their number is bounded by connections and jobs.
 */
final class Timers {
    private static final ScheduledExecutorService EXECUTOR = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "wsexec-timers");
        thread.setDaemon(true);
        return thread;
    });

    private Timers() {
    }

    static ScheduledFuture<?> after(long millis, Runnable task) {
        return EXECUTOR.schedule(guard(task), millis, TimeUnit.MILLISECONDS);
    }

    static void now(Runnable task) {
        EXECUTOR.execute(guard(task));
    }

    /**
     * Waits, checking every {@code stepMillis}, until {@code done} holds or {@code limit} has passed
     * (used while stopping, to give jobs and closing handshakes their time and no more).
     *
     * @return whether {@code done} held in time
     */
    static boolean awaitUntil(Duration limit, long stepMillis, BooleanSupplier done) {
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
