package wsexec.job;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import wsexec.common.Log;

/**
 * Two platform threads for everything that happens later: one for handshake deadlines, kill
 * graces and job time limits, one for the connections' keepalive and idle checks ({@link Watch}).
 * Their work items are few and short and never block; their number is bounded by connections and jobs. What blocks — signalling process
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
     * A repeating look at one thing — a connection's keepalive and idle checks — for what there are
     * thousands of. A watch is its own entry in the queue of watches: a binary heap ordered by due
     * time, in which each entry knows its index, so that cancelling one is a removal, not a search.
     * An idle connection's watch costs its own few fields, where a {@link #after} item costs a
     * {@code ScheduledFutureTask} and its adapter (~80 bytes) and one more object for the step. The
     * watches run on one platform thread of their own ({@code wsexec-watches}); the queue holds one
     * entry per live watch, so it is bounded by what is watched (the server's connections).
     */
    public abstract static class Watch {
        /** When the next step is due ({@link System#nanoTime()}); guarded by the queue's lock. */
        private long due;
        /** The entry's place in the heap; -1 while it is not queued. Guarded by the queue's lock. */
        private int index = -1;
        private boolean cancelled;

        protected Watch() {
        }

        /**
         * One look, on the watches' thread: the nanoseconds until the next, or a negative number for
         * no more. It must not block; what might (a send) it hands to a thread of its own.
         */
        protected abstract long step();

        /** Runs the first step after {@code firstNanos}. */
        public final void start(long firstNanos) {
            WATCHES.schedule(this, firstNanos);
        }

        /** Stops the watch; a step already running finishes, and is not scheduled again. */
        public final void cancel() {
            WATCHES.cancel(this);
        }
    }

    private static final Watches WATCHES = new Watches();

    /** The queue of {@link Watch}es and the loop of their thread. */
    private static final class Watches implements Runnable {
        private final ReentrantLock lock = new ReentrantLock();
        /** Signalled when the earliest entry changes. */
        private final Condition earliest = lock.newCondition();
        private Watch[] heap = new Watch[64];
        private int size;
        private boolean started;

        void schedule(Watch watch, long delayNanos) {
            lock.lock();
            try {
                if (watch.cancelled) {
                    return; // cancelled while its step ran
                }
                watch.due = System.nanoTime() + delayNanos;
                if (watch.index < 0) {
                    if (size == heap.length) {
                        heap = Arrays.copyOf(heap, size * 2);
                    }
                    place(size++, watch);
                }
                siftUp(siftDown(watch.index));
                if (heap[0] == watch) {
                    earliest.signal();
                }
                if (!started) {
                    started = true;
                    Thread.ofPlatform().name("wsexec-watches").daemon(true).start(this);
                }
            } finally {
                lock.unlock();
            }
        }

        void cancel(Watch watch) {
            lock.lock();
            try {
                watch.cancelled = true;
                if (watch.index >= 0) {
                    removeAt(watch.index);
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void run() {
            while (true) {
                Watch watch;
                lock.lock();
                try {
                    while (true) {
                        if (size == 0) {
                            earliest.awaitUninterruptibly();
                            continue;
                        }
                        long wait = heap[0].due - System.nanoTime();
                        if (wait <= 0) {
                            watch = heap[0];
                            removeAt(0);
                            break;
                        }
                        earliest.awaitNanos(wait);
                    }
                } catch (InterruptedException e) {
                    continue; // nobody interrupts this thread; if someone does, it goes on
                } finally {
                    lock.unlock();
                }
                long next;
                try {
                    next = watch.step();
                } catch (RuntimeException e) {
                    Log.error("timer task failed: " + e);
                    continue;
                }
                if (next >= 0) {
                    schedule(watch, next);
                }
            }
        }

        /** Lock held. */
        private void removeAt(int i) {
            Watch removed = heap[i];
            removed.index = -1;
            Watch last = heap[--size];
            heap[size] = null;
            if (i < size) {
                place(i, last);
                siftUp(siftDown(i));
            }
            if (heap.length > 64 && size < heap.length / 4) {
                heap = Arrays.copyOf(heap, heap.length / 2); // after a burst of connections, give the room back
            }
        }

        /** Lock held; returns the entry's new index. */
        private int siftDown(int i) {
            Watch watch = heap[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1].due - heap[child].due < 0) {
                    child++;
                }
                if (heap[child].due - watch.due >= 0) {
                    break;
                }
                place(i, heap[child]);
                i = child;
            }
            place(i, watch);
            return i;
        }

        /** Lock held. */
        private void siftUp(int i) {
            Watch watch = heap[i];
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (watch.due - heap[parent].due >= 0) {
                    break;
                }
                place(i, heap[parent]);
                i = parent;
            }
            place(i, watch);
        }

        /** Puts a watch at slot {@code i}, which it then knows (for its cancel). Lock held. */
        private void place(int i, Watch watch) {
            heap[i] = watch;
            watch.index = i;
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
