package wsexec.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns a job's command line into what is really started. */
public final class Commands {
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
    public static Map<String, String> lineBufferedEnvironment(String preload) {
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
    public static List<String> prepare(List<String> line, boolean pty, boolean lineBuffered) {
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

    /**
     * Shell words and builtins that mean something different, or nothing, as a program of their own:
     * a command starting with one of these always goes to the shell.
     */
    private static final java.util.Set<String> SHELL_ONLY = java.util.Set.of(
            "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
            ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift",
            "times", "trap", "unset", "cd", "alias", "unalias", "bg", "fg", "jobs", "read", "umask", "wait",
            "command", "getopts", "hash", "type", "ulimit", "local", "source", "function", "select", "time");

    /**
     * A shell command that the shell would only split into words and run: {@code /bin/sh -c "seq 1 10"}
     * becomes {@code /usr/bin/seq 1 10}, saving a {@code sh} process per job (an exec costs
     * milliseconds; W1 and W4 of the benchmark start one per job). Only text made of plain words
     * qualifies: letters, digits, {@code - _ . / : = + , @ % ^}, spaces and tabs — no quoting,
     * expansion, globbing, redirection, assignment or control operator of any kind — whose first
     * word is a program found on the server's {@code PATH} (or an absolute path) and not a shell
     * keyword or builtin. Anything else, and any name not found (so that the shell prints its own
     * error and exits 127), is returned unchanged.
     *
     * @param line {@code /bin/sh -c TEXT}, or an argv (returned unchanged)
     */
    public static List<String> withoutShell(List<String> line) {
        if (line.size() != 3 || !line.get(0).equals("/bin/sh") || !line.get(1).equals("-c")) {
            return line;
        }
        String text = line.get(2);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == ' ' || c == '\t' || "-_./:=+,@%^".indexOf(c) >= 0;
            if (!plain) {
                return line;
            }
        }
        List<String> words = new ArrayList<>();
        for (String word : text.split("[ \t]+")) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        if (words.isEmpty() || words.get(0).contains("=") || SHELL_ONLY.contains(words.get(0))) {
            return line;
        }
        String program = onPath(words.get(0));
        if (program == null) {
            return line;
        }
        words.set(0, program);
        return words;
    }

    /** An absolute path to run {@code name} by, as the shell would find it; null if none or if it depends on the directory. */
    static String onPath(String name) {
        if (name.contains("/")) {
            return name.startsWith("/") && Files.isExecutable(Path.of(name)) && !Files.isDirectory(Path.of(name)) ? name : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(":", -1)) {
            if (!dir.startsWith("/")) {
                return null; // "." or an empty entry: the answer depends on the job's directory
            }
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return candidate.toString();
            }
        }
        return null;
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
