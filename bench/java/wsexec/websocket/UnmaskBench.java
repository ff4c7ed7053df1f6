package wsexec.websocket;

import java.nio.ByteBuffer;

/**
 * Unmasking speed of the codec on large frames (bench/README.md, "echo path"): Masking.apply on
 * 1 MiB, and the whole FrameDecoder on masked 1 MiB frames as a server receives them. Prints GB/s
 * (10^9 bytes per second) after a warm-up; not a test, so it asserts nothing about speed.
 */
public final class UnmaskBench {
    private static final int SIZE = 1 << 20;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        byte[] payload = new byte[SIZE];
        new java.util.Random(7).nextBytes(payload);
        for (int round = 0; round < 2; round++) { // round 0 is the warm-up
            long bytes = 0;
            long start = System.nanoTime();
            int keyIndex = 0;
            while (System.nanoTime() - start < 1_000_000_000L) {
                keyIndex = Masking.apply(payload, 0, SIZE, 0x12345678, keyIndex);
                bytes += SIZE;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            sink += keyIndex + payload[SIZE / 2];
            if (round == 1) {
                System.out.printf("Masking.apply, 1 MiB at a time: %.2f GB/s%n", bytes / seconds / 1e9);
            }
        }
        byte[] frame = FrameEncoder.maskedFrame(true, Opcode.BINARY, payload, 0x9abcdef0);
        ByteBuffer in = ByteBuffer.wrap(frame.clone());
        FrameDecoder decoder = new FrameDecoder(true);
        for (int round = 0; round < 2; round++) {
            long bytes = 0;
            long start = System.nanoTime();
            while (System.nanoTime() - start < 1_000_000_000L) {
                System.arraycopy(frame, 0, in.array(), 0, frame.length); // a fresh masked frame, as from the socket
                in.clear();
                Object part;
                while ((part = decoder.next(in)) != null) {
                    if (part instanceof FrameDecoder.Payload p) {
                        bytes += p.length();
                        sink += p.array()[p.offset()];
                    } else {
                        sink += ((FrameHeader) part).payloadLength();
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (round == 1) {
                System.out.printf("FrameDecoder, masked 1 MiB frames (copy in + decode + unmask): %.2f GB/s%n", bytes / seconds / 1e9);
            }
        }
    }
}
