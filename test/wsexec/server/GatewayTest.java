package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wsexec.client.Clients;
import wsexec.common.Json;
import wsexec.websocket.Opcode;
import wsexec.websocket.RawClient;

/**
 * Three instances ({@code a}, {@code b}, {@code c}) behind a real nginx running the gateway of
 * docs/DEPLOY.md (deploy/nginx-gateway.conf): {@code run --on} reaches each, kept jobs are found
 * again through the gateway by {@code ?job=}, and a misrouted connection is 421 naming the
 * instance. Skipped, with the reason, where nginx is not installed (.ci/run installs it).
 */
@Timeout(120)
class GatewayTest {
    static final Path GATEWAY = Path.of("deploy/nginx-gateway.conf");

    @TempDir
    Path dir;
    private final TestServer[] instances = new TestServer[3];
    private Process nginx;
    private int port;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(NginxTest.NGINX), "nginx is not installed (" + NginxTest.NGINX + "); .ci/run installs it");
        String[] names = {"a", "b", "c"};
        for (int i = 0; i < 3; i++) {
            instances[i] = TestServer.exec(TestServer.serverConfig(TestServer.policy(null, List.of(), List.of(), null)),
                    ExecEndpoint.Config.DEFAULTS, new Server.Deployment("/",
                            new TrustedProxies(List.of(TrustedProxies.Cidr.parse("127.0.0.1/32"))), names[i]));
        }
        port = NginxTest.freePort();
        String site = Files.readString(GATEWAY);
        site = NginxTest.replaceOnce(site, "listen 80;", "listen 127.0.0.1:" + port + ";");
        for (int i = 0; i < 3; i++) {
            String upstream = "10.0.0." + (i + 1) + ":8023";
            assertEquals(2, site.split(java.util.regex.Pattern.quote(upstream), -1).length - 1, upstream + " twice: its own and all");
            site = site.replace(upstream, "127.0.0.1:" + instances[i].port());
        }
        Files.writeString(dir.resolve("site.conf"), site);
        for (String temp : new String[] {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
            Files.createDirectories(dir.resolve("temp").resolve(temp));
        }
        String root = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, root + "worker_processes 1;\nerror_log " + dir.resolve("error.log") + " info;\n"
                + "events { worker_connections 256; }\nhttp {\n    access_log " + dir.resolve("access.log") + ";\n"
                + "    client_body_temp_path " + dir.resolve("temp/client_body") + ";\n    proxy_temp_path " + dir.resolve("temp/proxy") + ";\n"
                + "    fastcgi_temp_path " + dir.resolve("temp/fastcgi") + ";\n    uwsgi_temp_path " + dir.resolve("temp/uwsgi") + ";\n"
                + "    scgi_temp_path " + dir.resolve("temp/scgi") + ";\n    include " + dir.resolve("site.conf") + ";\n}\n");
        nginx = new ProcessBuilder(NginxTest.NGINX.toString(), "-p", dir.toString(), "-c", conf.toString(),
                "-g", "daemon off; pid " + dir.resolve("nginx.pid") + ";")
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
        long end = System.nanoTime() + 15_000_000_000L;
        while (true) {
            assertTrue(nginx.isAlive(), () -> "nginx exited: " + read(dir.resolve("nginx.out")) + read(dir.resolve("error.log")));
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                assertTrue(s.isConnected());
                break;
            } catch (IOException e) {
                assertTrue(System.nanoTime() < end, "nginx did not listen");
                Thread.sleep(50);
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                nginx.destroyForcibly();
            }
            nginx.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        for (TestServer s : instances) {
            if (s != null) {
                s.close();
            }
        }
    }

    private String gateway() {
        return "ws://127.0.0.1:" + port + "/";
    }

    private static final String BY_INSTANCE = "echo $WSEXEC_INSTANCE; case $WSEXEC_INSTANCE in a) exit 1;; b) exit 3;; c) exit 2;; esac";

    @Test
    void runOnEachNamedInstancePrefixesItsLinesAndExitsWithTheHighestCode() {
        Clients.Result r = Clients.main(new byte[0], "run", "--on", "a,b,c", "--url", gateway(), "--", BY_INSTANCE);
        assertEquals(3, r.status(), r.err());
        List<String> lines = r.out().lines().sorted().toList();
        assertEquals(List.of("a: a", "b: b", "c: c"), lines, r.out());
        assertTrue(r.err().contains("3 hosts"), r.err());
        assertTrue(r.err().matches("(?s).*\\ba +exit 1\\b.*"), r.err());
    }

    @Test
    void runOnAllAsksTheGatewayForTheInstances() {
        Clients.Result r = Clients.main(new byte[0], "run", "--on", "all", "--url", gateway(), "--", "echo $WSEXEC_INSTANCE");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("a: a", "b: b", "c: c"), r.out().lines().sorted().toList());
    }

    @Test
    void aHostThatIsDownIsReportedAndTheOthersRun() {
        instances[2].close();
        instances[2] = null;
        Clients.Result r = Clients.main(new byte[0], "run", "--on", "a,b,c", "--url", gateway(), "--", "echo $WSEXEC_INSTANCE");
        assertEquals(255, r.status(), r.err());
        assertEquals(List.of("a: a", "b: b"), r.out().lines().filter(l -> !l.startsWith("c: ")).sorted().toList());
        assertTrue(r.err().matches("(?s).*\\bc +unreachable.*"), r.err());
    }

    @Test
    void aKeptJobIsFoundAgainThroughTheGatewayAndAMisroutedOneIs421() throws Exception {
        String job;
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        try (RawClient c = RawClient.open(port, "/?instance=b")) {
            c.sendText("{\"type\":\"exec\",\"id\":\"k\",\"command\":\"seq 1 20000; sleep 0.5; seq 20001 40000\",\"keep\":\"60s\"}");
            Map<String, Object> started = next(c);
            job = (String) started.get("job");
            assertEquals("b", started.get("instance"));
            assertTrue(job.startsWith("b."), job);
            while (first.size() < 50_000) {
                Map<String, Object> e = next(c);
                if ("output".equals(e.get("type")) && "stdout".equals(e.get("stream"))) {
                    first.writeBytes(((String) e.get("data")).getBytes(StandardCharsets.UTF_8));
                }
            }
            c.socket().setSoLinger(true, 0); // cut, no Close frame
        }
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        try (RawClient c = RawClient.open(port, "/?job=" + job)) {
            c.sendText("{\"type\":\"attach\",\"id\":\"r\",\"job\":\"" + job + "\",\"from\":{\"stdout\":" + first.size() + ",\"stderr\":0}}");
            while (true) {
                Map<String, Object> e = next(c);
                if ("output".equals(e.get("type")) && "stdout".equals(e.get("stream"))) {
                    rest.writeBytes(((String) e.get("data")).getBytes(StandardCharsets.UTF_8));
                } else if ("exit".equals(e.get("type"))) {
                    assertEquals(0L, e.get("code"));
                    break;
                } else if ("error".equals(e.get("type"))) {
                    throw new AssertionError(e.toString());
                }
            }
        }
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        whole.writeBytes(first.toByteArray());
        whole.writeBytes(rest.toByteArray());
        Process seq = new ProcessBuilder("/bin/sh", "-c", "seq 1 40000").start();
        byte[] expected = seq.getInputStream().readAllBytes();
        assertArrayEquals(expected, whole.toByteArray(), "the replay through the gateway is not byte-exact");

        // wsexec attach through the gateway: its ?job= reaches b every time (round robin would not)
        for (int i = 0; i < 3; i++) {
            Clients.Result attached = Clients.main(new byte[0], "attach", "--read-only", "--url", gateway(), job);
            assertEquals(0, attached.status(), attached.err());
            assertArrayEquals(expected, attached.stdout(), "attach " + i + " through the gateway");
        }

        // b's job sent straight to a: 421, naming a
        try (RawClient direct = RawClient.connect(instances[0].port())) {
            direct.send(RawClient.upgradeRequest("/?job=" + job, "").getBytes(StandardCharsets.ISO_8859_1));
            String head = direct.readResponseHead();
            assertTrue(head.startsWith("HTTP/1.1 421"), head);
            assertTrue(head.contains("X-Wsexec-Instance: a"), head);
            String body = direct.readAll();
            assertTrue(body.contains("this is instance 'a', not 'b'"), body);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> next(RawClient client) throws IOException {
        while (true) {
            RawClient.Frame frame = client.readFrame();
            assertTrue(frame != null, "the connection ended");
            if (frame.opcode() == Opcode.TEXT) {
                try {
                    return (Map<String, Object>) Json.parse(frame.text());
                } catch (Json.ParseException e) {
                    throw new IOException(e);
                }
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void theGatewayFileIsTheOneDeployMdShows() throws IOException {
        String doc = Files.readString(Path.of("docs/DEPLOY.md"));
        assertTrue(doc.contains("```nginx\n" + Files.readString(GATEWAY) + "```\n"), "docs/DEPLOY.md must include deploy/nginx-gateway.conf verbatim");
    }
}
