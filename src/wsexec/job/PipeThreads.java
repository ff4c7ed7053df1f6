package wsexec.job;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The platform threads that read and write jobs' pipes. A blocking read of a {@code Process} pipe
 * pins a virtual thread's carrier, so pipes get platform threads; but a new platform thread per
 * pipe per job is a stack mapped and unmapped, a native thread record allocated and freed, and the
 * JVM's thread list copied, every time. Reusing threads removes that churn from job start-up
 * and keeps the C heap from fragmenting while thousands of jobs come and go.
 *
 * <p>A thread is handed a pipe only when it is free; otherwise a new one starts (a
 * {@link SynchronousQueue} holds no work: nothing waits in a queue). Their number is therefore
 * bounded by the pipes open at once, which the job limits bound; a thread idle for
 * {@link #KEEP_ALIVE_SECONDS} ends.
 */
public final class PipeThreads {
    static final long KEEP_ALIVE_SECONDS = 5;

    private static final AtomicLong NUMBER = new AtomicLong();
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
            KEEP_ALIVE_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(),
            runnable -> Thread.ofPlatform().name("pipe-" + NUMBER.incrementAndGet()).daemon(true).unstarted(runnable));

    private PipeThreads() {
    }

    /** A pipe's work, running on a pool thread; {@link #join()} waits for it to end. */
    public static final class Task {
        private final CountDownLatch done = new CountDownLatch(1);

        public void join() {
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs {@code work} on a free pipe thread (a new one if none is free), named {@code name} meanwhile. */
    public static Task start(String name, Runnable work) {
        Task task = new Task();
        POOL.execute(() -> {
            Thread thread = Thread.currentThread();
            String poolName = thread.getName();
            thread.setName(name);
            try {
                work.run();
            } finally {
                thread.setName(poolName);
                task.done.countDown();
            }
        });
        return task;
    }
}
