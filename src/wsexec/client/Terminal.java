package wsexec.client;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;

/** The client's side of the local terminal: our stdin as the job's, and whether our terminal went away. */
public final class Terminal {
    private Terminal() {
    }

    /**
     * A file's stream (our stdin) that a thread blocked reading it leaves when interrupted.
     *
     * <p>A read on a plain {@code FileInputStream} blocks in native code, and nothing but input
     * ends it. HotSpot's exit waits for threads in native code for up to 300 ms; so every
     * {@code run} whose stdin stayed open (a terminal, a pipe nobody closes) ended about 280 ms
     * after its job did. A {@code FileChannel} is an {@link java.nio.channels.InterruptibleChannel}:
     * interrupting its reader closes it and wakes the read, so the stdin thread is gone before exit.
     */
    static InputStream interruptible(FileInputStream file) {
        return Channels.newInputStream(file.getChannel());
    }

    /**
     * Our stdin for the job: descriptor 0, read {@link #interruptible}; or nothing, when we were
     * started with descriptor 0 closed ({@code wsexec run … <&-}).
     *
     * <p>The JVM does not reopen a closed descriptor 0 on {@code /dev/null} as C programs' start-up
     * code often does: the lowest free descriptor goes to the first file it opens for itself, the
     * JDK's module image ({@code lib/modules}, measured on JDK 25 with and without a start-up
     * cache). Reading "stdin" then sent that file, over a hundred megabytes of it, to the job.
     */
    public static InputStream standardInput() {
        if (isSameFile(Path.of("/proc/self/fd/0"), Path.of(System.getProperty("java.home"), "lib", "modules"))) {
            return InputStream.nullInputStream();
        }
        return interruptible(new FileInputStream(FileDescriptor.in));
    }

    private static boolean isSameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false; // no /proc, or no module image: nothing to mistake for stdin
        }
    }

    /** Field 7 (tty_nr) of /proc/self/stat; 0 for none or where there is no /proc. */
    static long controllingTerminal() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[4]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
