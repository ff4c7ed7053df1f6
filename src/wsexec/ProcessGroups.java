package wsexec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Whether jobs get process groups of their own. */
    static boolean enabled() {
        return SETSID != null && KILL != null;
    }

    /** Prefixes a command so that it starts as a group leader. */
    static List<String> leader(List<String> command) {
        if (!enabled()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(command.size() + 1);
        wrapped.add(SETSID);
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Sends a signal to the job: to its whole process group where it has one.
     * Blocks while {@code kill} runs (a few milliseconds): call it on a platform thread.
     *
     * @return whether any process received it
     */
    static boolean signal(Process process, JobSignal signal) {
        if (enabled()) {
            try {
                Process kill = new ProcessBuilder(KILL, "-s", signal.name(), "--", "-" + process.pid())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                if (kill.waitFor(5, TimeUnit.SECONDS)) {
                    return kill.exitValue() == 0;
                }
                kill.destroyForcibly();
            } catch (IOException e) {
                Log.error("cannot run " + KILL + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
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

    private static String firstExecutable(String... paths) {
        for (String p : paths) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }
}
