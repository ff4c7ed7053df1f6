package wsexec.job;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes of stdin a connection may have on their way to its jobs' pipes: received from the
 * client, not yet written (or dropped). It bounds memory without parking the connection's
 * reader where it cannot see the connection end: the reader waits here only once the budget
 * is spent — which is the backpressure a client feels when a job reads slowly — and
 * {@link #close()} wakes it the moment the connection stops being open, whichever way.
 */
public final class InputBudget {
    private final long limit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private long used;
    private boolean closed;

    /** @param limit bytes held at most; one message larger than this may still pass when nothing else is held */
    public InputBudget(long limit) {
        this.limit = limit;
    }

    /**
     * Takes {@code bytes} from the budget, waiting while it is spent.
     *
     * @return false if the budget was closed first (the connection ended): nothing was taken
     */
    public boolean acquire(int bytes) throws InterruptedException {
        lock.lock();
        try {
            while (!closed && used > 0 && used + bytes > limit) {
                released.await();
            }
            if (closed) {
                return false;
            }
            used += bytes;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives bytes back: they reached the pipe, or were dropped. */
    public void release(int bytes) {
        if (bytes == 0) {
            return;
        }
        lock.lock();
        try {
            used -= bytes;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Ends every wait, now and later: the connection is closing. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long used() {
        lock.lock();
        try {
            return used;
        } finally {
            lock.unlock();
        }
    }
}
