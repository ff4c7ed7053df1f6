package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.common.Json;
import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;

/**
 * Kept jobs (docs/PROTOCOL.md, "Kept jobs"): a job started with {@code keep} outlives its
 * connection, and any connection attaches to it from an offset, byte-exact, gaps reported.
 */
@Timeout(60)
class KeptJobsTest {
    private static ExecEndpoint.Config config(int keepBuffer) {
        return new ExecEndpoint.Config(64, 512, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ZERO, true)
                .withKeep(new ExecEndpoint.Config.Keep(Duration.ofHours(1), keepBuffer, 64));
    }

    /** What one attachment received: stdout and stderr bytes, gaps, the exit event, everything else. */
    private static final class Watch {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final List<Map<String, Object>> gaps = new ArrayList<>();
        final List<Map<String, Object>> events = new ArrayList<>();
        Map<String, Object> started;
        Map<String, Object> exit;
        long expectedOutOffset;

        /** Takes one event; true once the exit arrived. Checks every output offset is contiguous. */
        boolean take(Map<String, Object> e) {
            events.add(e);
            switch ((String) e.get("type")) {
                case "started" -> started = e;
                case "output" -> {
                    byte[] bytes = e.containsKey("data") ? ((String) e.get("data")).getBytes(StandardCharsets.UTF_8)
                            : Base64.getDecoder().decode((String) e.get("base64"));
                    if ("stdout".equals(e.get("stream"))) {
                        assertEquals(expectedOutOffset, ((Long) e.get("offset")).longValue(), "stdout offsets must be contiguous");
                        expectedOutOffset += bytes.length;
                        stdout.writeBytes(bytes);
                    } else {
                        stderr.writeBytes(bytes);
                    }
                }
                case "gap" -> {
                    gaps.add(e);
                    if ("stdout".equals(e.get("stream"))) {
                        assertEquals(expectedOutOffset, ((Long) e.get("from")).longValue(), "a gap starts where the output stopped");
                        expectedOutOffset = (Long) e.get("to");
                    }
                }
                case "exit" -> exit = e;
                default -> {
                }
            }
            return exit != null;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> next(RawClient client) throws IOException {
        while (true) {
            RawClient.Frame frame = client.readFrame();
            assertNotNull(frame, "the connection ended");
            if (frame.opcode() == Opcode.TEXT) {
                try {
                    return (Map<String, Object>) Json.parse(frame.text());
                } catch (Json.ParseException e) {
                    throw new IOException(e);
                }
            }
        }
    }

    private static Watch watchToExit(RawClient client, Watch watch) throws IOException {
        while (!watch.take(next(client))) {
            // until exit
        }
        return watch;
    }

    private static String startKept(RawClient client, String id, String command, String keep) throws IOException {
        client.sendText(Json.object().field("type", "exec").field("id", id).field("command", command).field("keep", keep).toString());
        Map<String, Object> started = next(client);
        while (!id.equals(started.get("id")) || "output".equals(started.get("type"))) {
            started = next(client); // another job's output
        }
        assertEquals("started", started.get("type"), started.toString());
        String job = (String) started.get("job");
        assertNotNull(job, "a kept job's started event names the job");
        assertTrue(job.matches("[a-z0-9-]{1,32}\\.[A-Za-z0-9_-]{22}"), "job ids are the instance, a dot and 128 random bits, URL-safe: " + job);
        return job;
    }

    private static void attach(RawClient client, String id, String job, String fromJson, boolean readOnly) throws IOException {
        client.sendText("{\"type\":\"attach\",\"id\":\"" + id + "\",\"job\":\"" + job + "\",\"from\":" + fromJson
                + ",\"readOnly\":" + readOnly + "}");
    }

    private static byte[] run(String command) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", command).start();
        byte[] out = p.getInputStream().readAllBytes();
        p.waitFor();
        return out;
    }

    /** Waits until the server lists the job as exited. */
    private static void awaitExited(int port, String job) throws Exception {
        awaitExited(port, job, 20_000);
    }

    private static void awaitExited(int port, String job, long deadlineMs) throws Exception {
        assertTrue(Processes.await(deadlineMs, () -> {
            try (RawClient c = RawClient.open(port)) {
                c.sendText("{\"type\":\"jobs\"}");
                Map<String, Object> answer = next(c);
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> jobs = (List<Map<String, Object>>) answer.get("jobs");
                return jobs.stream().anyMatch(j -> job.equals(j.get("job")) && "exited".equals(j.get("state")));
            } catch (IOException e) {
                return false;
            }
        }), "the kept job never ended");
    }

    @Test
    void aCutConnectionIsResumedFromItsOffsetsByteExact() throws Exception {
        String command = "seq 1 300000; sleep 1; seq 1 100000";
        byte[] expected = run(command);
        try (TestServer server = TestServer.exec(config(8 << 20))) {
            Watch first = new Watch();
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                job = startKept(a, "a", command, "60s");
                while (first.stdout.size() < 200_000) {
                    assertTrue(!first.take(next(a)), "the job ended before the cut");
                }
                a.socket().setSoLinger(true, 0); // a reset, no Close frame: a dropped link
            }
            Watch second = new Watch();
            second.expectedOutOffset = first.stdout.size();
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "b", job, "{\"stdout\":" + first.stdout.size() + ",\"stderr\":" + first.stderr.size() + "}", false);
                watchToExit(b, second);
            }
            assertEquals(job, second.started.get("job"));
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            whole.writeBytes(first.stdout.toByteArray());
            whole.writeBytes(second.stdout.toByteArray());
            assertArrayEquals(sha256(expected), sha256(whole.toByteArray()), "stdout across the cut differs");
            assertEquals(0L, second.exit.get("code"));
            assertTrue(second.gaps.isEmpty(), "no gap within the keep buffer: " + second.gaps);
        }
    }

    @Test
    void aJobThatEndedUnwatchedReplaysWholeThenItsExit() throws Exception {
        try (TestServer server = TestServer.exec(config(8 << 20))) {
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                job = startKept(a, "a", "printf 'one\\ntwo\\n'; printf oops >&2; exit 3", "60s");
            }
            awaitExited(server.port(), job);
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "r", job, "\"start\"", false);
                Watch replay = watchToExit(b, new Watch());
                assertEquals("one\ntwo\n", replay.stdout.toString(StandardCharsets.UTF_8));
                assertEquals("oops", replay.stderr.toString(StandardCharsets.UTF_8));
                assertEquals(3L, replay.exit.get("code"));
                assertEquals("r", replay.exit.get("id"));
            }
        }
    }

    @Test
    void theControllerAndTwoReadOnlyViewersSeeTheSameBytesAndViewersCannotSignal() throws Exception {
        try (TestServer server = TestServer.exec(config(8 << 20));
             RawClient controller = RawClient.open(server.port());
             RawClient v1 = RawClient.open(server.port());
             RawClient v2 = RawClient.open(server.port())) {
            // The job waits for a line on stdin before it prints, so all three watch from the start.
            String job = startKept(controller, "c", "read go; seq 1 50000; echo done >&2", "60s");
            attach(v1, "v", job, "\"start\"", true);
            attach(v2, "v", job, "\"start\"", true);
            Watch w1 = new Watch();
            Watch w2 = new Watch();
            w1.take(next(v1));
            w2.take(next(v2));
            assertEquals(true, w1.started.get("readOnly"));
            v1.sendText("{\"type\":\"signal\",\"id\":\"v\",\"signal\":\"KILL\"}");
            Map<String, Object> refused = next(v1);
            assertEquals("error", refused.get("type"), refused.toString());
            assertEquals("read_only", refused.get("code"));
            v2.sendText("{\"type\":\"stdin\",\"id\":\"v\",\"data\":\"go\\n\"}");
            Map<String, Object> refusedStdin = next(v2);
            assertEquals("read_only", refusedStdin.get("code"), refusedStdin.toString());
            controller.sendText("{\"type\":\"stdin\",\"id\":\"c\",\"data\":\"go\\n\"}");
            Watch wc = watchToExit(controller, new Watch());
            watchToExit(v1, w1);
            watchToExit(v2, w2);
            byte[] expected = run("seq 1 50000");
            assertArrayEquals(expected, wc.stdout.toByteArray());
            assertArrayEquals(expected, w1.stdout.toByteArray());
            assertArrayEquals(expected, w2.stdout.toByteArray());
            assertEquals("done\n", w2.stderr.toString(StandardCharsets.UTF_8));
            assertEquals(0L, w1.exit.get("code"));
        }
    }

    @Test
    void outputPastTheBufferWhileDetachedIsOneGapThenExactBytes() throws Exception {
        int buffer = 64 << 10;
        try (TestServer server = TestServer.exec(config(buffer))) {
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                job = startKept(a, "a", "read go; seq 1 200000", "60s"); // 1,288,895 bytes
                a.sendText("{\"type\":\"detach\",\"id\":\"a\"}");
                Map<String, Object> detached = next(a);
                assertEquals("detached", detached.get("type"), detached.toString());
                // Nobody watches: stdin still reaches it through a new attachment's id? No: start it from here.
            }
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "w", job, "\"now\"", false);
                Map<String, Object> started = next(b);
                assertEquals("started", started.get("type"));
                b.sendText("{\"type\":\"stdin\",\"id\":\"w\",\"data\":\"go\\n\"}");
                b.sendText("{\"type\":\"detach\",\"id\":\"w\"}");
            }
            awaitExited(server.port(), job);
            byte[] expected = run("seq 1 200000");
            try (RawClient c = RawClient.open(server.port())) {
                attach(c, "r", job, "\"start\"", true);
                Watch replay = watchToExit(c, new Watch());
                assertEquals(1, replay.gaps.size(), "one gap: " + replay.gaps);
                Map<String, Object> gap = replay.gaps.get(0);
                assertEquals(0L, gap.get("from"));
                assertEquals((long) expected.length - buffer, gap.get("to"));
                byte[] tail = java.util.Arrays.copyOfRange(expected, expected.length - buffer, expected.length);
                assertArrayEquals(tail, replay.stdout.toByteArray(), "the bytes after the gap");
            }
            try (RawClient http = RawClient.connect(server.port())) {
                http.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String metrics = http.readAll();
                java.util.regex.Matcher gapBytes = java.util.regex.Pattern.compile("(?m)^wsexec_kept_gap_bytes_total (\\d+)$").matcher(metrics);
                assertTrue(gapBytes.find(), metrics);
                assertEquals(expected.length - buffer, Long.parseLong(gapBytes.group(1)));
                assertTrue(metrics.contains("\nwsexec_kept_jobs 1\n"), metrics);
                assertTrue(metrics.contains("\nwsexec_kept_log_bytes " + buffer + "\n"), metrics);
            }
        }
    }

    @Test
    void anUnwatchedJobEndsAfterItsKeepTimeAndIsForgotten() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (TestServer server = TestServer.exec(config(8 << 20))) {
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                a.sendText("{\"type\":\"exec\",\"id\":\"a\",\"command\":\"sleep 300\",\"keep\":\"2s\",\"env\":{\"WSEXEC_MARKER\":\""
                        + marker + "\"}}");
                Map<String, Object> started = next(a);
                job = (String) started.get("job");
                assertTrue(Processes.await(5000, () -> !Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty()));
            }
            long left = System.nanoTime();
            // Kept: still running a second after its connection left.
            Thread.sleep(1000);
            assertTrue(!Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty(), "a kept job ended with its connection");
            assertTrue(Processes.await(2000 + 1000 + 2000, () -> Processes.withEnvironment("WSEXEC_MARKER", marker).isEmpty()),
                    "the job outlived its keep time");
            assertTrue((System.nanoTime() - left) / 1_000_000 >= 1900, "ended before its keep time");
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "b", job, "\"start\"", false);
                Map<String, Object> answer = next(b);
                assertEquals("no_such_job", answer.get("code"), answer.toString());
            }
        }
    }

    @Test
    void attachingToAnUnknownJobIsNoSuchJobAndKeepIsChecked() throws Exception {
        try (TestServer server = TestServer.exec(config(8 << 20));
             RawClient a = RawClient.open(server.port())) {
            attach(a, "x", "AAAAAAAAAAAAAAAAAAAAAA", "\"start\"", false);
            assertEquals("no_such_job", next(a).get("code"));
            a.sendText("{\"type\":\"exec\",\"id\":\"k\",\"command\":\"true\",\"keep\":\"soon\"}");
            assertEquals("bad_request", next(a).get("code"));
            a.sendText("{\"type\":\"exec\",\"id\":\"k\",\"command\":\"true\",\"keep\":\"2h\"}"); // over --keep-max 1h
            assertEquals("bad_request", next(a).get("code"));
        }
    }

    @Test
    void fiftyDetachedJobsPrinting100MbEachHoldNoMoreThanTheirBuffers() throws Exception {
        // The numbers: 5 GB printed in all, through 1 MiB buffers (~15 s here).
        int buffer = 1 << 20;
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        try (TestServer server = TestServer.exec(config(buffer))) {
            System.gc();
            long before = memory.getHeapMemoryUsage().getUsed();
            List<String> jobs = new ArrayList<>();
            try (RawClient a = RawClient.open(server.port())) {
                for (int i = 0; i < 50; i++) {
                    jobs.add(startKept(a, "j" + i, "sleep 1; head -c 100000000 /dev/zero; echo done >&2", "10m"));
                }
            } // detached: nobody holds the writers back, the logs overwrite
            for (String job : jobs) {
                awaitExited(server.port(), job, 180_000);
            }
            System.gc();
            long held = memory.getHeapMemoryUsage().getUsed() - before;
            long bound = 50L * 2 * buffer + (64L << 20);
            assertTrue(held <= bound, "heap grew by " + (held >> 20) + " MiB, bound " + (bound >> 20) + " MiB");
            try (RawClient b = RawClient.open(server.port())) { // and every one of them still replays its tail
                attach(b, "r", jobs.get(49), "\"start\"", true);
                Watch replay = watchToExit(b, new Watch());
                assertEquals(1, replay.gaps.size());
                assertEquals(buffer, replay.stdout.size());
                assertEquals("done\n", replay.stderr.toString(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void withAKeepDirAReplayFromTheStartIsExactFarBeyondTheMemoryBuffer() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("wsexec-keep");
        java.nio.file.Path stray = java.nio.file.Files.writeString(dir.resolve("OldJobOfAnEarlierRun.stdout.0"), "old");
        java.nio.file.Path unrelated = java.nio.file.Files.writeString(dir.resolve("notes.txt"), "mine");
        int buffer = 64 << 10;
        ExecEndpoint.Config config = config(buffer).withKeep(new ExecEndpoint.Config.Keep(Duration.ofHours(1), buffer, 64, dir, 1L << 30));
        try (TestServer server = TestServer.exec(config)) {
            assertTrue(!java.nio.file.Files.exists(stray), "files of jobs from an earlier run are removed at start");
            assertTrue(java.nio.file.Files.exists(unrelated), "other files are left alone");
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                job = startKept(a, "a", "sleep 0.5; seq 1 500000", "3s");
            }
            awaitExited(server.port(), job);
            try (var files = java.nio.file.Files.list(dir)) {
                List<java.nio.file.Path> logs = files.filter(p -> p.getFileName().toString().startsWith(job)).toList();
                assertTrue(!logs.isEmpty(), "no log files in " + dir);
                for (java.nio.file.Path log : logs) {
                    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(log)));
                }
            }
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "r", job, "\"start\"", true);
                Watch replay = watchToExit(b, new Watch());
                assertTrue(replay.gaps.isEmpty(), "a gap despite the files: " + replay.gaps);
                assertArrayEquals(sha256(run("seq 1 500000")), sha256(replay.stdout.toByteArray()));
            }
            // Forgotten after its keep time unwatched: its files go with it.
            assertTrue(Processes.await(10_000, () -> {
                try (var files = java.nio.file.Files.list(dir)) {
                    return files.noneMatch(p -> p.getFileName().toString().startsWith(job));
                } catch (IOException e) {
                    return false;
                }
            }), "the log files outlived the job");
        }
    }

    @Test
    void pastKeepMaxBytesTheOldestSegmentGoesAsOneGap() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("wsexec-keep");
        int buffer = 64 << 10;
        long maxBytes = 1 << 20; // segments of 256 KiB
        ExecEndpoint.Config config = config(buffer).withKeep(new ExecEndpoint.Config.Keep(Duration.ofHours(1), buffer, 64, dir, maxBytes));
        try (TestServer server = TestServer.exec(config)) {
            String job;
            try (RawClient a = RawClient.open(server.port())) {
                job = startKept(a, "a", "sleep 0.5; seq 1 500000", "60s");
            }
            awaitExited(server.port(), job);
            byte[] expected = run("seq 1 500000");
            try (RawClient b = RawClient.open(server.port())) {
                attach(b, "r", job, "\"start\"", true);
                Watch replay = watchToExit(b, new Watch());
                assertEquals(1, replay.gaps.size(), replay.gaps.toString());
                long to = (Long) replay.gaps.get(0).get("to");
                assertEquals(0, to % (256 << 10), "the gap ends at a segment's start: " + to);
                assertTrue(expected.length - to <= maxBytes + (256 << 10) && expected.length - to > maxBytes - (256 << 10),
                        "about --keep-max-bytes kept: " + (expected.length - to));
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, (int) to, expected.length), replay.stdout.toByteArray());
            }
        }
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return java.security.MessageDigest.getInstance("SHA-256").digest(data);
    }
}
