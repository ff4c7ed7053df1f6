package wsexec.client;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** {@code wsexec jobs}: the server's answer to {@code {"type":"jobs"}} as a table, one line per kept job. */
final class JobsTable {
    private JobsTable() {
    }

    /** {@code wsexec jobs}: one line per kept job. */
    static void print(PrintStream out, Object jobs) {
        if (!(jobs instanceof List<?> list) || list.isEmpty()) {
            out.println("no kept jobs");
            out.flush();
            return;
        }
        out.printf("%-34s  %-8s  %5s  %7s  %12s  %s%n", "JOB", "STATE", "CODE", "VIEWERS", "STDOUT", "COMMAND");
        for (Object o : list) {
            if (o instanceof Map<?, ?> j) {
                Object bytes = j.get("bytes") instanceof Map<?, ?> b ? b.get("stdout") : "";
                out.printf("%-34s  %-8s  %5s  %7s  %12s  %s%n", j.get("job"), j.get("state"),
                        j.get("code") == null ? "-" : j.get("code"), j.get("viewers"), bytes, j.get("command"));
            }
        }
        out.flush();
    }
}
