package wsexec.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The offset-addressed output log without processes or sockets. */
@Timeout(30)
class OutputLogTest {

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(OutputLog.Cursor cursor) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[7919]; // odd-sized reads cross the ring's wrap at every place
        int n;
        while ((n = cursor.read(buffer, 0, buffer.length)) >= 0) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    @Test
    void aReaderFromAnyOffsetGetsExactlyTheBytesFromThere() throws Exception {
        byte[] data = random(300_000, 1);
        OutputLog log = new OutputLog(1 << 20);
        for (int i = 0; i < data.length; i += 1000) {
            log.append(data, i, Math.min(1000, data.length - i)); // the ring grows as it fills
        }
        log.close();
        for (long from : new long[] {0, 1, 65_535, 65_536, 299_999, 300_000, 400_000}) {
            OutputLog.Cursor cursor = log.cursor(from, false);
            byte[] got = readAll(cursor);
            int start = (int) Math.min(from, data.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, start, data.length), got, "from " + from);
            assertNull(cursor.takeGap());
        }
    }

    @Test
    void withNobodyHoldingTheOldestBytesGoAndAReaderIsToldOnce() throws Exception {
        byte[] data = random(1_000_000, 2);
        OutputLog log = new OutputLog(64 * 1024);
        log.append(data, 0, data.length);
        log.close();
        assertEquals(data.length, log.end());
        assertEquals(64 * 1024, log.held());
        OutputLog.Cursor cursor = log.cursor(10, false);
        byte[] buffer = new byte[100_000];
        int n = cursor.read(buffer, 0, buffer.length);
        assertEquals(new OutputLog.Gap(10, data.length - 64 * 1024), cursor.takeGap());
        assertNull(cursor.takeGap(), "a gap is reported once");
        byte[] rest = readAll(cursor);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(buffer, 0, n);
        all.write(rest);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, data.length - 64 * 1024, data.length), all.toByteArray());
    }

    @Test
    void aHoldingReaderHoldsTheWriterBackAndLosesNothing() throws Exception {
        byte[] data = random(2_000_000, 3);
        OutputLog log = new OutputLog(32 * 1024);
        OutputLog.Cursor holder = log.cursor(0, true);
        CountDownLatch written = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                log.append(data, 0, data.length);
                log.close();
                written.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertFalse(written.await(300, TimeUnit.MILLISECONDS), "the writer ran past a reader that read nothing");
        assertEquals(32 * 1024, log.end(), "exactly one buffer was written ahead of the holder");
        assertArrayEquals(data, readAll(holder));
        assertNull(holder.takeGap());
        assertTrue(written.await(5, TimeUnit.SECONDS));
        writer.join();
    }

    @Test
    void closingACursorWakesItsReadAndReleasesTheWriter() throws Exception {
        OutputLog log = new OutputLog(1024);
        OutputLog.Cursor holder = log.cursor(0, true);
        log.append(new byte[1024], 0, 1024);
        CountDownLatch appended = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                log.append(new byte[10], 0, 10);
                appended.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertFalse(appended.await(200, TimeUnit.MILLISECONDS));
        holder.close(); // the attachment left: the job must not wait for it
        assertTrue(appended.await(5, TimeUnit.SECONDS));
        writer.join();
        assertEquals(-1, holder.read(new byte[10], 0, 10));
    }

    @Test
    void aRingOfSeveralChunksWrapsWithoutLosingOrRepeatingAByte() throws Exception {
        // 200,000 bytes is three chunks and part of a fourth: the ring is larger than the capacity,
        // and appends of odd sizes cross chunk ends and the ring's wrap at ever different places.
        int capacity = 200_000;
        byte[] data = random(3_000_000, 4);
        OutputLog log = new OutputLog(capacity);
        OutputLog.Cursor holder = log.cursor(0, true);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < data.length; i += 12_345) {
                    log.append(data, i, Math.min(12_345, data.length - i));
                }
                log.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertArrayEquals(data, readAll(holder), "a holding reader behind a wrapping writer");
        writer.join();
        OutputLog.Cursor late = log.cursor(0, false);
        byte[] tail = readAll(late);
        assertEquals(new OutputLog.Gap(0, data.length - capacity), late.takeGap());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, data.length - capacity, data.length), tail,
                "after the gap: exactly the last capacity bytes");
    }
}
