package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/EMBED.md's examples are real: the code blocks equal docs/examples/*.java, which compile
 * against the module jar alone and echo over ws:// and wss:// to the JDK's own WebSocket client.
 */
@Timeout(90)
class EmbedExampleTest {
    private static final Path JAR = Path.of("build/wsexec.jar");
    private static final Path EXAMPLES = Path.of("docs/examples");

    @TempDir
    static Path classes;

    @BeforeAll
    static void compile() throws IOException {
        assertTrue(Files.isRegularFile(JAR), "build the jar first (./build.sh)");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> arguments = new ArrayList<>(List.of("--release", "21", "-Xlint:all", "-Werror",
                "--module-path", JAR.toString(), "--add-modules", "wsexec", "-d", classes.toString()));
        arguments.add(EXAMPLES.resolve("EchoServer.java").toString());
        arguments.add(EXAMPLES.resolve("TlsEchoServer.java").toString());
        assertEquals(0, javac.run(null, null, null, arguments.toArray(String[]::new)), "the examples compile");
    }

    @Test
    void embedMdShowsTheExamplesVerbatim() throws IOException {
        String embed = Files.readString(Path.of("docs/EMBED.md"));
        for (String file : new String[] {"EchoServer.java", "TlsEchoServer.java"}) {
            String code = Files.readString(EXAMPLES.resolve(file));
            assertTrue(embed.contains("```java\n" + code + "```\n"), file + " is not in docs/EMBED.md as it is");
        }
    }

    @Test
    void echoServerEchoesTextAndBinary() throws Exception {
        Process server = start("EchoServer", "0");
        try {
            int port = port(server, "ws");
            echo(HttpClient.newHttpClient(), URI.create("ws://127.0.0.1:" + port + "/"));
        } finally {
            stop(server);
        }
    }

    @Test
    void tlsEchoServerEchoesOverWss(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("echo.p12");
        String pass = "changeit-" + System.nanoTime();
        keytool("-genkeypair", "-alias", "echo", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", pass);
        KeyStore keys = KeyStore.getInstance(keystore.toFile(), pass.toCharArray());
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("echo", keys.getCertificate("echo"));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);

        Process server = start("TlsEchoServer", "0", keystore.toString(), pass);
        try {
            int port = port(server, "wss");
            echo(HttpClient.newBuilder().sslContext(context).build(), URI.create("wss://127.0.0.1:" + port + "/"));
        } finally {
            stop(server);
        }
    }

    /** Text and binary come back unchanged, and a Close is answered with the same code. */
    private static void echo(HttpClient http, URI uri) throws Exception {
        BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    received.add(text.toString());
                    text.setLength(0);
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                received.add(List.of(new String(bytes, StandardCharsets.ISO_8859_1)));
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                received.add(statusCode);
                return null;
            }
        };
        WebSocket ws = http.newWebSocketBuilder().buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
        ws.sendText("héllo, echo", true).get(10, TimeUnit.SECONDS);
        assertEquals("héllo, echo", received.poll(10, TimeUnit.SECONDS));
        ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xFF}), true).get(10, TimeUnit.SECONDS);
        assertEquals(List.of("\u0000\u0001\u00FF"), received.poll(10, TimeUnit.SECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, received.poll(10, TimeUnit.SECONDS));
    }

    private static Process start(String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", JAR.toString(), "--add-modules", "wsexec", "-cp", classes.toString(), mainClass));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** The port from the server's first line, "listening on SCHEME://127.0.0.1:PORT/", within 20 s. */
    private static int port(Process server, String scheme) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(20, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("listening on " + scheme + "://127\\.0\\.0\\.1:(\\d+)/").matcher(String.valueOf(line));
        assertTrue(m.matches(), "first line: " + line);
        return Integer.parseInt(m.group(1));
    }

    private static void stop(Process server) throws InterruptedException {
        server.destroy();
        if (!server.waitFor(5, TimeUnit.SECONDS)) {
            server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(new File("/dev/null")).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool " + String.join(" ", args));
    }
}
