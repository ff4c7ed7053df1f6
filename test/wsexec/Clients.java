package wsexec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs the real {@code wsexec run} client in-process and records what it printed, and when. */
final class Clients {
    private Clients() {
    }

    /** One write the client made to its stdout or stderr. */
    record Write(long nanos, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** Everything a finished client run printed. */
    record Result(int status, byte[] stdout, byte[] stderr, List<Write> stdoutWrites) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }
    }

    /** An output stream that remembers each write with its arrival time. */
    static final class Recorder extends OutputStream {
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

    static Result run(String url, String... command) {
        return runWithInput(url, new byte[0], command);
    }

    static Result runWithInput(String url, byte[] stdin, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--url", url, "--"));
        args.addAll(List.of(command));
        return main(stdin, args.toArray(String[]::new));
    }

    static Result main(byte[] stdin, String... args) {
        Recorder out = new Recorder();
        Recorder err = new Recorder();
        int status = Main.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true), new PrintStream(err, true));
        return new Result(status, out.all.toByteArray(), err.all.toByteArray(), List.copyOf(out.writes));
    }
}
