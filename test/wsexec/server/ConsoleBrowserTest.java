package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import wsexec.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The browser console in a real headless Chromium: {@code interop/console_check.mjs} (node +
 * playwright-core) loads the page from a real server, types commands into it and reports what the
 * page showed and when; this test judges it. Node, playwright-core (npm ci in interop/) and
 * /usr/bin/chromium are required: without them this test fails, it does not skip (.ci/run installs
 * all three). It also takes the README's screenshot: build/console.png, or the path in
 * $CONSOLE_SCREENSHOT (docs/console.png to refresh the README's).
 */
@Timeout(240)
class ConsoleBrowserTest {
    static final String TOKEN = "console-browser-token-0123456789";
    static final Path SCRIPT = Path.of("interop/console_check.mjs");
    static final Path PLAYWRIGHT = Path.of("interop/node_modules/playwright-core/package.json");
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final int KEEP_BUFFER = 16 << 10; // fewer lines of seq than the page keeps (5,000)
    static final String TICKS = "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n";

    static Path onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void theConsoleStreamsRunsAndNeverExecutesWhatCommandsPrint() throws Exception {
        Path node = onPath("node");
        assertNotNull(node, "node is not on PATH (apt-get install nodejs npm; .ci/run does it)");
        assertTrue(Files.isRegularFile(PLAYWRIGHT), "playwright-core is missing: run `npm ci` in interop/ (.ci/run does it)");
        assertTrue(Files.isExecutable(CHROMIUM), "/usr/bin/chromium is missing (apt-get install chromium; .ci/run does it)");
        Path screenshot = Path.of(System.getenv().getOrDefault("CONSOLE_SCREENSHOT", "build/console.png"));
        Files.deleteIfExists(screenshot);
        Path errors = Files.createTempFile("console-check", ".err");
        Map<String, Object> facts;
        try (TestServer server = TestServer.exec(TestServer.serverConfig(TestServer.policy(TOKEN, List.of(), List.of(), null)),
                // A small --keep-buffer, so that a kept job nobody watches loses output (the gap check).
                ExecEndpoint.Config.DEFAULTS.withKeep(new ExecEndpoint.Config.Keep(Duration.ofHours(24), KEEP_BUFFER, 64)))) {
            String url = "http://127.0.0.1:" + server.port() + "/?token=" + TOKEN;
            Process p = new ProcessBuilder(node.toString(), SCRIPT.toString(), url, screenshot.toString())
                    .redirectError(errors.toFile()).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(200, TimeUnit.SECONDS), "the browser check did not finish");
            assertEquals(0, p.exitValue(), "console_check.mjs failed: " + Files.readString(errors));
            facts = map(Json.parse(new String(out, StandardCharsets.UTF_8).strip()));
        } finally {
            Files.deleteIfExists(errors);
        }
        assertEquals(List.of(), facts.get("consoleErrors"), "the page logged errors (a CSP violation would be one)");
        assertTrue(((String) facts.get("status")).startsWith("connected"), facts.toString());

        // Five dates, each on its own line, each about a second after the one before, and exit 0.
        Map<String, Object> dates = map(facts.get("dates"));
        String[] lines = ((String) dates.get("text")).split("\n");
        assertEquals(5, lines.length, dates.toString());
        for (String line : lines) {
            assertTrue(line.matches(".*\\d\\d:\\d\\d:\\d\\d.*"), "not a date: " + line);
        }
        List<?> times = (List<?>) dates.get("lineTimesMs");
        assertEquals(5, times.size(), "one DOM change per line expected: " + times);
        for (int i = 1; i < times.size(); i++) {
            double gap = ((Number) times.get(i)).doubleValue() - ((Number) times.get(i - 1)).doubleValue();
            assertTrue(gap >= 500, "line " + (i + 1) + " appeared " + gap + " ms after the previous one: " + times);
        }
        assertEquals("0", dates.get("exitCode"));
        assertTrue(((String) dates.get("state")).startsWith("exit 0 · "), dates.get("state").toString());

        // HTML printed by a command is text: visible as written, no element made of it, nothing run.
        Map<String, Object> injection = map(facts.get("injection"));
        assertEquals("<script>window.injected = \"script\"</script>\n<img src=x onerror=\"window.injected = 1\">\n<b>bold</b>\n",
                injection.get("text"));
        assertEquals(List.of(), injection.get("elementsInOutput"), "the output became elements");
        assertNull(injection.get("injected"), "a script from the output ran");

        // stderr apart, non-zero exit shown.
        Map<String, Object> failing = map(facts.get("failing"));
        assertEquals("3", failing.get("exitCode"));
        assertTrue(((String) failing.get("stderrText")).contains("No such file or directory"), failing.toString());
        assertFalse(((String) failing.get("stderrText")).contains("to stdout"), failing.toString());
        assertTrue(((String) failing.get("state")).startsWith("exit 3"), failing.toString());

        // A million lines: the last 5,000 in the DOM, the rest counted, the page still painting.
        Map<String, Object> million = map(facts.get("million"));
        assertEquals("0", million.get("exitCode"));
        assertEquals("1000000", million.get("lastLine"));
        assertEquals(5000L, million.get("domLines"));
        assertTrue(((String) million.get("dropped")).startsWith("995,000 earlier lines not shown"), million.toString());
        assertEquals(Boolean.TRUE, million.get("dismissed"));

        // stdin from the pane's line; KILL from its button.
        assertEquals("got: hello from the browser\n", map(facts.get("stdin")).get("text"));
        Map<String, Object> killed = map(facts.get("killed"));
        assertEquals("137", killed.get("exitCode"));
        assertTrue(((String) killed.get("state")).startsWith("exit 137 (KILL)"), killed.toString());

        // A kept job: the exec asked for the field's default hour, the page reloaded mid-job, and the
        // reloaded page reattached and showed every tick once, then exit 3.
        Map<String, Object> kept = map(facts.get("kept"));
        String job = (String) kept.get("job");
        assertTrue(job.matches("[a-z0-9-]{1,32}\\.[A-Za-z0-9_-]{22}"), kept.toString());
        List<?> execSent = (List<?>) kept.get("execSent");
        assertEquals(1, execSent.size(), kept.toString());
        assertEquals("3600s", map(execSent.get(0)).get("keep"));
        String before = (String) map(kept.get("before")).get("text");
        assertTrue(before.startsWith("tick 1\n") && !before.contains("tick 5"), "the reload was not mid-job: " + before);
        assertEquals(List.of(Map.of("job", job, "command", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done; exit 3"),
                Map.of("job", "AAAAAAAAAAAAAAAAAAAAAA", "command", "echo long gone")), kept.get("storedBeforeReload"));
        assertEquals(2L, kept.get("panesAfterReload"), "one pane per remembered kept job, nothing else: " + kept);
        Map<String, Object> after = map(kept.get("after"));
        assertEquals(TICKS, after.get("text"));
        assertEquals("3", after.get("exitCode"));
        assertTrue(((String) after.get("state")).startsWith("exit 3"), after.toString());
        assertEquals("kept", after.get("keptLabel"));
        // A job the server does not have: said so, and forgotten.
        Map<String, Object> gone = map(kept.get("gone"));
        assertTrue(((String) gone.get("state")).startsWith("gone"), gone.toString());
        assertTrue(((String) gone.get("text")).contains("no kept job"), gone.toString());
        assertEquals(List.of(Map.of("job", job, "command", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done; exit 3")),
                kept.get("storedAfterReload"));

        // The jobs list shows it; a read-only watch shows its output with no stdin or signal controls.
        Map<String, Object> list = map(facts.get("list"));
        assertEquals(job, list.get("job"));
        assertEquals("for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done; exit 3", list.get("command"));
        assertEquals("exited", list.get("state"));
        assertEquals("3", list.get("code"));
        assertEquals("35 / 0", list.get("bytes"));
        Map<String, Object> watch = map(facts.get("watch"));
        assertEquals(TICKS, watch.get("text"));
        assertEquals("3", watch.get("exitCode"));
        assertEquals("watching · read-only", watch.get("keptLabel"));
        assertEquals(0L, watch.get("visibleControls"), watch.toString());
        assertTrue(((Number) after.get("visibleControls")).longValue() > 0, "the reattached pane lost its controls: " + after);

        // Output lost while nobody watched is a visible line, then the rest up to the end.
        Map<String, Object> gap = map(facts.get("gap"));
        assertEquals("exited", map(gap.get("row")).get("state"), gap.toString());
        assertTrue(((String) gap.get("firstLine")).matches("… [\\d,]+ bytes of stdout not kept …"), gap.toString());
        assertEquals(gap.get("firstLine") + "\n", gap.get("gapText"));
        assertEquals("100000", gap.get("lastLine"));
        assertEquals("0", gap.get("exitCode"));
        assertEquals(0L, gap.get("panesOutsideJobs"), "the kept-jobs list took the panes' style");

        byte[] png = Files.readAllBytes(screenshot);
        assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "no screenshot at " + screenshot);
    }

    @Test
    void thePageIsInTheJarAndInsertsServerTextOnlyAsText() throws IOException {
        String page = new String(Console.page(), StandardCharsets.UTF_8);
        // No framework, no CDN: nothing is loaded from anywhere.
        assertFalse(page.matches("(?s).*(src|href)=\"(https?:)?//.*"), "the page loads something from elsewhere");
        // The page's only ways to put text in the DOM are textContent and text-only APIs.
        for (String sink : new String[] {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}) {
            assertFalse(page.contains(sink), "the page uses " + sink);
        }
    }
}
