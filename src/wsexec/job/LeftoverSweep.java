package wsexec.job;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends what finished jobs left running in their process groups (a background child the shell did
 * not wait for): TERM, then KILL after the grace.
 *
 * <p>Finding a group's members means reading every {@code /proc/PID/stat} — milliseconds, and more
 * the more processes run. Doing that once per finished job made job starts slow exactly when many
 * jobs run at once; so finished jobs' groups are collected and looked for together, in one pass
 * over {@code /proc} every {@link #INTERVAL}, on the timer thread. The set holds each finished
 * job's groups until the next pass: it is bounded by the jobs that end within one interval.
 */
final class LeftoverSweep {
    static final Duration INTERVAL = Duration.ofMillis(200);

    /** Group to the kill grace of the job that owned it. */
    private static final ConcurrentHashMap<Long, Duration> PENDING = new ConcurrentHashMap<>();
    private static final AtomicBoolean SCHEDULED = new AtomicBoolean();

    private LeftoverSweep() {
    }

    /** Looks for members of these groups at the next pass. */
    static void check(Collection<Long> groups, Duration killGrace) {
        if (!ProcessGroups.enabled() || groups.isEmpty()) {
            return;
        }
        for (long group : groups) {
            PENDING.put(group, killGrace);
        }
        if (SCHEDULED.compareAndSet(false, true)) {
            Timers.afterBlocking(INTERVAL.toMillis(), "leftover-sweep", LeftoverSweep::sweep);
        }
    }

    private static void sweep() {
        SCHEDULED.set(false);
        Set<Long> groups = new HashSet<>();
        Duration grace = Duration.ZERO;
        for (Iterator<java.util.Map.Entry<Long, Duration>> it = PENDING.entrySet().iterator(); it.hasNext(); ) {
            java.util.Map.Entry<Long, Duration> entry = it.next();
            groups.add(entry.getKey());
            grace = entry.getValue().compareTo(grace) > 0 ? entry.getValue() : grace;
            it.remove();
        }
        if (groups.isEmpty()) {
            return;
        }
        Set<Long> left = ProcessGroups.withMembers(groups);
        if (left.isEmpty() || !ProcessGroups.signalGroups(left, JobSignal.TERM)) {
            return;
        }
        Timers.afterBlocking(grace.toMillis(), "leftover-kill", () -> {
            Set<Long> still = ProcessGroups.withMembers(left);
            if (!still.isEmpty()) {
                ProcessGroups.signalGroups(still, JobSignal.KILL);
            }
        });
    }
}
