package wsexec.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's limit on open file descriptors ({@code ulimit -n}), which bounds how many
 * connections a server can hold: each is a socket, each running job three pipes more.
 */
public final class OpenFiles {
    /** Descriptors a server uses besides its connections: the JVM's jars and libraries, the listening socket, logs. */
    static final int RESERVE = 64;

    private OpenFiles() {
    }

    /** The soft limit from /proc/self/limits ("Max open files  SOFT  HARD  files"); -1 when unknown or unlimited. */
    public static long softLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] words = line.substring("Max open files".length()).trim().split("\\s+");
                    return words[0].equals("unlimited") ? -1 : Long.parseLong(words[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1; // not Linux, or no /proc: nothing to say
        }
        return -1;
    }

    /**
     * One line telling the operator that {@code --max-connections} cannot be reached under this
     * limit, or null when it can (or the limit is unknown).
     */
    public static String tooLowFor(int maxConnections, long softLimit) {
        if (softLimit < 0 || maxConnections + RESERVE <= softLimit) {
            return null;
        }
        return "the open-files limit (ulimit -n) is " + softLimit + ", too low for --max-connections " + maxConnections
                + " (each connection needs one, each job three more): raise it to at least " + (maxConnections + RESERVE)
                + " (ulimit -n, LimitNOFILE= in a systemd unit; build/wsexec raises it to the hard limit), or lower --max-connections";
    }
}
