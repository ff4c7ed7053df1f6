package wsexec.job;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One output stream of a job (stdout or stderr), addressed by offset: byte 0 is the first byte
 * the process wrote. The pipe reader {@link #append appends}; each watcher reads through a
 * {@link Cursor} from an offset of its own, so any number of them see the same bytes in the same
 * order, and one that reconnects continues where it left off.
 *
 * <p>Memory is bounded: the log holds the last {@code capacity} bytes in a ring (grown on demand,
 * so a quiet job costs little). What happens when it is full depends on who reads:
 * <ul>
 *   <li>while a <em>holding</em> cursor (a read-write attachment) lags by a full buffer,
 *       {@code append} waits: the pipe fills and the process blocks in {@code write}, as on a
 *       slow terminal — the backpressure of a job nobody detached from;</li>
 *   <li>otherwise (nobody attached, or read-only viewers only) the oldest bytes are overwritten,
 *       and a cursor that still wanted them learns of it as a {@link Gap}: never a silent hole,
 *       never a byte twice.</li>
 * </ul>
 * Cursors wait on a lock condition, not on a pipe, so they may run on virtual threads.
 */
public final class OutputLog {
    /** Bytes a cursor wanted that the log no longer holds: {@code [from, to)}. */
    public record Gap(long from, long to) {
    }

    private static final int FIRST_CAPACITY = 64 * 1024;

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private byte[] ring = new byte[0];
    /** Offset of the oldest byte held, and of the byte after the newest. */
    private long start;
    private long end;
    private boolean closed;
    private final List<Cursor> holding = new ArrayList<>();
    /** The same bytes on disk, further back than memory reaches; null for none. */
    private final LogFiles files;
    private boolean filesFailed;

    /** @param capacity bytes held in memory at most */
    public OutputLog(int capacity) {
        this(capacity, null);
    }

    /**
     * @param capacity bytes held in memory at most
     * @param files    where to write every byte as well ({@code --keep-dir}); null for memory only
     */
    public OutputLog(int capacity, LogFiles files) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
        this.files = files;
    }

    /** Offset of the first byte a reader can still get: from disk, or from memory. Lock held. */
    private long firstKept() {
        return files != null && !filesFailed ? Math.min(start, files.start()) : start;
    }

    /** Deletes the log's files (the job is forgotten). */
    public void deleteFiles() {
        lock.lock();
        try {
            if (files != null) {
                files.delete();
                filesFailed = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds bytes at the end, waiting while a holding cursor lags by a full buffer.
     *
     * @throws InterruptedException if interrupted while waiting; nothing was added
     */
    public void append(byte[] data, int off, int len) throws InterruptedException {
        lock.lock();
        try {
            int done = 0;
            while (done < len) {
                long floor = holdingFloor();
                while (floor >= 0 && end - floor >= capacity) {
                    changed.await();
                    floor = holdingFloor();
                }
                // As much as fits before the slowest holder (all of it when nobody holds).
                long room = floor < 0 ? len - done : Math.min(len - done, capacity - (end - floor));
                int n = (int) Math.min(room, capacity);
                ensureRing(end + n - start);
                copyIn(data, off + done, n);
                if (files != null && !filesFailed) {
                    try {
                        files.write(data, off + done, n);
                    } catch (java.io.IOException e) {
                        filesFailed = true; // the disk is full or gone: memory alone from here on
                        wsexec.common.Log.error("cannot write a kept job's log to disk: " + e.getMessage());
                    }
                }
                done += n;
                end += n;
                if (end - start > capacity) {
                    start = end - capacity;
                }
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The end of the stream: cursors read to here, then see end of stream. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Offset of the byte after the newest: the stream's length so far. */
    public long end() {
        lock.lock();
        try {
            return end;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes held now. */
    public long held() {
        lock.lock();
        try {
            return end - start;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes let go so far, in memory and (with files) on disk: some reader may have wanted them. */
    public long overwritten() {
        lock.lock();
        try {
            return firstKept();
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A reader from {@code from} (clamped to the end: a reader cannot start in the future).
     *
     * @param holds whether this reader holds the writer back when it lags (a read-write
     *              attachment) instead of letting the oldest bytes go
     */
    public Cursor cursor(long from, boolean holds) {
        lock.lock();
        try {
            Cursor cursor = new Cursor(Math.max(0, Math.min(from, end)), holds);
            if (holds) {
                holding.add(cursor);
            }
            return cursor;
        } finally {
            lock.unlock();
        }
    }

    /** Lowest offset a holding cursor still needs, or -1 if none holds. Lock held. */
    private long holdingFloor() {
        long floor = -1;
        for (Cursor c : holding) {
            if (floor < 0 || c.offset < floor) {
                floor = c.offset;
            }
        }
        return floor;
    }

    /**
     * Grows the ring so it can hold {@code bytes}: fourfold at a time up to the capacity, the held
     * bytes moved with at most four bulk copies (each byte sits at its offset modulo the ring's size).
     * Lock held.
     */
    private void ensureRing(long bytes) {
        int needed = (int) Math.min(capacity, bytes);
        if (ring.length >= needed) {
            return;
        }
        long size = Math.max(ring.length, FIRST_CAPACITY);
        while (size < needed) {
            size *= 4;
        }
        byte[] grown = new byte[(int) Math.min(size, capacity)];
        long from = end - Math.min(end - start, grown.length);
        int held = (int) (end - from);
        int pos = (int) (from % grown.length);
        int first = Math.min(held, grown.length - pos);
        if (held > 0) {
            copyOut(from, grown, pos, first, ring);
            copyOut(from + first, grown, 0, held - first, ring);
        }
        ring = grown;
    }

    private void copyIn(byte[] data, int off, int len) {
        int pos = (int) (end % ring.length);
        int first = Math.min(len, ring.length - pos);
        System.arraycopy(data, off, ring, pos, first);
        System.arraycopy(data, off + first, ring, 0, len - first);
    }

    private static void copyOut(long from, byte[] dst, int off, int len, byte[] ring) {
        if (len == 0) {
            return;
        }
        int pos = (int) (from % ring.length);
        int first = Math.min(len, ring.length - pos);
        System.arraycopy(ring, pos, dst, off, first);
        System.arraycopy(ring, 0, dst, off + first, len - first);
    }

    /**
     * One reader's place in the log, read as an {@link InputStream} that blocks until bytes
     * arrive and ends at the log's end of stream (or when {@link #close() closed}). Bytes the log
     * dropped before this reader got them are skipped and reported by {@link #takeGap()}, which
     * a reader asks before it uses the bytes of each read.
     */
    public final class Cursor extends InputStream {
        private long offset;
        private final boolean holds;
        private boolean detached;
        private Gap gap;

        private Cursor(long offset, boolean holds) {
            this.offset = offset;
            this.holds = holds;
        }

        /** Offset of the next byte this cursor reads. */
        public long offset() {
            lock.lock();
            try {
                return offset;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            lock.lock();
            try {
                while (!detached && offset >= end && !closed) {
                    changed.await();
                }
                if (detached || (offset >= end && closed)) {
                    return -1;
                }
                long first = firstKept();
                if (offset < first) {
                    Gap lost = new Gap(offset, first);
                    gap = gap == null ? lost : new Gap(gap.from(), lost.to());
                    offset = first;
                }
                int n;
                if (offset < start) {
                    // further back than memory: from the files (page cache, usually)
                    n = files.read(offset, b, off, (int) Math.min(len, start - offset));
                    if (n <= 0) {
                        throw new java.io.IOException("a kept job's log file is missing the bytes at " + offset);
                    }
                } else {
                    n = (int) Math.min(len, end - offset);
                    copyOut(offset, b, off, n, ring);
                }
                offset += n;
                if (holds) {
                    changed.signalAll(); // the writer may be waiting for this reader
                }
                return n;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for output");
            } finally {
                lock.unlock();
            }
        }

        /** The bytes skipped before the last read's bytes, once; null if none. */
        public Gap takeGap() {
            lock.lock();
            try {
                Gap g = gap;
                gap = null;
                return g;
            } finally {
                lock.unlock();
            }
        }

        /** Stops reading: a waiting read returns end of stream, and the writer no longer waits for it. */
        @Override
        public void close() {
            lock.lock();
            try {
                detached = true;
                holding.remove(this);
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
