package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.TokenFileTest;
import wsexec.common.Log;
import wsexec.common.Tls;

/**
 * A real nginx (Debian's) in front of {@code serve --base-path /exec/ --trusted-proxy 127.0.0.1/32},
 * running the very site file docs/DEPLOY.md shows (deploy/nginx-wsexec.conf), over TLS: a big output
 * arrives whole, the exit code comes through, the log names the forwarded client, and nothing outside
 * /exec/ reaches wsexec. Skipped, with the reason, where nginx or openssl is not installed.
 */
@Timeout(180)
class NginxTest {
    static final Path NGINX = Path.of("/usr/sbin/nginx");
    static final Path SITE = Path.of("deploy/nginx-wsexec.conf");

    @TempDir
    Path dir;

    @Test
    void jobsStreamThroughNginxOnASubPathWithTheClientsAddress() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(NGINX), "nginx is not installed (" + NGINX + "); .ci/run installs it");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed (for the test certificate)");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process openssl = new ProcessBuilder("/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        String opensslOut = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(openssl.waitFor(30, TimeUnit.SECONDS) && openssl.exitValue() == 0, opensslOut);

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Server.Deployment deployment = new Server.Deployment("/exec/",
                new TrustedProxies(List.of(TrustedProxies.Cidr.parse("127.0.0.1/32"))));
        Process nginx = null;
        try (TestServer server = TestServer.exec(TestServer.serverConfig(TestServer.policy(null, List.of(), List.of(), null)),
                ExecEndpoint.Config.DEFAULTS, deployment)) {
            // after TestServer's class initialisation, which makes the log quiet
            Log.to(new PrintStream(log, true, StandardCharsets.UTF_8));
            Log.quiet(false);
            int port = freePort();
            Path config = writeConfig(port, server.port(), cert, key);
            nginx = new ProcessBuilder(NGINX.toString(), "-p", dir.toString(), "-c", config.toString(),
                    "-g", "daemon off; pid " + dir.resolve("nginx.pid") + ";")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
            awaitListening(port, nginx);

            // 100,000 lines through nginx and TLS, byte for byte, and the job's exit code
            Process run = TokenFileTest.wsexec(Map.of(), "run", "--url", "wss://127.0.0.1:" + port + "/exec/", "--cacert", cert.toString(),
                    "--", "seq 1 100000; exit 7").redirectError(dir.resolve("run.err").toFile()).start();
            run.getOutputStream().close();
            byte[] out = run.getInputStream().readAllBytes();
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "run did not end");
            StringBuilder expected = new StringBuilder();
            for (int i = 1; i <= 100_000; i++) {
                expected.append(i).append('\n');
            }
            assertEquals(sha256(expected.toString().getBytes(StandardCharsets.US_ASCII)), sha256(out),
                    "output differs; stderr: " + Files.readString(dir.resolve("run.err")));
            assertEquals(7, run.exitValue(), Files.readString(dir.resolve("run.err")));

            // nginx appends the address it saw to X-Forwarded-For; wsexec skips that trusted hop
            String head = request(port, cert, "GET /exec/ HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 203.0.113.77\r\n\r\n", true);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            awaitLogged(log, "connection 203.0.113.77 via 127.0.0.1:");
            awaitLogged(log, "connection 127.0.0.1 via 127.0.0.1:"); // the run client's connection, forwarded as itself

            // outside /exec/: nginx answers 404 itself; /exec/other is wsexec's own 404 for the prefix
            assertTrue(request(port, cert, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", false)
                    .startsWith("HTTP/1.1 404"));
            String health = request(port, cert, "GET /exec/healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n", false);
            assertTrue(health.startsWith("HTTP/1.1 200"), "this loopback client may read /healthz: " + health);
            String remote = request(port, cert, "GET /exec/healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nX-Forwarded-For: 203.0.113.78\r\nConnection: close\r\n\r\n", false);
            assertTrue(remote.startsWith("HTTP/1.1 401"), "a client nginx forwarded is not loopback, so no metrics without the token: " + remote);
            assertTrue(request(port, cert, "GET /exec/nothing HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n", false)
                    .startsWith("HTTP/1.1 404"));
            assertTrue(request(port, cert, "GET /exec/ HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n", false)
                    .contains("<html"), "the console under the prefix");
        } finally {
            Log.quiet(true);
            Log.to(System.err);
            if (nginx != null) {
                nginx.destroy(); // SIGTERM: nginx's fast shutdown
                if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                    nginx.destroyForcibly();
                }
                for (ProcessHandle worker : nginx.descendants().toList()) {
                    worker.destroyForcibly();
                }
            }
        }
        String logged = log.toString(StandardCharsets.UTF_8);
        assertFalse(logged.contains("ERROR"), logged);
    }

    @Test
    void theSiteFileIsTheOneDeployMdShows() throws IOException {
        String doc = Files.readString(Path.of("docs/DEPLOY.md"));
        String site = Files.readString(SITE);
        assertTrue(doc.contains("```nginx\n" + site + "```\n"), "docs/DEPLOY.md must include deploy/nginx-wsexec.conf verbatim");
    }

    /** The site file as the docs show it, with the test's ports and certificate, inside a minimal nginx.conf. */
    Path writeConfig(int listen, int upstream, Path cert, Path key) throws IOException {
        String site = Files.readString(SITE);
        site = replaceOnce(site, "listen 443 ssl;", "listen 127.0.0.1:" + listen + " ssl;");
        site = replaceOnce(site, "/etc/ssl/wsexec/fullchain.pem", cert.toString());
        site = replaceOnce(site, "/etc/ssl/wsexec/privkey.pem", key.toString());
        site = replaceOnce(site, "proxy_pass http://127.0.0.1:8023;", "proxy_pass http://127.0.0.1:" + upstream + ";");
        Files.writeString(dir.resolve("site.conf"), site);
        for (String temp : new String[] {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
            Files.createDirectories(dir.resolve("temp").resolve(temp));
        }
        String root = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
        String conf = root + "worker_processes 1;\n"
                + "error_log " + dir.resolve("error.log") + " info;\n"
                + "events { worker_connections 64; }\n"
                + "http {\n"
                + "    access_log " + dir.resolve("access.log") + ";\n"
                + "    client_body_temp_path " + dir.resolve("temp/client_body") + ";\n"
                + "    proxy_temp_path " + dir.resolve("temp/proxy") + ";\n"
                + "    fastcgi_temp_path " + dir.resolve("temp/fastcgi") + ";\n"
                + "    uwsgi_temp_path " + dir.resolve("temp/uwsgi") + ";\n"
                + "    scgi_temp_path " + dir.resolve("temp/scgi") + ";\n"
                + "    include " + dir.resolve("site.conf") + ";\n"
                + "}\n";
        Path path = dir.resolve("nginx.conf");
        Files.writeString(path, conf);
        return path;
    }

    /** Replaces text that must be in the site file exactly once: if the file changes, the test says where. */
    static String replaceOnce(String text, String what, String with) {
        int at = text.indexOf(what);
        assertTrue(at >= 0 && text.indexOf(what, at + 1) < 0, "deploy/nginx-wsexec.conf should contain '" + what + "' once");
        return text.replace(what, with);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    void awaitListening(int port, Process nginx) throws Exception {
        long end = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < end) {
            if (!nginx.isAlive()) {
                throw new AssertionError("nginx exited " + nginx.exitValue() + ": " + Files.readString(dir.resolve("nginx.out"))
                        + readIfThere(dir.resolve("error.log")));
            }
            try (Socket socket = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
                assertTrue(socket.isConnected());
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("nginx did not listen within 15 s: " + readIfThere(dir.resolve("error.log")));
    }

    static String readIfThere(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    /** One request over TLS to nginx; the whole answer, or only its head when the connection stays open. */
    static String request(int port, Path cert, String request, boolean headOnly) throws Exception {
        try (SSLSocket socket = (SSLSocket) Tls.trusting(cert).getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            if (!headOnly) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                if (head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    break;
                }
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }
    }

    static void awaitLogged(ByteArrayOutputStream log, String text) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            if (log.toString(StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not logged: '" + text + "' in\n" + log.toString(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
