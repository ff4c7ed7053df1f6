package wsexec;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar build/wsexec.jar …} as a real process, for what only a whole
 * process shows: signals to it, its exit status, its shutdown.
 */
public final class JarProcess implements AutoCloseable {
    public static final Path JAR = Path.of("build/wsexec.jar").toAbsolutePath();

    public final Process process;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Thread outReader;
    private final Thread errReader;

    private JarProcess(Process process) {
        this.process = process;
        this.outReader = Thread.ofPlatform().daemon(true).start(() -> copy(process.getInputStream(), stdout));
        this.errReader = Thread.ofPlatform().daemon(true).start(() -> copy(process.getErrorStream(), stderr));
    }

    /**
     * Starts the jar with these arguments. Through {@code env --default-signal=INT}, so
     * that the process can be interrupted even if this test runs with INT ignored.
     */
    public static JarProcess start(String... args) throws IOException {
        return start(null, args);
    }

    public static JarProcess start(byte[] stdin, String... args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException("build the jar first: " + JAR);
        }
        List<String> command = new ArrayList<>(List.of("/usr/bin/env", "--default-signal=INT", java(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        if (stdin != null) {
            process.getOutputStream().write(stdin);
        }
        process.getOutputStream().close();
        return new JarProcess(process);
    }

    /** The java binary running this test (the JDK the build chose). */
    public static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                synchronized (sink) {
                    sink.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    public String out() {
        synchronized (stdout) {
            return stdout.toString(StandardCharsets.UTF_8);
        }
    }

    public String err() {
        synchronized (stderr) {
            return stderr.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits for the first line of stdout (a server prints its URL there). */
    public static String firstLine(Process process) throws IOException {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    /** Sends a signal by name with kill(1): the JDK itself can only send TERM and KILL. */
    public void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -s " + name + " failed");
        }
    }

    /** Waits for the exit; returns the status, or -1 if it did not exit in time. */
    public int waitFor(long millis) throws InterruptedException {
        if (!process.waitFor(millis, TimeUnit.MILLISECONDS)) {
            return -1;
        }
        outReader.join(2000);
        errReader.join(2000);
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
