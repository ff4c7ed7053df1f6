package wsexec.job;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;

/**
 * A stream's output log on disk ({@code --keep-dir}): the bytes from some offset on, in segment
 * files {@code JOB.STREAM.N} of mode 0600, so that a replay from the start is exact for output far
 * larger than memory. At most {@code maxBytes} are kept: past it the oldest segment is deleted,
 * and readers that wanted it get a gap. Not thread-safe: its {@link OutputLog} guards it.
 */
public final class LogFiles {
    /** Segments are at most this large (smaller when {@code maxBytes} is small, so that dropping one loses little). */
    static final long SEGMENT = 64L << 20;

    private record Segment(long start, Path path, FileChannel channel) {
    }

    private final Path dir;
    private final String prefix;
    private final long maxBytes;
    private final long segmentSize;
    private final Deque<Segment> segments = new ArrayDeque<>();
    private long end;
    private int next;

    /**
     * @param dir      where the files go (created if missing)
     * @param name     the file name's start, e.g. {@code JOB.stdout}
     * @param maxBytes bytes kept on disk at most
     */
    public LogFiles(Path dir, String name, long maxBytes) throws IOException {
        Files.createDirectories(dir);
        this.dir = dir;
        this.prefix = name;
        this.maxBytes = maxBytes;
        this.segmentSize = Math.max(4096, Math.min(SEGMENT, maxBytes / 4));
    }

    /** Offset of the first byte still on disk. */
    long start() {
        return segments.isEmpty() ? end : segments.peekFirst().start();
    }

    /** Appends; rotates segments and drops the oldest past the limit. */
    void write(byte[] data, int off, int len) throws IOException {
        while (len > 0) {
            Segment current = segments.peekLast();
            if (current == null || end - current.start() >= segmentSize) {
                current = open(end);
                segments.addLast(current);
            }
            int n = (int) Math.min(len, segmentSize - (end - current.start()));
            ByteBuffer buffer = ByteBuffer.wrap(data, off, n);
            while (buffer.hasRemaining()) {
                current.channel().write(buffer);
            }
            end += n;
            off += n;
            len -= n;
            while (end - start() > maxBytes && segments.size() > 1) {
                Segment oldest = segments.removeFirst();
                oldest.channel().close();
                Files.deleteIfExists(oldest.path());
            }
        }
    }

    /** Reads bytes at {@code offset} (at least {@link #start()}); returns how many, 0 if none are there. */
    int read(long offset, byte[] dst, int off, int len) throws IOException {
        for (Segment s : segments) {
            long segmentEnd = s.start() + s.channel().size();
            if (offset >= s.start() && offset < segmentEnd) {
                int n = (int) Math.min(len, segmentEnd - offset);
                ByteBuffer buffer = ByteBuffer.wrap(dst, off, n);
                long position = offset - s.start();
                while (buffer.hasRemaining()) {
                    int r = s.channel().read(buffer, position);
                    if (r < 0) {
                        break;
                    }
                    position += r;
                }
                return n - buffer.remaining();
            }
        }
        return 0;
    }

    /** Removes every file: the job is forgotten. */
    void delete() {
        for (Segment s : segments) {
            try {
                s.channel().close();
                Files.deleteIfExists(s.path());
            } catch (IOException ignored) {
                // gone already, or the directory was taken away: nothing more to free
            }
        }
        segments.clear();
    }

    private Segment open(long start) throws IOException {
        Path path = dir.resolve(prefix + "." + next++);
        FileChannel channel = FileChannel.open(path, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return new Segment(start, path, channel);
    }

    /**
     * Deletes what an earlier run of the server left in {@code dir}: files of jobs that no longer
     * exist (the registry lives in memory, so after a start none do). Only files named as this
     * class names them are touched.
     *
     * @return how many were deleted
     */
    public static int clean(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int deleted = 0;
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (p.getFileName().toString().matches("[A-Za-z0-9_.-]+\\.(stdout|stderr)\\.\\d+")) {
                    Files.deleteIfExists(p);
                    deleted++;
                }
            }
        }
        return deleted;
    }
}
