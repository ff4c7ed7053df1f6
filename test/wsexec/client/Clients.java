package wsexec.client;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import wsexec.Main;

/** Runs the real {@code wsexec run} client in-process and records what it printed, and when. */
public final class Clients {
    private Clients() {
    }

    /** One write the client made to its stdout or stderr. */
    public record Write(long nanos, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** Everything a finished client run printed. */
    public record Result(int status, byte[] stdout, byte[] stderr, List<Write> stdoutWrites) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }
    }

    /** An output stream that remembers each write with its arrival time. */
    public static final class Recorder extends OutputStream {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        final List<Write> writes = new ArrayList<>();

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            all.write(b, off, len);
            writes.add(new Write(System.nanoTime(), java.util.Arrays.copyOfRange(b, off, off + len)));
        }
    }

    public static Result run(String url, String... command) {
        return runWithInput(url, new byte[0], command);
    }

    public static Result runWithInput(String url, byte[] stdin, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--url", url, "--"));
        args.addAll(List.of(command));
        return main(stdin, args.toArray(String[]::new));
    }

    public static Result main(byte[] stdin, String... args) {
        Recorder out = new Recorder();
        Recorder err = new Recorder();
        int status = Main.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true), new PrintStream(err, true));
        return new Result(status, out.all.toByteArray(), err.all.toByteArray(), List.copyOf(out.writes));
    }
}
