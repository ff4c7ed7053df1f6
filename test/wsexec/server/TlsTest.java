package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import wsexec.client.Clients;
import wsexec.common.Tls;

/** wss:// with the JDK's TLS and a self-signed certificate made by keytool for the test. */
@Timeout(60)
class TlsTest {
    static final String TOKEN = "tls-token-0123456789abcdef";

    @TempDir
    static Path dir;
    static Path keystore;
    static Path password;
    static Path certificate;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        keystore = dir.resolve("server.p12");
        password = dir.resolve("password");
        certificate = dir.resolve("server.pem");
        Files.writeString(password, "changeit-" + System.nanoTime() + "\n");
        String pass = Files.readString(password).strip();
        keytool("-genkeypair", "-alias", "wsexec", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", pass, "-keypass", pass);
        keytool("-exportcert", "-rfc", "-alias", "wsexec", "-keystore", keystore.toString(), "-storepass", pass,
                "-file", certificate.toString());
        SSLContext tls = Tls.server(keystore, password);
        server = TestServer.exec(TestServer.serverConfig(TestServer.policy(TOKEN, List.of(), List.of(), null)).withTls(tls),
                ExecEndpoint.Config.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + output);
    }

    @Test
    void theContextOfAWsClientRefusesEveryUseInsteadOfSpeakingUncheckedTls() {
        SSLContext none = Tls.none();
        assertThrows(IllegalStateException.class, none::createSSLEngine);
        assertThrows(IllegalStateException.class, () -> none.createSSLEngine("localhost", 443));
        assertThrows(IllegalStateException.class, none::getSocketFactory);
        assertThrows(IllegalStateException.class, () -> none.init(null, null, null));
        assertEquals(List.of(Tls.PROTOCOLS), List.of(Tls.noneParameters().getProtocols()));
    }

    @Test
    void runOverWssTrustingTheGivenCertificate() {
        assertTrue(server.url().startsWith("wss://"));
        Clients.Result r = Clients.main(new byte[0], "run", "--url", server.url(), "--cacert", certificate.toString(),
                "--token", TOKEN, "--", "echo secure");
        assertEquals(0, r.status(), r.err());
        assertEquals("secure\n", r.out());
        Clients.Result byName = Clients.main(new byte[0], "run", "--url", "wss://localhost:" + server.port() + "/",
                "--cacert", certificate.toString(), "--token", TOKEN, "--", "echo by-name");
        assertEquals("by-name\n", byName.out(), byName.err());
    }

    @Test
    void anUntrustedCertificateIsRefusedWithNoWayAround() {
        Clients.Result r = Clients.main(new byte[0], "run", "--url", server.url(), "--token", TOKEN, "--", "echo insecure");
        assertEquals(255, r.status());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cannot connect"), r.err());
    }

    @Test
    void theTokenIsStillRequiredOverTls() {
        Clients.Result r = Clients.main(new byte[0], "run", "--url", server.url(), "--cacert", certificate.toString(),
                "--token", "wrong-" + TOKEN, "--", "echo x");
        assertEquals(255, r.status());
        assertTrue(r.err().contains("401"), r.err());
    }

    @Test
    void plainWsToATlsServerFails() {
        Clients.Result r = Clients.main(new byte[0], "run", "--url", "ws://127.0.0.1:" + server.port() + "/", "--token", TOKEN,
                "--connect-timeout", "3s", "--", "echo x");
        assertEquals(255, r.status());
        assertEquals("", r.out());
    }

    @Test
    void onlyTls12AndNewerAreSpoken() throws Exception {
        assertArrayEquals(new String[] {"TLSv1.3", "TLSv1.2"}, Tls.parameters(Tls.server(keystore, password)).getProtocols());
        SSLContext client = Tls.trusting(certificate);
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(5000);
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.startHandshake();
            assertEquals("TLSv1.2", socket.getSession().getProtocol());
        }
    }
}
