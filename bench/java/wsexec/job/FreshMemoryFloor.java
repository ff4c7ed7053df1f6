package wsexec.job;

import java.util.ArrayList;
import java.util.List;

/**
 * The floor under a kept job's log (issue #19): what it costs this machine to copy output into
 * memory the process has never touched and keep it, which a kept job must do for every byte up
 * to its {@code --keep-buffer} (the log of a finished job stays attachable). It runs the W1 and
 * W3 sizes through {@link OutputLog} itself, 64 KiB at a time as a pipe reader appends, into a new
 * log per round whose predecessors stay referenced, exactly as the bench's kept rows leave every
 * run's job kept. A second figure appends the same bytes to one log that is reused (its memory is
 * warm after the first round): the difference is the fresh memory alone, page faults and zeroing,
 * which no implementation that keeps the bytes in memory can avoid.
 *
 * <p>Run it with the server's JVM options. Prints the median of 7 rounds after 3 warm-up rounds.
 * Not a test: it asserts nothing.
 */
public final class FreshMemoryFloor {
    private FreshMemoryFloor() {
    }

    public static void main(String[] args) throws InterruptedException {
        int capacity = 8 << 20; // the default --keep-buffer
        for (long total : new long[] {6_888_896L, 67_567_568L}) { // W1 (seq 1 1000000) and W3 (base64 of 50 MB)
            byte[] read = new byte[64 * 1024];
            for (int i = 0; i < read.length; i++) {
                read[i] = (byte) ('0' + i % 10);
            }
            List<OutputLog> kept = new ArrayList<>();
            OutputLog reused = new OutputLog(capacity);
            double[] fresh = new double[7];
            double[] warm = new double[7];
            for (int round = -3; round < fresh.length; round++) {
                OutputLog log = new OutputLog(capacity);
                kept.add(log); // the bench keeps every run's job for 600 s
                long t0 = System.nanoTime();
                append(log, read, total);
                long t1 = System.nanoTime();
                append(reused, read, total);
                long t2 = System.nanoTime();
                if (round >= 0) {
                    fresh[round] = (t1 - t0) / 1e6;
                    warm[round] = (t2 - t1) / 1e6;
                }
            }
            java.util.Arrays.sort(fresh);
            java.util.Arrays.sort(warm);
            double keptMB = Math.min(total, capacity) / 1e6; // what a log of the default buffer holds
            System.out.printf("%.1f MB, 64 KiB at a time, into a new log per round (fresh memory): %.2f ms; into one reused log (warm memory): %.2f ms;"
                    + " the %.1f MB kept in fresh memory cost %.2f ms per MB (%d logs held)%n",
                    total / 1e6, fresh[3], warm[3], keptMB, (fresh[3] - warm[3]) / keptMB, kept.size());
        }
    }

    private static void append(OutputLog log, byte[] read, long total) throws InterruptedException {
        for (long done = 0; done < total; done += read.length) {
            log.append(read, 0, (int) Math.min(read.length, total - done));
        }
    }
}
