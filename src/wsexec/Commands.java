package wsexec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns a job's command line into what is really started. */
final class Commands {
    private Commands() {
    }

    /**
     * coreutils' stdbuf works by preloading this library, which reads {@code _STDBUF_O} and
     * {@code _STDBUF_E} and sets the C streams' buffering before {@code main}. Setting those
     * variables ourselves has the same effect and saves starting {@code stdbuf} for every job
     * (an exec costs about 4 ms on the machines we measure on).
     */
    static final String STDBUF_LIBRARY = firstFile("/usr/libexec/coreutils/libstdbuf.so", "/usr/lib/coreutils/libstdbuf.so");

    /**
     * The environment that makes children flush every line: what {@code stdbuf -oL -eL} sets
     * (when its library is found; otherwise {@link #prepare} starts {@code stdbuf} itself) and
     * Python's own switch.
     *
     * @param preload the {@code LD_PRELOAD} the job would otherwise have, or null
     */
    static Map<String, String> lineBufferedEnvironment(String preload) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PYTHONUNBUFFERED", "1");
        if (STDBUF_LIBRARY != null) {
            env.put("LD_PRELOAD", preload == null || preload.isEmpty() ? STDBUF_LIBRARY : preload + ":" + STDBUF_LIBRARY);
            env.put("_STDBUF_O", "L");
            env.put("_STDBUF_E", "L");
        }
        return env;
    }

    /**
     * Wraps a command: under a pseudo-terminal ({@code script}) when asked, and
     * with {@code stdbuf -oL -eL} when children should flush every line and the
     * environment of {@link #lineBufferedEnvironment} cannot do it.
     */
    static List<String> prepare(List<String> line, boolean pty, boolean lineBuffered) {
        List<String> command = new ArrayList<>();
        if (lineBuffered && STDBUF_LIBRARY == null && ProcessGroups.STDBUF != null && !pty) {
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

    private static String firstFile(String... paths) {
        for (String p : paths) {
            if (Files.isRegularFile(Path.of(p))) {
                return p;
            }
        }
        return null;
    }
}
