package wsexec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Every job runs as the leader of a new session and process group
 * ({@code setsid}, util-linux), so that one signal to the group reaches the
 * shell and everything it started, even children that the shell has already
 * left behind. The JDK can only signal single processes, so group signals go
 * through {@code kill -s SIG -- -PGID}. Where {@code setsid} is missing the job
 * is signalled through the process and its living descendants instead.
 */
final class ProcessGroups {
    private ProcessGroups() {
    }

    static final String SETSID = firstExecutable("/usr/bin/setsid", "/bin/setsid");
    static final String KILL = firstExecutable("/usr/bin/kill", "/bin/kill");
    static final String STDBUF = firstExecutable("/usr/bin/stdbuf", "/bin/stdbuf");
    static final String SCRIPT = firstExecutable("/usr/bin/script", "/bin/script");

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
    static boolean enabled() {
        return SETSID != null && KILL != null;
    }

    /** Prefixes a command so that it starts as a group leader. */
    static List<String> leader(List<String> command) {
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
    static boolean signal(Process process, Collection<Long> groups, JobSignal signal) {
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
    static boolean signalGroups(Collection<Long> groups, JobSignal signal) {
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
    static boolean signal(Process process, JobSignal signal) {
        return signal(process, List.of(process.pid()), signal);
    }

    /**
     * The process groups other than the job's own that its living descendants are in:
     * under a pseudo-terminal, {@code script} starts the command in a session of its own.
     */
    static Set<Long> innerGroups(Process process) {
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
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
            String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            return Long.parseLong(statFields(stat)[2]) == pid && !WRAPPERS.contains(comm);
        } catch (IOException | RuntimeException e) {
            return true; // gone: nothing to wait for
        }
    }

    /** The process group of a process, from /proc; -1 if it is gone. */
    static long groupOf(long pid) {
        try {
            String[] fields = statFields(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1));
            return Long.parseLong(fields[2]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** proc(5) "pid (comm) state ppid pgrp ...": the fields after comm, which may hold spaces and parentheses. */
    private static String[] statFields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ", 4);
    }

    /**
     * Those of the given process groups that still have a living member. Reads /proc instead
     * of starting {@code kill}: a job that leaves nothing behind — nearly all of them — then
     * costs no extra process. Where /proc cannot be read, assumes all of them do.
     */
    static Set<Long> withMembers(Collection<Long> groups) {
        Set<String> wanted = new HashSet<>();
        groups.forEach(g -> wanted.add(Long.toString(g)));
        Set<Long> found = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                String[] fields;
                try {
                    fields = statFields(Files.readString(entry.resolve("stat"), StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    continue; // it exited while we looked
                }
                if (fields.length > 2 && wanted.contains(fields[2]) && !fields[0].equals("Z")) {
                    found.add(Long.parseLong(fields[2]));
                }
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return new TreeSet<>(groups);
        }
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
