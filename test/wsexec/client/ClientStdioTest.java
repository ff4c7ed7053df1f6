package wsexec.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import wsexec.JarProcess;
import wsexec.server.Processes;
import wsexec.server.TestServer;

/**
 * {@code run}'s own stdin and stdout as a shell pipeline uses them.
 *
 * <p>It reads our stdin on a thread that must be gone when the job has ended: a thread left
 * blocked in a read holds the JVM's exit for ~300 ms (see {@link Client#interruptible}). A FIFO
 * with a writer that never writes stands in for a terminal nobody types into.
 */
@Timeout(30)
class ClientStdioTest {

    @Test
    void anInterruptedReaderLeavesItsBlockedReadOfTheInterruptibleStdin(@TempDir Path dir) throws Exception {
        Path fifo = fifo(dir);
        try (RandomAccessFile writer = new RandomAccessFile(fifo.toFile(), "rw");
             InputStream stdin = Terminal.interruptible(new FileInputStream(fifo.toFile()))) {
            Reader reader = new Reader(stdin);
            writer.write('x');
            assertTrue(reader.firstByte.await(10, TimeUnit.SECONDS), "the reader got the first byte");
            // the reader is now blocked in its second read: nothing more will be written
            reader.thread.interrupt();
            reader.thread.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(reader.thread.isAlive(), "the interrupted reader left its read");
            assertInstanceOf(ClosedByInterruptException.class, reader.failure.get());
        }
    }

    /** Why: a plain file stream's read ignores the interrupt and waits for input. */
    @Test
    void aPlainFileStreamReadIgnoresTheInterrupt(@TempDir Path dir) throws Exception {
        Path fifo = fifo(dir);
        try (RandomAccessFile writer = new RandomAccessFile(fifo.toFile(), "rw");
             InputStream stdin = new FileInputStream(fifo.toFile())) {
            Reader reader = new Reader(stdin);
            writer.write('x');
            assertTrue(reader.firstByte.await(10, TimeUnit.SECONDS), "the reader got the first byte");
            reader.thread.interrupt();
            reader.thread.join(500);
            assertTrue(reader.thread.isAlive(), "still blocked in read despite the interrupt");
            writer.write('y'); // what does end it: input
            reader.thread.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(reader.thread.isAlive());
            assertEquals('y', reader.secondByte.get());
        }
    }

    /** {@code run … <&-}: the job gets an empty stdin, not the file the JVM opened on descriptor 0. */
    @Test
    void startedWithStdinClosedTheJobReadsNothing() throws Exception {
        try (TestServer server = TestServer.exec()) {
            Process run = new ProcessBuilder("/bin/sh", "-c", "exec \"$0\" -jar \"$1\" run --url \"$2\" -- 'wc -c' <&-",
                    JarProcess.java(), JarProcess.JAR.toString(), server.url()).redirectErrorStream(true).start();
            run.getOutputStream().close();
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "run did not end");
            String output = new String(run.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals("0", output.strip(), "what the job read from its stdin, counted by wc -c");
            assertEquals(0, run.exitValue());
        }
    }

    /** {@code run -- yes | head -2}: when our stdout's reader is gone, run ends (141) and so does the job. */
    @Test
    void whenItsStdoutIsClosedRunEndsWith141AndTheJobEnds() throws Exception {
        String mark = java.util.UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec()) {
            Process run = new ProcessBuilder(JarProcess.java(), "-jar", JarProcess.JAR.toString(), "run", "--url", server.url(),
                    "--env", "WSEXEC_TEST_MARK=" + mark, "--", "yes").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                run.getOutputStream().close();
                java.io.BufferedReader lines = new java.io.BufferedReader(
                        new java.io.InputStreamReader(run.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                assertEquals("y", lines.readLine());
                assertEquals("y", lines.readLine());
                assertFalse(Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty(), "the job runs while we read");
                run.getInputStream().close(); // as head does after its two lines
                assertTrue(run.waitFor(30, TimeUnit.SECONDS), "run did not end after its stdout was closed");
                assertEquals(128 + 13, run.exitValue(), "as a shell reports a program killed by SIGPIPE");
                assertTrue(Processes.await(10_000, () -> Processes.withEnvironment("WSEXEC_TEST_MARK", mark).isEmpty()),
                        "left running: " + Processes.withEnvironment("WSEXEC_TEST_MARK", mark));
            } finally {
                run.destroyForcibly();
            }
        }
    }

    private static Path fifo(Path dir) throws IOException, InterruptedException {
        Path fifo = dir.resolve("stdin");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        assertTrue(Files.exists(fifo));
        return fifo;
    }

    /** Reads one byte, says so, then reads the next (which blocks until input or interrupt). */
    private static final class Reader {
        final CountDownLatch firstByte = new CountDownLatch(1);
        final AtomicReference<Integer> secondByte = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;

        Reader(InputStream in) {
            thread = Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    in.read();
                    firstByte.countDown();
                    secondByte.set(in.read());
                } catch (IOException e) {
                    failure.set(e);
                }
            });
        }
    }
}
