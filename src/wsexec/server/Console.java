package wsexec.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import wsexec.websocket.Handshake;
import wsexec.websocket.HandshakeException;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.WebSocket;

/**
 * The browser console: {@code GET /} of {@code serve} answers with {@code console.html}, one page
 * with its CSS and JS inside, read from the jar. The page takes the token from its own URL and
 * opens a WebSocket back to the server with it.
 *
 * <p>The page itself is served without the token to any client that names the server in
 * {@code Host} (the Host check still applies, against DNS rebinding): it is the same static file
 * for everyone and holds no secret; what it can do is gated by the WebSocket, which needs the token.
 *
 * <p>A Content-Security-Policy lets the page run only its own inline script and style (by their
 * SHA-256 hashes), connect only to its own origin, load nothing from elsewhere, and not be framed.
 * The page already inserts server text as text only; the policy is the second lock on that door.
 */
final class Console {
    private static final byte[] PAGE = load();
    private static final Map<String, String> HEADERS = headers(new String(PAGE, StandardCharsets.UTF_8));

    private Console() {
    }

    /** The answer to a plain HTTP request on the exec server: the page at {@code /}, 404 elsewhere. */
    static byte[] answer(HttpRequest request) {
        if (!request.path().equals("/") && !request.path().equals("/index.html")) {
            return Handshake.errorResponse(new HandshakeException(404, "not found: the console is at /, "
                    + "health at /healthz, metrics at /metrics (under --base-path when there is one); "
                    + "WebSocket clients connect to any path"));
        }
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return Handshake.errorResponse(new HandshakeException(405, "only GET", Map.of("Allow", "GET, HEAD")));
        }
        byte[] response = Handshake.response(200, "text/html; charset=utf-8", PAGE, HEADERS);
        if (request.method().equals("HEAD")) {
            String text = new String(response, StandardCharsets.ISO_8859_1);
            return text.substring(0, text.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.ISO_8859_1);
        }
        return response;
    }

    static byte[] page() {
        return PAGE.clone();
    }

    private static byte[] load() {
        try (InputStream in = Console.class.getResourceAsStream("console.html")) {
            if (in == null) {
                throw new IllegalStateException("console.html is missing from the jar (build with ./build.sh)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> headers(String page) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Security-Policy", "default-src 'none'; script-src " + hashes(page, "script")
                + "; style-src " + hashes(page, "style") + "; connect-src 'self'; img-src data:; base-uri 'none'; "
                + "form-action 'none'; frame-ancestors 'none'");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Referrer-Policy", "no-referrer"); // the page's URL holds the token
        headers.put("Cache-Control", "no-store");
        return headers;
    }

    /** CSP source expressions ('sha256-…') for every inline element of a kind. */
    private static String hashes(String page, String element) {
        Matcher m = Pattern.compile("<" + element + ">(.*?)</" + element + ">", Pattern.DOTALL).matcher(page);
        StringBuilder sources = new StringBuilder();
        while (m.find()) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(m.group(1).getBytes(StandardCharsets.UTF_8));
                sources.append(sources.isEmpty() ? "" : " ").append("'sha256-").append(Base64.getEncoder().encodeToString(digest)).append('\'');
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java platform has SHA-256", e);
            }
        }
        return sources.isEmpty() ? "'none'" : sources.toString();
    }
}
