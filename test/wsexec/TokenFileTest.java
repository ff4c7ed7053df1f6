package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-command demo with authentication on: {@code wsexec serve} and {@code wsexec run} as real
 * processes (the jar), sharing a runtime directory, with nothing copied between them.
 */
@Timeout(60)
public class TokenFileTest {
    static final Path JAR = Path.of("build/wsexec.jar");
    static final Pattern URL = Pattern.compile("(wss?://127\\.0\\.0\\.1:(\\d+)/)\\?token=([A-Za-z0-9_%.~-]+)");

    @TempDir
    Path runtime;
    @TempDir
    Path elsewhere;

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static ProcessBuilder wsexec(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("WSEXEC_TOKEN");
        builder.environment().putAll(env);
        return builder;
    }

    record Run(int status, String out, String err) {
    }

    static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        // stdin stays open (and empty) until the client exits, as at a terminal: an early end of
        // input would race the job's exit, which is not what these tests are about.
        Process p = wsexec(env, args).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        p.getOutputStream().close();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** A running `wsexec serve` and what it printed first. */
    record Served(Process process, Matcher url) {
    }

    static Served serve(Map<String, String> env, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--quiet"));
        args.addAll(List.of(flags));
        Process p = wsexec(env, args.toArray(String[]::new)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertNotNull(line, "serve printed nothing");
        Matcher m = URL.matcher(line);
        assertTrue(m.find(), "no URL with a token in: " + line);
        return new Served(p, m);
    }

    public static void stop(Process server) throws InterruptedException {
        server.destroy(); // SIGTERM, the normal way to stop it
        assertTrue(server.waitFor(15, TimeUnit.SECONDS));
        assertEquals(0, server.exitValue());
    }

    @Test
    void runFindsTheTokenOfALocalServerByItself() throws Exception {
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());
        Served served = serve(env);
        try {
            String port = served.url().group(2);
            String token = served.url().group(3);
            assertEquals(43, token.length(), "256 bits in base64url: " + token);
            Path file = runtime.resolve("wsexec").resolve(port + ".token");
            assertEquals(token, Files.readString(file).strip());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));

            Run found = run(env, "run", "--url", served.url().group(1), "--", "echo found");
            assertEquals(0, found.status(), found.err());
            assertEquals("found\n", found.out());

            Run printed = run(Map.of("XDG_RUNTIME_DIR", elsewhere.toString()), "run", "--url", served.url().group(0), "--", "echo printed");
            assertEquals("printed\n", printed.out(), "the printed URL works as it is: " + printed.err());

            Run fromEnvironment = run(Map.of("XDG_RUNTIME_DIR", elsewhere.toString(), "WSEXEC_TOKEN", token),
                    "run", "--url", served.url().group(1), "--", "echo env");
            assertEquals("env\n", fromEnvironment.out(), fromEnvironment.err());

            Run without = run(Map.of("XDG_RUNTIME_DIR", elsewhere.toString()), "run", "--url", served.url().group(1), "--", "echo no");
            assertEquals(255, without.status());
            assertEquals("", without.out());
            assertTrue(without.err().contains("401"), without.err());

            stop(served.process());
            assertFalse(Files.exists(file), "the token file outlived the server");
        } finally {
            served.process().destroyForcibly();
        }
    }

    @Test
    void serveTakesItsTokenFromAFile() throws Exception {
        Path given = elsewhere.resolve("my-token");
        String token = "given-token-" + Long.toHexString(System.nanoTime()) + "abcdef";
        Files.writeString(given, token + "\n");
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());
        Served served = serve(env, "--token-file", given.toString());
        try {
            assertEquals(token, served.url().group(3));
            Run r = run(Map.of("XDG_RUNTIME_DIR", elsewhere.toString()), "run", "--url", served.url().group(1),
                    "--token-file", given.toString(), "--", "echo given");
            assertEquals("given\n", r.out(), r.err());
            stop(served.process());
        } finally {
            served.process().destroyForcibly();
        }
    }

    @Test
    void withoutXdgRuntimeDirTheTokenGoesUnderHome() throws Exception {
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", "", "HOME", runtime.toString());
        Served served = serve(env);
        try {
            Path file = runtime.resolve(".wsexec").resolve(served.url().group(2) + ".token");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            Run r = run(env, "run", "--url", "ws://localhost:" + served.url().group(2) + "/", "--", "echo home");
            assertEquals("home\n", r.out(), r.err());
            stop(served.process());
            assertFalse(Files.exists(file));
        } finally {
            served.process().destroyForcibly();
        }
    }
}
