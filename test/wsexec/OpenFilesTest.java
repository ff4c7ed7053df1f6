package wsexec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.common.OpenFiles;

/** 10,000 connections need 10,000 descriptors: the launcher raises the limit, the server says when it is too low. */
@Timeout(60)
class OpenFilesTest {

    @Test
    void aLimitTooLowForMaxConnectionsIsOneClearLine() {
        assertNull(OpenFiles.tooLowFor(1024, 20_000));
        assertNull(OpenFiles.tooLowFor(1024, -1), "unknown: nothing to say");
        String line = OpenFiles.tooLowFor(10_000, 1024);
        assertNotNull(line);
        assertEquals(1, line.lines().count());
        assertTrue(line.contains("1024") && line.contains("--max-connections 10000") && line.contains("LimitNOFILE"), line);
        assertTrue(OpenFiles.softLimit() != 0);
    }

    @Test
    void theLauncherRaisesTheSoftLimitToTheHardOne() throws Exception {
        Path limits = Path.of("/proc/self/limits");
        Assumptions.assumeTrue(Files.exists(limits), "no /proc/self/limits here");
        Path launcher = Path.of("build/wsexec");
        // sh lowers its soft limit, then execs the launcher, which execs java: the pid stays the server's
        Process p = new ProcessBuilder("/bin/sh", "-c", "ulimit -Sn 256 && exec " + launcher.toAbsolutePath()
                + " serve --no-auth --port 0 --quiet").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertNotNull(out.readLine(), "serve printed nothing");
            String line = Files.readAllLines(Path.of("/proc/" + p.pid() + "/limits")).stream()
                    .filter(l -> l.startsWith("Max open files")).findFirst().orElseThrow();
            String[] words = line.substring("Max open files".length()).trim().split("\\s+");
            Assumptions.assumeTrue(!words[1].equals("unlimited") && Long.parseLong(words[1]) > 256, "the hard limit is 256 or less: " + line);
            assertEquals(Math.min(Long.parseLong(words[1]), 1_048_576L), Long.parseLong(words[0]), line);
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
