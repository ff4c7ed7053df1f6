package wsexec.websocket;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * Issue #20's floor for W1/W3 with permessage-deflate: the time {@code java.util.zip.Deflater}
 * alone takes to compress the same bytes in the chunks the server sends (one message per pipe read,
 * up to 64 KiB), each message on its own as {@code server_no_context_takeover} makes it, at the
 * given level. bench.js adds it to the pipe's time in the same run. Prints
 * {@code {"ms":…,"raw":…,"compressed":…}} (the median of 7 runs after 3 warm-ups).
 *
 * <p>Usage: {@code DeflateFloor FILE LEVEL}. Not a test: it asserts nothing.
 */
public final class DeflateFloor {
    private DeflateFloor() {
    }

    public static void main(String[] args) throws Exception {
        byte[] data = Files.readAllBytes(Path.of(args[0]));
        int level = Integer.parseInt(args[1]);
        int chunk = 64 * 1024;
        byte[] out = new byte[chunk + 1024];
        double[] times = new double[7];
        long compressed = 0;
        for (int run = -3; run < times.length; run++) {
            long total = 0;
            long start = System.nanoTime();
            for (int off = 0; off < data.length; off += chunk) {
                int len = Math.min(chunk, data.length - off);
                Deflater deflater = new Deflater(level, true);
                deflater.setInput(data, off, len);
                int n;
                do {
                    n = deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
                    total += n;
                } while (n == out.length);
                deflater.end();
            }
            double ms = (System.nanoTime() - start) / 1e6;
            if (run >= 0) {
                times[run] = ms;
            }
            compressed = total - 4L * ((data.length + chunk - 1) / chunk); // RFC 7692 §7.2.1: the 00 00 ff ff tail goes
        }
        Arrays.sort(times);
        System.out.println("{\"ms\":" + times[times.length / 2] + ",\"raw\":" + data.length + ",\"compressed\":" + compressed + "}");
    }
}
