package wsexec.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import wsexec.common.AccessToken;
import wsexec.common.Urls;

/** Which token {@code run} presents, and where it found it. */
final class Tokens {
    private Tokens() {
    }

    /**
     * The token to present, first found of: {@code --token}, {@code --token-file},
     * {@code $WSEXEC_TOKEN}. None when the URL carries one itself. Otherwise, for a server on this
     * machine (a loopback host), the one it wrote for its port; a remote host gets none unasked.
     */
    static String token(RunOptions options, Map<String, String> environment) throws IOException {
        if (options.token() != null) {
            return options.token();
        }
        if (options.tokenFile() != null) {
            try {
                return AccessToken.read(options.tokenFile());
            } catch (IOException e) {
                throw new IOException("cannot use --token-file: " + e.getMessage(), e);
            }
        }
        String fromEnvironment = environment.get("WSEXEC_TOKEN");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.strip();
        }
        java.net.URI url = options.url();
        if (url.getRawQuery() != null && Urls.queryParameter(url.getRawQuery(), "token") != null) {
            return null;
        }
        String host = url.getHost();
        java.net.InetAddress literal = Urls.ipLiteral(host);
        boolean local = host.equalsIgnoreCase("localhost") || (literal != null && literal.isLoopbackAddress());
        if (!local) {
            return null;
        }
        int port = url.getPort() != -1 ? url.getPort() : url.getScheme().equalsIgnoreCase("wss") ? 443 : 80;
        Path file = AccessToken.fileFor(environment, port);
        if (!Files.isReadable(file)) {
            return null;
        }
        try {
            return AccessToken.read(file);
        } catch (IOException e) {
            return null; // not a token file we wrote; connect without, and let the server say 401
        }
    }
}
