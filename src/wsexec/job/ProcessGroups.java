package wsexec.job;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import wsexec.common.Log;

/**
 * Every job runs as the leader of a new session and process group
 * ({@code setsid}, util-linux), so that one signal to the group reaches the
 * shell and everything it started, even children that the shell has already
 * left behind. The JDK can only signal single processes, so group signals go
 * through {@code kill -s SIG -- -PGID}. Where {@code setsid} is missing the job
 * is signalled through the process and its living descendants instead.
 */
public final class ProcessGroups {
    private ProcessGroups() {
    }

    static final String SETSID = firstExecutable("/usr/bin/setsid", "/bin/setsid");
    static final String KILL = firstExecutable("/usr/bin/kill", "/bin/kill");
    static final String STDBUF = firstExecutable("/usr/bin/stdbuf", "/bin/stdbuf");
    public static final String SCRIPT = firstExecutable("/usr/bin/script", "/bin/script");

    private static final Path PROC = Path.of("/proc");
    static final String ENV = firstExecutable("/usr/bin/env", "/bin/env");

    /**
     * Signals a child would inherit as ignored (a server started with {@code &} from a script
     * ignores INT and QUIT; under {@code nohup}, HUP). A job must die of INT like a program
     * started from a terminal, so these are reset to their defaults with coreutils
     * {@code env --default-signal}; null when nothing needs resetting.
     */
    static final String RESET_SIGNALS = signalsToReset();

    /** Whether jobs get process groups of their own. */
    public static boolean enabled() {
        return SETSID != null && KILL != null;
    }

    /** Prefixes a command so that it starts as a group leader. */
    public static List<String> leader(List<String> command) {
        if (!enabled()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(command.size() + 3);
        wrapped.add(SETSID);
        if (RESET_SIGNALS != null) {
            wrapped.add(ENV);
            wrapped.add("--default-signal=" + RESET_SIGNALS);
        }
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Sends a signal to the job: to each of the given process groups where jobs have
     * groups, else to the process and its living descendants.
     * Blocks while {@code kill} runs (a few milliseconds): call it on a platform thread.
     *
     * @return whether any process received it
     */
    public static boolean signal(Process process, Collection<Long> groups, JobSignal signal) {
        if (enabled()) {
            awaitGroupLeader(process);
            return signalGroups(groups, signal);
        }
        // No groups: reach what we can see. TERM and KILL have JDK calls; other signals do not.
        List<ProcessHandle> targets = new ArrayList<>(process.descendants().toList());
        targets.add(process.toHandle());
        for (ProcessHandle target : targets) {
            boolean sent = signal == JobSignal.KILL ? target.destroyForcibly() : target.destroy();
            if (!sent) {
                Log.info("cannot send " + signal + " to " + target.pid() + " without process groups");
            }
        }
        return true;
    }

    /**
     * Sends a signal to process groups with one {@code kill -s SIG -- -PGID...}; only where
     * {@link #enabled()}. Blocks while {@code kill} runs: call it on a platform thread.
     *
     * @return whether any process received it
     */
    public static boolean signalGroups(Collection<Long> groups, JobSignal signal) {
        List<String> command = new ArrayList<>(List.of(KILL, "-s", signal.name(), "--"));
        for (long group : groups) {
            command.add("-" + group);
        }
        try {
            Process kill = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (kill.waitFor(5, TimeUnit.SECONDS)) {
                // kill(1) exits 0 only if every group got it; one living group is enough here
                return kill.exitValue() == 0 || groups.size() > 1;
            }
            kill.destroyForcibly();
        } catch (IOException e) {
            Log.error("cannot run " + KILL + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** The job's own group: the one its first process leads. */
    public static boolean signal(Process process, JobSignal signal) {
        return signal(process, List.of(process.pid()), signal);
    }

    /**
     * The process groups other than the job's own that its living descendants are in:
     * under a pseudo-terminal, {@code script} starts the command in a session of its own.
     */
    public static Set<Long> innerGroups(Process process) {
        Set<Long> groups = new TreeSet<>();
        process.descendants().forEach(child -> {
            long group = groupOf(child.pid());
            if (group > 0 && group != process.pid()) {
                groups.add(group);
            }
        });
        return groups;
    }

    /**
     * A job is reported started when {@code ProcessBuilder.start} returns, which can be before its
     * first process has run {@code setsid()} (its group does not exist yet) or while it is still
     * one of our wrappers: {@code env --default-signal} has not yet undone the signals a server
     * started in the background ignores. A signal sent then (a client's INT right after
     * {@code started}) would be lost. So wait, briefly, until the process leads its group and runs
     * the job's own program, or is gone.
     */
    private static void awaitGroupLeader(Process process) {
        // Milliseconds normally; seconds only when the machine is so loaded that the job's first
        // execs wait for a CPU (seen at a load average of 6 on 2 cores, where 1 s was not enough).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (process.isAlive() && !runsJob(process.pid()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Programs a job passes through before its own: the JDK's launcher helper and our wrappers. */
    private static final Set<String> WRAPPERS = Set.of("jspawnhelper", "java", "setsid", "env", "stdbuf");

    private static boolean runsJob(long pid) {
        Stat stat = Stat.read(pid);
        return stat == null || (stat.group() == pid && !WRAPPERS.contains(stat.comm())); // gone: nothing to wait for
    }

    /** The process group of a process, from /proc; -1 if it is gone. */
    public static long groupOf(long pid) {
        Stat stat = Stat.read(pid);
        return stat == null ? -1 : stat.group();
    }

    /**
     * What cleaning up needs of {@code /proc/PID/stat} (proc(5): "pid (comm) state ppid pgrp ..."):
     * the command name, the state and the process group. Read as bytes into a small buffer and
     * parsed in place: the sweep reads one per process on the machine after every finished job,
     * and going through {@code Files.readString} and {@code String.split} took twice the CPU.
     */
    public record Stat(String comm, char state, long group) {
        /** Longer than any stat line: 52 numbers of at most 20 digits, and a comm of at most 64 bytes. */
        private static final int MOST = 1280;

        /** The stat of a process, or null if it is gone (or its line cannot be read). */
        static Stat read(long pid) {
            byte[] line = new byte[MOST];
            int length;
            try (FileInputStream in = new FileInputStream("/proc/" + pid + "/stat")) {
                length = in.readNBytes(line, 0, line.length);
            } catch (IOException e) {
                return null;
            }
            return parse(line, length);
        }

        /** Parses a stat line; null if it is not one. */
        static Stat parse(byte[] line, int length) {
            // comm may hold spaces and parentheses: it runs from the first '(' to the last ')'
            int open = -1;
            int close = -1;
            for (int i = 0; i < length; i++) {
                if (line[i] == '(' && open < 0) {
                    open = i;
                } else if (line[i] == ')') {
                    close = i;
                }
            }
            // then " S ppid pgrp ": the state is one byte, ppid and pgrp are decimal
            int at = close + 2;
            if (open < 0 || at + 1 >= length) {
                return null;
            }
            char state = (char) line[at];
            at += 2;
            while (at < length && line[at] != ' ') {
                at++; // ppid
            }
            long group = 0;
            int digits = 0;
            for (at++; at < length && line[at] >= '0' && line[at] <= '9'; at++, digits++) {
                group = group * 10 + (line[at] - '0');
            }
            if (digits == 0) {
                return null;
            }
            return new Stat(new String(line, open + 1, close - open - 1, StandardCharsets.ISO_8859_1), state, group);
        }
    }

    /**
     * Those of the given process groups that still have a living member. Reads /proc instead
     * of starting {@code kill}: a job that leaves nothing behind — nearly all of them — then
     * costs no extra process. Where /proc cannot be read, assumes all of them do.
     */
    public static Set<Long> withMembers(Collection<Long> groups) {
        String[] entries = PROC.toFile().list();
        if (entries == null) {
            return new TreeSet<>(groups);
        }
        Set<Long> found = new TreeSet<>();
        for (String name : entries) {
            if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                continue;
            }
            Stat stat = Stat.read(Long.parseLong(name));
            if (stat != null && stat.state() != 'Z' && groups.contains(stat.group())) {
                found.add(stat.group());
            }
        }
        return found;
    }

    /** The names of HUP, INT, QUIT, PIPE and TERM that this process ignores, comma-separated, or null. */
    private static String signalsToReset() {
        if (ENV == null) {
            return null;
        }
        long ignored;
        try {
            ignored = Files.readAllLines(PROC.resolve("self/status")).stream()
                    .filter(line -> line.startsWith("SigIgn:"))
                    .mapToLong(line -> Long.parseUnsignedLong(line.substring(7).strip(), 16))
                    .findFirst().orElse(0);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        StringBuilder names = new StringBuilder();
        String[] candidates = {"HUP", "INT", "QUIT", "PIPE", "TERM"};
        int[] numbers = {1, 2, 3, 13, 15};
        for (int i = 0; i < numbers.length; i++) {
            if ((ignored & (1L << (numbers[i] - 1))) != 0) {
                names.append(names.isEmpty() ? "" : ",").append(candidates[i]);
            }
        }
        if (names.isEmpty()) {
            return null;
        }
        // --default-signal is coreutils 8.31 or newer: use it only where env accepts it.
        try {
            Process probe = new ProcessBuilder(ENV, "--default-signal=" + names, "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (probe.waitFor(5, TimeUnit.SECONDS) && probe.exitValue() == 0) {
                return names.toString();
            }
            probe.destroyForcibly();
        } catch (IOException e) {
            // no usable env
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Log.info("jobs will inherit ignored signals " + names + " (env --default-signal is not available)");
        return null;
    }

    private static String firstExecutable(String... paths) {
        for (String p : paths) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }
}
