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
 * <p>Memory is bounded: the log holds the last {@code capacity} bytes in a ring of fixed-size
 * chunks, each allocated when the first byte reaches it, so a quiet job costs one chunk and a job
 * costs only the memory its output fills (a ring that grew by copying into ever larger arrays
 * touched about twice that, and fresh memory, zeroed and faulted in, was what a kept job's output
 * cost most: bench/README.md). What happens when it is full depends on who reads:
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

    /** Bytes per chunk of the ring: one pipe read at most (a Linux pipe holds 64 KiB). */
    static final int CHUNK = 64 * 1024;

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The ring: byte at offset {@code o} sits in chunk {@code (o % ringSize) / chunkSize}; null until reached. */
    private final byte[][] chunks;
    private final int chunkSize;
    private final long ringSize;
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
        this.chunkSize = Math.min(CHUNK, capacity);
        this.chunks = new byte[(capacity + chunkSize - 1) / chunkSize][];
        this.ringSize = (long) chunks.length * chunkSize; // at least capacity: held bytes never collide
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

    /** Copies {@code len} bytes to the ring at {@link #end}, chunk by chunk. Lock held. */
    private void copyIn(byte[] data, int off, int len) {
        long at = end;
        while (len > 0) {
            int index = chunkIndex(at);
            int pos = (int) (at % chunkSize);
            int n = Math.min(len, chunkSize - pos);
            byte[] chunk = chunks[index];
            if (chunk == null) {
                // A new array filled at once by a copy: the JIT zeroes only what the copy leaves,
                // not the whole chunk first (hence a copy in each branch, not one after the if).
                chunk = new byte[chunkSize];
                System.arraycopy(data, off, chunk, pos, n);
                chunks[index] = chunk;
            } else {
                System.arraycopy(data, off, chunk, pos, n);
            }
            at += n;
            off += n;
            len -= n;
        }
    }

    /** The chunk that holds the byte at {@code offset}. */
    private int chunkIndex(long offset) {
        return (int) ((offset % ringSize) / chunkSize);
    }

    /** Copies {@code len} held bytes from offset {@code from} into {@code dst}. Lock held. */
    private void copyOut(long from, byte[] dst, int off, int len) {
        while (len > 0) {
            int pos = (int) (from % chunkSize);
            int n = Math.min(len, chunkSize - pos);
            System.arraycopy(chunks[chunkIndex(from)], pos, dst, off, n);
            from += n;
            off += n;
            len -= n;
        }
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
                    copyOut(offset, b, off, n);
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
