package wsexec.client;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The options of {@code wsexec run}.
 *
 * @param token     from {@code --token}, or null
 * @param tokenFile from {@code --token-file}, or null
 * @param killAfter after Ctrl-C has sent INT to the job, how long to wait for it to end before sending KILL
 * @param cacert    the certificate to trust for wss:// ({@code --cacert}), or null for the JDK's CAs
 * @param mode      run a command, attach to a kept job, or list kept jobs
 * @param keep      {@code --keep}: keep the job this long when the connection drops, and reconnect; null for no
 * @param detach    {@code --detach}: start the job kept, print its id, exit
 * @param job       the kept job to attach to ({@link Mode#ATTACH})
 * @param from      {@code "start"} or {@code "now"} ({@link Mode#ATTACH})
 * @param readOnly  attach as a read-only viewer
 * @param multi     {@code --on}: several hosts at once; null for one
 */
public record RunOptions(URI url, boolean json, boolean pty, String cwd, Map<String, String> env, Duration connectTimeout,
           Duration killAfter, List<String> command, String token, Path tokenFile, Path cacert,
           Mode mode, Duration keep, boolean detach, String job, String from, boolean readOnly, Multi multi) {

    /**
     * {@code run --on}: the same command on several hosts at once.
     *
     * @param hosts       instance names behind the one {@code --url} (a gateway); empty for all of them
     *                    ({@code GET instances} on the gateway); null when {@code urls} are the hosts
     * @param urls        several {@code --url}s, one per host (when {@code hosts} is null)
     * @param noPrefix    lines without the {@code NAME: } prefix
     * @param maxParallel hosts connected at once, at most
     */
    public record Multi(List<String> hosts, List<URI> urls, boolean noPrefix, int maxParallel) {
        public static final int DEFAULT_MAX_PARALLEL = 64;
    }

    /** {@code --keep} without a time. */
    public static final Duration DEFAULT_KEEP = Duration.ofHours(1);

    /** What the client does once connected. */
    public enum Mode {
        /** {@code run}: start a job and follow it. */
        RUN,
        /** {@code attach JOB}: follow a kept job. */
        ATTACH,
        /** {@code jobs}: list the kept jobs. */
        JOBS
    }

    /** {@code run} as before kept jobs: no keep, no detach. */
    public RunOptions(URI url, boolean json, boolean pty, String cwd, Map<String, String> env, Duration connectTimeout,
                      Duration killAfter, List<String> command, String token, Path tokenFile, Path cacert) {
        this(url, json, pty, cwd, env, connectTimeout, killAfter, command, token, tokenFile, cacert, Mode.RUN, null, false, null, "start", false, null);
    }

    /** The same run on one host of a {@code --on}: its URL, no stdin, no multi. */
    RunOptions forHost(URI hostUrl) {
        return new RunOptions(hostUrl, json, false, cwd, env, connectTimeout, killAfter, command, token, tokenFile, cacert,
                Mode.RUN, null, false, null, "start", false, null);
    }
}
