package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher build.sh writes ({@code build/wsexec}), run from a copy of it and the jar in a
 * directory of the test's own: it serves and runs with no start-up cache at all, an unusable
 * cache costs a warning on stderr and nothing else (stdout of {@code run} is the job's output),
 * and a cache older than the jar is not even tried.
 */
@Timeout(90)
class LauncherTest {
    static final Path LAUNCHER = Path.of("build/wsexec");
    static final Path JAR = Path.of("build/wsexec.jar");
    static final Pattern URL = Pattern.compile("(ws://127\\.0\\.0\\.1:\\d+/\\?token=[A-Za-z0-9_%-]+)");
    static final List<String> CACHES = List.of("wsexec.aot", "wsexec-run.aot", "wsexec.jsa", "wsexec-run.jsa");

    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    /** The launcher and the jar, and nothing else, in the test's directory. */
    private Path copy() throws IOException {
        Files.copy(LAUNCHER, dir.resolve("wsexec"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(JAR, dir.resolve("wsexec.jar"));
        return dir.resolve("wsexec");
    }

    /** Files named like every start-up cache, holding junk, with this modification time. */
    private void junkCaches(FileTime time) throws IOException {
        for (String name : CACHES) {
            Path file = dir.resolve(name);
            Files.write(file, "not a cache".getBytes(StandardCharsets.US_ASCII));
            Files.setLastModifiedTime(file, time);
        }
    }

    private ProcessBuilder launcher(Path launcher, String... args) {
        ProcessBuilder builder = new ProcessBuilder(launcher.toString());
        builder.command().addAll(List.of(args));
        builder.environment().put("XDG_RUNTIME_DIR", dir.toString()); // the server's token file goes here
        return builder;
    }

    private Result run(Path launcher, String url, String command) throws Exception {
        Process process = launcher(launcher, "run", "--url", url, "--", command).start();
        process.getOutputStream().close();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread errReader = Thread.ofPlatform().daemon(true).start(() -> copy(process.getErrorStream(), err));
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "run did not end");
        errReader.join(5000);
        return new Result(process.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        try {
            in.transferTo(sink);
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** Starts {@code serve} through the launcher, runs {@code echo} through it, and returns what run printed. */
    private Result serveAndRun(Path launcher) throws Exception {
        Process server = launcher(launcher, "serve", "--port", "0", "--quiet").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String first = JarProcess.firstLine(server);
            assertTrue(first != null && first.startsWith("wsexec "), "the URL line first on stdout, got: " + first);
            Matcher url = URL.matcher(first);
            assertTrue(url.find(), first);
            return run(launcher, url.group(1), "echo launched");
        } finally {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void servesAndRunsWithoutAnyCache() throws Exception {
        Result r = serveAndRun(copy());
        assertEquals(new Result(0, "launched\n", ""), r);
    }

    @Test
    void anUnusableCacheOnlyWarnsOnStderr() throws Exception {
        Path launcher = copy();
        junkCaches(FileTime.fromMillis(Files.getLastModifiedTime(dir.resolve("wsexec.jar")).toMillis() + 60_000));
        Result r = serveAndRun(launcher);
        assertEquals(0, r.status(), r.err());
        assertEquals("launched\n", r.out());
        assertTrue(r.err().contains("warning") || r.err().contains("error"), "the JVM says it cannot use the cache: " + r.err());
    }

    @Test
    void aCacheOlderThanTheJarIsNotTried() throws Exception {
        Path launcher = copy();
        junkCaches(FileTime.fromMillis(Files.getLastModifiedTime(dir.resolve("wsexec.jar")).toMillis() - 60_000));
        Result r = serveAndRun(launcher);
        assertEquals(new Result(0, "launched\n", ""), r);
    }
}
