package wsexec.websocket;

import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The Inflater of one connection's incoming compressed messages, RFC 7692 §7.2.2: made when a
 * compressed message begins, ended when it is whole (the server always agrees
 * {@code client_no_context_takeover}, so nothing is kept between messages), and ended by
 * {@link #end()} when the connection closes in the middle of one — from whatever thread closes it,
 * which is why every use holds a lock.
 *
 * <p>The receiving thread feeds it payload pieces with {@link #setInput} and pulls inflated
 * bytes with {@link #inflate}, into room it chooses: it never inflates more than it has room for,
 * so a decompression bomb costs at most the room given (see {@link Receiver}).
 */
final class MessageInflater {
    private final ReentrantLock lock = new ReentrantLock();
    /** Between {@link #begin()} and {@link #endMessage()}; null otherwise. Guarded by lock. */
    private Inflater inflater;
    private boolean ended;

    /** A compressed message begins. */
    void begin() throws ProtocolException {
        lock.lock();
        try {
            if (ended) {
                throw new ProtocolException(CloseCode.GOING_AWAY, "connection closed");
            }
            if (inflater == null) {
                inflater = PerMessageDeflate.newInflater(); // made on first use, ended by endMessage or end
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives the inflater the next compressed bytes; they must all be consumed (until
     * {@link #needsInput}) before the array is reused.
     */
    void setInput(byte[] input, int offset, int length) throws ProtocolException {
        lock.lock();
        try {
            check();
            inflater.setInput(input, offset, length);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Inflates into {@code out}, at most {@code length} bytes; 0 when it needs more input or the
     * DEFLATE data ended (see {@link #isStreamEnd}).
     *
     * @throws ProtocolException 1007 when the data is not valid DEFLATE (RFC 6455 §7.4.1: data
     *                           "not consistent with the type of the message")
     */
    int inflate(byte[] out, int offset, int length) throws ProtocolException {
        lock.lock();
        try {
            check();
            int n = inflater.inflate(out, offset, length);
            if (n == 0 && length > 0 && !inflater.needsInput() && !inflater.finished()) {
                // no progress and no want of input: a preset dictionary, which raw DEFLATE never asks for
                throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "compressed message asks for a dictionary");
            }
            return n;
        } catch (DataFormatException e) {
            throw new ProtocolException(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "compressed message is not valid DEFLATE data");
        } finally {
            lock.unlock();
        }
    }

    /** Whether all input given so far is consumed. */
    boolean needsInput() throws ProtocolException {
        lock.lock();
        try {
            check();
            return inflater.needsInput();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the DEFLATE data ended with a block marked BFINAL (RFC 1951 §3.2.3), which a sender
     * may use to end a message (RFC 7692 §7.2.3.4, "Using a DEFLATE Block with BFINAL Set to 1").
     */
    boolean isStreamEnd() throws ProtocolException {
        lock.lock();
        try {
            check();
            return inflater.finished();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The message is whole. No context is kept (client_no_context_takeover is always agreed), so
     * the Inflater is ended and the connection holds no zlib memory until the next compressed message.
     */
    void endMessage() {
        lock.lock();
        try {
            if (inflater != null) {
                PerMessageDeflate.end(inflater);
                inflater = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The connection is closing: ends the Inflater, now or as soon as the receiving thread lets go of it. */
    void end() {
        lock.lock();
        try {
            ended = true;
            if (inflater != null) {
                PerMessageDeflate.end(inflater);
                inflater = null;
            }
        } finally {
            lock.unlock();
        }
    }

    private void check() throws ProtocolException {
        if (inflater == null) {
            // ended by a close on another thread while a message was arriving; the connection is over
            throw new ProtocolException(CloseCode.GOING_AWAY, "connection closed");
        }
    }
}
