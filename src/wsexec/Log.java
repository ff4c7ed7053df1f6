package wsexec;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One line per event on stderr, with a timestamp. Never logs tokens or the
 * output of commands.
 */
final class Log {
    private static volatile PrintStream out = System.err;
    private static volatile boolean quiet;

    private Log() {
    }

    static void to(PrintStream stream) {
        out = stream;
    }

    static void quiet(boolean value) {
        quiet = value;
    }

    static void info(String message) {
        if (!quiet) {
            out.println(Instant.now().truncatedTo(ChronoUnit.MILLIS) + " " + message);
        }
    }

    static void error(String message) {
        out.println(Instant.now().truncatedTo(ChronoUnit.MILLIS) + " ERROR " + message);
    }
}
