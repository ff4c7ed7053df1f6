package wsexec;

import java.util.ArrayList;
import java.util.List;

/** Turns a job's command line into what is really started. */
final class Commands {
    private Commands() {
    }

    /**
     * Wraps a command: under a pseudo-terminal ({@code script}) when asked, and
     * with {@code stdbuf -oL -eL} when children should flush every line.
     */
    static List<String> prepare(List<String> line, boolean pty, boolean lineBuffered) {
        List<String> command = new ArrayList<>();
        if (lineBuffered && ProcessGroups.STDBUF != null && !pty) {
            command.add(ProcessGroups.STDBUF);
            command.add("-oL");
            command.add("-eL");
        }
        if (pty && ProcessGroups.SCRIPT != null) {
            // util-linux script: -q quiet, -f flush at once, -e pass the exit code on, -c the command;
            // the typescript goes to /dev/null. stdout and stderr become one stream (the terminal).
            command.add(ProcessGroups.SCRIPT);
            command.add("-qfec");
            command.add(shellQuote(line));
            command.add("/dev/null");
            return command;
        }
        command.addAll(line);
        return command;
    }

    /** Joins words into one shell command line, each single-quoted. */
    static String shellQuote(List<String> words) {
        StringBuilder out = new StringBuilder();
        for (String word : words) {
            if (!out.isEmpty()) {
                out.append(' ');
            }
            out.append('\'').append(word.replace("'", "'\\''")).append('\'');
        }
        return out.toString();
    }
}
