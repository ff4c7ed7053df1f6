package wsexec.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The {@code /proc/PID/stat} reader that finding a job's leftovers depends on (proc(5)). */
class ProcessGroupsStatTest {

    private static ProcessGroups.Stat parse(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.ISO_8859_1);
        return ProcessGroups.Stat.parse(bytes, bytes.length);
    }

    @Test
    void readsCommStateAndGroup() {
        ProcessGroups.Stat stat = parse("4911 (sleep) S 4630 4911 4911 0 -1 4194560 96 0 0 0 0 0 0 0 20 0 1 0\n");
        assertEquals(new ProcessGroups.Stat("sleep", 'S', 4911), stat);
    }

    @Test
    void aCommWithSpacesAndParenthesesEndsAtTheLastParenthesis() {
        ProcessGroups.Stat stat = parse("77 (a) b (c)) Z 1 1234567 1234567 0 -1 0\n");
        assertEquals(new ProcessGroups.Stat("a) b (c)", 'Z', 1234567), stat);
    }

    @Test
    void aLineCutShortOrNotAStatLineIsNull() {
        assertNull(parse(""));
        assertNull(parse("12 (sh"));
        assertNull(parse("12 (sh) S 1"));
        assertNull(parse("12 (sh) S 1 "));
        assertNull(parse("no parentheses at all"));
    }

    @Test
    void aLiveProcessReadsAsPsSeesItAndAGoneOneAsNull() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "30").start();
        try {
            Process ps = new ProcessBuilder("ps", "-o", "pgid=", "-p", Long.toString(sleep.pid())).start();
            long group = Long.parseLong(new String(ps.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip());
            assertEquals(0, ps.waitFor());
            ProcessGroups.Stat stat = ProcessGroups.Stat.read(sleep.pid());
            assertNotNull(stat);
            assertEquals("sleep", stat.comm());
            assertEquals(group, stat.group());
        } finally {
            sleep.destroyForcibly().waitFor();
        }
        assertNull(ProcessGroups.Stat.read(sleep.pid()));
    }
}
