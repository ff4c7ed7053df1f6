package wsexec.websocket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Reads and writes eight bytes of an array at once (little-endian, any alignment). */
final class ByteArrays {
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private ByteArrays() {
    }

    static long readLong(byte[] bytes, int index) {
        return (long) LONGS.get(bytes, index);
    }

    static void writeLong(byte[] bytes, int index, long value) {
        LONGS.set(bytes, index, value);
    }
}
