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
 */
public record RunOptions(URI url, boolean json, boolean pty, String cwd, Map<String, String> env, Duration connectTimeout,
           Duration killAfter, List<String> command, String token, Path tokenFile, Path cacert) {
}
