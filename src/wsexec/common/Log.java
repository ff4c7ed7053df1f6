package wsexec.common;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One line per event on stderr, with a timestamp: as text for people, or with
 * {@code --log-format json} as one JSON object per line for machines.
 *
 * <p>What goes in: connections opened and closed (with close codes), jobs started and exited
 * (with exit code and duration), refusals (with the reason), errors, and the frames and
 * handshake heads of {@code --trace}. What never goes in: the token (refusal messages and the
 * {@link Trace} redact it), and the output of commands. One exception, by design of
 * {@code --program} mode: the program's stderr lines are logged (unless {@code --pass-stderr}
 * sends them to the client), each as its own event, {@code program.stderr}, marked as such.
 *
 * <p>A text line is {@code TIME MESSAGE}; control characters in it are escaped, so a client's job
 * id or header cannot forge a second line. A JSON line is
 * {@code {"time":…,"level":…,"event":…,"msg":…, more fields}}.
 */
public final class Log {
    /**
     * How lines are written. {@code JOURNAL} is for a service whose stderr goes to journald (or any
     * syslog reader of sd-daemon(3) prefixes): no timestamp (the journal adds its own), the priority
     * as a {@code <N>} prefix: {@code <3>} errors, {@code <4>} refusals (a client was turned away),
     * {@code <6>} everything else, {@code <7>} {@code --trace} records.
     */
    public enum Format { TEXT, JSON, JOURNAL }

    private static volatile PrintStream out = System.err;
    private static volatile boolean quiet;
    private static volatile Format format = Format.TEXT;
    private static final ReentrantLock LOCK = new ReentrantLock();

    private Log() {
    }

    public static void to(PrintStream stream) {
        out = stream;
    }

    public static void quiet(boolean value) {
        quiet = value;
    }

    public static void format(Format value) {
        format = value;
    }

    public static Format format() {
        return format;
    }

    public static void info(String message) {
        if (!quiet) {
            write("info", null, message, new Object[0]);
        }
    }

    public static void error(String message) {
        write("error", null, message, new Object[0]);
    }

    /**
     * An event: a name for machines ({@code job.exited}), a sentence for people, and fields
     * given as name, value, name, value… (values: strings, numbers, booleans). The text format
     * prints the sentence; the JSON format prints the name, the sentence and every field.
     */
    public static void event(String name, String message, Object... fields) {
        if (!quiet) {
            write("info", name, message, fields);
        }
    }

    /**
     * A {@code --trace} record, printed whether or not the log is quiet (the user asked for it).
     * Text: the first line after the time, the others below it as they are (each escaped). JSON:
     * one object whose {@code msg} holds the lines joined with newlines.
     */
    public static void trace(String name, List<String> lines, Object... fields) {
        if (format == Format.JSON) {
            write("trace", name, String.join("\n", lines), fields);
            return;
        }
        if (format == Format.JOURNAL) {
            // one journal entry per record: its lines joined, escaped like any message
            write("trace", name, String.join(" | ", lines), fields);
            return;
        }
        LOCK.lock(); // the time is taken under the lock, so that lines appear in the order of their times
        try {
            StringBuilder text = new StringBuilder(Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
            for (int i = 0; i < lines.size(); i++) {
                text.append(i == 0 ? " " : System.lineSeparator()).append(printable(lines.get(i)));
            }
            out.println(text);
        } finally {
            LOCK.unlock();
        }
    }

    private static void write(String level, String event, String message, Object[] fields) {
        LOCK.lock(); // the time is taken under the lock, so that lines appear in the order of their times
        try {
            writeLocked(level, event, message, fields);
        } finally {
            LOCK.unlock();
        }
    }

    private static void writeLocked(String level, String event, String message, Object[] fields) {
        String time = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        String line;
        if (format == Format.JSON) {
            Json.ObjectWriter json = Json.object().field("time", time).field("level", level);
            if (event != null) {
                json.field("event", event);
            }
            json.field("msg", message);
            for (int i = 0; i + 1 < fields.length; i += 2) {
                Object value = fields[i + 1];
                String key = (String) fields[i];
                switch (value) {
                    case null -> json.field(key, (String) null);
                    case Long n -> json.field(key, n.longValue());
                    case Integer n -> json.field(key, n.longValue());
                    case Boolean b -> json.field(key, b.booleanValue());
                    default -> json.field(key, value.toString());
                }
            }
            line = json.toString();
        } else if (format == Format.JOURNAL) {
            line = journalPriority(level, event) + printable(message);
        } else {
            line = time + ("error".equals(level) ? " ERROR " : " ") + printable(message);
        }
        out.println(line);
    }

    /** sd-daemon(3) priority prefixes: syslog's err, warning, info, debug. */
    static String journalPriority(String level, String event) {
        if ("error".equals(level)) {
            return "<3>";
        }
        if ("trace".equals(level)) {
            return "<7>";
        }
        if (event != null && (event.endsWith(".refused") || event.endsWith(".forbidden"))) {
            return "<4>";
        }
        return "<6>";
    }

    /** Escapes control characters as \\n, \\r, \\t or \\u00XX, so that one event stays one line. */
    public static String printable(String text) {
        int i = 0;
        while (i < text.length() && !Character.isISOControl(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 16).append(text, 0, i);
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
