package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/wsexec.service is a unit systemd accepts as it is (systemd-analyze verify: no error and no
 * warning, which is how it reports an unknown or misspelt setting), with the choices DEPLOY.md
 * explains, and a command line wsexec accepts.
 */
@Timeout(60)
class SystemdUnitTest {
    static final Path UNIT = Path.of("deploy/wsexec.service");
    static final String LAUNCHER = "/opt/wsexec/build/wsexec";

    @TempDir
    Path dir;

    @Test
    void systemdAnalyzeVerifiesTheUnitWithoutAWord() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed here (" + analyze + ")");
        String unit = Files.readString(UNIT);
        assertTrue(unit.contains("ExecStart=" + LAUNCHER + " "), "the test puts the built launcher at " + LAUNCHER);
        // verify checks that ExecStart's program exists: the launcher of this checkout stands in for /opt/wsexec's
        Path copy = dir.resolve("wsexec.service");
        Files.writeString(copy, unit.replace(LAUNCHER, Path.of("build/wsexec").toAbsolutePath().toString()));
        Process p = new ProcessBuilder(analyze.toString(), "verify", copy.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        List<String> aboutUnit = out.lines().filter(l -> l.contains("wsexec.service")).toList();
        assertEquals(List.of(), aboutUnit, out);
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void theUnitMakesTheDocumentedChoices() throws IOException {
        String unit = Files.readString(UNIT);
        for (String line : new String[] {"KillMode=mixed", "Restart=on-failure", "LoadCredential=token:/etc/wsexec/token",
                "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"}) {
            assertTrue(unit.lines().anyMatch(line::equals), line);
        }
    }

    @Test
    void itsCommandLineIsOneWsexecAccepts() throws Exception {
        String unit = Files.readString(UNIT);
        int start = unit.indexOf("ExecStart=" + LAUNCHER + " ") + ("ExecStart=" + LAUNCHER + " ").length();
        String command = unit.substring(start, unit.indexOf('\n', unit.indexOf("--log-format", start))).replace("\\\n", " ");
        Path token = dir.resolve("token");
        Files.writeString(token, "a-token-for-the-unit-test-0123456789\n");
        String[] args = command.replace("%d/token", token.toString()).trim().split("\\s+");
        CommandLine.Serve serve = (CommandLine.Serve) CommandLine.parse(args);
        assertEquals("/exec/", serve.deployment().basePath());
    }
}
