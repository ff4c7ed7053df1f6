package wsexec.websocket;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One server-side WebSocket connection over a blocking socket, after the
 * opening handshake: a thin loop around the pure {@link Receiver}.
 *
 * <p>One thread calls {@link #receive()} in a loop; it answers pings and Close
 * frames by itself and hands back data messages. Any thread may send; sends are
 * serialised by a lock, and each frame goes out in one {@code write} where the
 * caller leaves {@link #HEADROOM} bytes in front of its payload. A send blocks
 * while the peer is not reading: that is the backpressure the caller relies on.
 *
 * <p>To embed it, accept a TCP (or TLS) connection and hand it to {@link #accept(Socket, WebSocketLimits)}:
 * <pre>{@code
 * try (WebSocket ws = WebSocket.accept(socket, WebSocketLimits.DEFAULTS)) {
 *     for (Message m; (m = ws.receive()) != null; ) {
 *         if (m instanceof Message.Text text) {
 *             ws.sendText(text.text());
 *         }
 *     }
 * }
 * }</pre>
 * docs/EMBED.md has the whole server. The connection follows RFC 6455 §5 (framing), §5.5
 * (control frames), §7 (closing) and, when the client offers it, RFC 7692 (permessage-deflate).
 */
public final class WebSocket implements AutoCloseable {

    /** Room a caller leaves in front of a payload for the largest unmasked header. */
    public static final int HEADROOM = 10;

    /**
     * The receive buffer starts this small, so that thousands of quiet connections
     * cost little memory, and goes back to it when traffic is light again. A Pong, or an
     * {@code exec} of a short command, fits; a larger message fills it and it grows.
     */
    static final int MIN_RECEIVE_BUFFER = 128;

    /** The thread that ends a closing handshake the peer does not finish (see {@link #close(int, String)}). */
    private volatile Thread closeTimer;

    /** A read that fills the receive buffer makes it four times larger, up to this. */
    static final int MAX_RECEIVE_BUFFER = 64 * 1024;
    /** The most bytes {@link #gatherReplies} gathers before it writes them (the size of its buffer). */
    static final int GATHER_LIMIT = 64 * 1024;

    /** RFC 6455 §7.1: the states a connection moves through after the handshake. */
    public enum State {
        /** Messages flow both ways. */
        OPEN,
        /** We sent a Close frame and wait for the peer's (§7.1.2); we send nothing more. */
        CLOSE_SENT,
        /** The closing handshake is over or the connection failed; the socket is closed. */
        CLOSED
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final WebSocketLimits limits;
    private final Receiver receiver;
    private ByteBuffer buffer = ByteBuffer.allocate(MIN_RECEIVE_BUFFER).flip(); // only the receiving thread uses it
    private int lastRead;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final FrameObserver observer;
    /** The permessage-deflate agreement of the handshake (RFC 7692), or null: nothing is compressed. */
    private final PerMessageDeflate.Agreement deflate;
    /** Data frames sent but not yet written, when {@link #gatherReplies} is on; guarded by writeLock. */
    private byte[] gathered;
    private int gatheredLength;
    private volatile boolean gatherReplies;

    private volatile State state = State.OPEN;
    /** Runs once when the connection stops being open: see {@link #onClosing(Runnable)}. */
    private volatile Runnable closingListener;
    private final java.util.concurrent.atomic.AtomicBoolean closingFired = new java.util.concurrent.atomic.AtomicBoolean();
    /** The Application data of a Ping whose Pong waits for the sender holding the write lock (§5.5.3). */
    private volatile byte[] pendingPong;
    private volatile int closeCodeReceived = CloseCode.ABNORMAL_CLOSURE;
    private volatile int closeCodeSent = -1;
    private volatile long lastReceivedNanos = System.nanoTime();
    /** The opening handshake's request and chosen subprotocol, when {@link #accept} made this connection. */
    private HttpRequest request;
    private String subprotocol;

    /**
     * Runs the server's side of the opening handshake (RFC 6455 §4.2) on a connection just
     * accepted, with no subprotocol, and returns the open WebSocket. The same as
     * {@link #accept(Socket, WebSocketLimits, List) accept(socket, limits, List.of())}.
     *
     * @param socket a connected socket, plain or TLS ({@link javax.net.ssl.SSLSocket})
     * @param limits the limits of the connection; {@link WebSocketLimits#deflate()} says whether
     *               to accept permessage-deflate (RFC 7692) when the client offers it
     * @return the open connection; the 101 answer has been sent
     * @throws HandshakeException the request is no valid opening handshake: the HTTP error answer
     *                            (400, 426, 431) has been sent and the socket is closed
     * @throws IOException        the connection failed or ended during the handshake; the socket is closed
     */
    public static WebSocket accept(Socket socket, WebSocketLimits limits) throws IOException, HandshakeException {
        return accept(socket, limits, List.of());
    }

    /**
     * Runs the server's side of the opening handshake (RFC 6455 §4.2) on a connection just
     * accepted, and returns the open WebSocket: reads the request head (at most
     * {@link Handshake#MAX_HEAD_BYTES}), checks it (§4.2.1), agrees permessage-deflate if the
     * client offers it and {@code limits} allow it (RFC 7692 §5), picks a subprotocol (§4.2.2
     * step 4) and sends the 101 answer (§4.2.2 step 5).
     *
     * <p>The request path, query and headers are not judged here: look at {@link #request()}
     * and {@link #close(int, String) close} with {@link CloseCode#POLICY_VIOLATION} what you do
     * not want. A client that sends its head slowly is bounded only by the socket's read timeout
     * ({@link Socket#setSoTimeout}), which applies to each read: set one before, and reset it after.
     *
     * @param socket       a connected socket, plain or TLS ({@link javax.net.ssl.SSLSocket})
     * @param limits       the limits of the connection (message size, fragments, close timeout, deflate)
     * @param subprotocols the subprotocols this server speaks, most preferred first; the first one
     *                     the client offers is chosen ({@link #subprotocol()}); empty for none
     * @return the open connection; the 101 answer has been sent
     * @throws HandshakeException the request is no valid opening handshake: the HTTP error answer
     *                            (400, 426, 431) has been sent and the socket is closed
     * @throws IOException        the connection failed or ended during the handshake; the socket is closed
     */
    public static WebSocket accept(Socket socket, WebSocketLimits limits, List<String> subprotocols)
            throws IOException, HandshakeException {
        try {
            // Small: the head is read through it byte by byte, and frames after it come through it too.
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1024);
            try {
                byte[] head = Handshake.readHead(in, Handshake.MAX_HEAD_BYTES);
                HttpRequest request = HttpRequest.parse(head, head.length);
                String acceptValue = Handshake.accept(request);
                PerMessageDeflate.Agreement deflate = PerMessageDeflate.negotiate(request, limits.deflate());
                String subprotocol = Handshake.subprotocol(request, subprotocols);
                socket.getOutputStream().write(Handshake.switchingProtocols(acceptValue,
                        deflate == null ? null : deflate.response(), subprotocol));
                WebSocket webSocket = new WebSocket(socket, in, limits, null, deflate);
                webSocket.request = request;
                webSocket.subprotocol = subprotocol;
                return webSocket;
            } catch (HandshakeException e) {
                socket.getOutputStream().write(Handshake.errorResponse(e));
                throw e;
            }
        } catch (IOException | HandshakeException | RuntimeException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            throw e;
        }
    }

    /**
     * The client's opening handshake (path, query, headers such as {@code Origin}), when
     * {@link #accept} made this connection; null for one made with a constructor.
     *
     * @return the request head, or null
     */
    public HttpRequest request() {
        return request;
    }

    /**
     * The subprotocol agreed in the opening handshake (RFC 6455 §1.9, §4.2.2), or null for none.
     *
     * @return the {@code Sec-WebSocket-Protocol} the server answered with, or null
     */
    public String subprotocol() {
        return subprotocol;
    }

    /**
     * A connection whose opening handshake the caller has done itself (as {@code wsexec.server}
     * does, to check access between the request and the 101); embedders use {@link #accept}.
     *
     * @param socket   the connection, after the 101 was sent
     * @param in       a stream of the socket's input; may be buffered, and may hold bytes
     *                 that arrived right after the handshake
     * @param limits   the limits to enforce
     * @param observer told about every frame in both directions (counting, tracing); may be null
     * @throws IOException if the socket's output stream cannot be had
     */
    public WebSocket(Socket socket, InputStream in, WebSocketLimits limits, FrameObserver observer) throws IOException {
        this(socket, in, limits, observer, null);
    }

    /**
     * The same, with permessage-deflate (RFC 7692) as agreed in the handshake.
     *
     * @param socket   the connection, after the 101 was sent
     * @param in       a stream of the socket's input, as above
     * @param limits   the limits to enforce
     * @param observer told about every frame in both directions; may be null
     * @param deflate  what {@link PerMessageDeflate#negotiate} agreed in the handshake, or null for
     *                 no extension: data messages of at least its threshold are then sent compressed,
     *                 and compressed messages are accepted
     * @throws IOException if the socket's output stream cannot be had
     */
    public WebSocket(Socket socket, InputStream in, WebSocketLimits limits, FrameObserver observer,
                     PerMessageDeflate.Agreement deflate) throws IOException {
        this.socket = socket;
        this.in = in;
        this.out = socket.getOutputStream();
        this.limits = limits;
        this.observer = observer;
        this.deflate = deflate;
        this.receiver = new Receiver(true, limits, observer, deflate);
    }

    /**
     * Whether permessage-deflate (RFC 7692) was agreed for this connection.
     *
     * @return true if messages may go compressed both ways
     */
    public boolean compression() {
        return deflate != null;
    }

    /**
     * Where the connection is in its life, §7.1.
     *
     * @return the current state
     */
    public State state() {
        return state;
    }

    /**
     * Registers what to do as soon as this connection stops being open, on whichever thread
     * first sees it: a Close frame received (before it is answered) or sent, a protocol failure,
     * or {@link #abort()} (end of stream, a reset, a keepalive or close timeout, a server stop).
     * It runs once, at most; if the connection is already closing it runs at once, here.
     * The listener must not block: it is how a server ends the work a connection owns
     * without waiting for the closing handshake, which a peer that reads nothing can hold up.
     *
     * @param listener what to run; replaces any listener registered before
     */
    public void onClosing(Runnable listener) {
        closingListener = listener;
        if (state != State.OPEN) {
            fireClosing();
        }
    }

    private void fireClosing() {
        Runnable listener = closingListener;
        if (listener != null && closingFired.compareAndSet(false, true)) {
            listener.run();
        }
    }

    /**
     * The code of the Close frame the peer sent (§7.1.5).
     *
     * @return the code; 1005 if the frame had none, 1006 if there was no Close frame (yet)
     */
    public int closeCodeReceived() {
        return closeCodeReceived;
    }

    /**
     * The code of the Close frame we sent.
     *
     * @return the code, or -1 if none was sent
     */
    public int closeCodeSent() {
        return closeCodeSent;
    }

    /**
     * When the last bytes arrived from the peer, for keepalive and idle checks.
     *
     * @return a {@link System#nanoTime()} value
     */
    public long lastReceivedNanos() {
        return lastReceivedNanos;
    }

    /**
     * Blocks until the next text or binary message arrives and returns it;
     * returns {@code null} once the connection is closed, cleanly or not.
     * Pings are answered (§5.5.2) and Close frames handled (§5.5.1, §7.1) on the way; a broken
     * rule of §5 fails the connection with its close code (§7.1.7, §7.4.1: 1002, 1007, 1008,
     * 1009), after which this returns null.
     *
     * @return a {@link Message.Text} or {@link Message.Binary}, or null once the connection is closed
     * @throws IOException            when reading fails in a way that is not the connection's end
     * @throws SocketTimeoutException when the socket has a read timeout set by the
     *                                caller and it expires while the connection is open
     */
    public Message receive() throws IOException {
        while (state != State.CLOSED) {
            Message message;
            try {
                message = receiver.receive(buffer);
            } catch (ProtocolException e) {
                fail(e.closeCode(), e.getMessage());
                return null;
            }
            if (message == null) {
                if (!fill()) {
                    return null;
                }
                continue;
            }
            switch (message) {
                case Message.Ping ping -> {
                    // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response"
                    if (state == State.OPEN) {
                        pong(ping.data());
                    }
                }
                case Message.Pong pong -> {
                    // §5.5.3: an unsolicited Pong needs no answer
                }
                case Message.Close close -> {
                    onClose(close);
                    return null;
                }
                case Message.Text text -> {
                    if (state == State.OPEN) {
                        return text;
                    }
                }
                case Message.Binary binary -> {
                    if (state == State.OPEN) {
                        return binary;
                    }
                }
            }
        }
        return null;
    }

    /**
     * From now on, data frames are gathered in memory and written together: just before this
     * connection next waits for input, before any control frame, or when {@link #GATHER_LIMIT}
     * bytes have gathered. For an endpoint that only answers what it receives (echo): a burst of
     * n messages that arrived together is answered with one write instead of n, and no answer
     * waits for anything but the parsing of what already arrived; there is no timer.
     *
     * <p>Only for connections whose data frames are all sent by the thread that calls
     * {@link #receive()}: a frame another thread sends would wait for that thread's next read.
     */
    public void gatherReplies() {
        gatherReplies = true;
    }

    /**
     * Sends a whole text message in one frame (§5.6), compressed if agreed and worth it.
     *
     * @param text the message
     * @throws IOException when the connection is no longer open or the write fails
     */
    public void sendText(String text) throws IOException {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[HEADROOM + utf8.length];
        System.arraycopy(utf8, 0, frame, HEADROOM, utf8.length);
        sendFrame(Opcode.TEXT, frame, HEADROOM, utf8.length);
    }

    /**
     * Sends a whole binary message in one frame (§5.6), compressed if agreed and worth it.
     *
     * @param data the message
     * @throws IOException when the connection is no longer open or the write fails
     */
    public void sendBinary(byte[] data) throws IOException {
        byte[] frame = new byte[HEADROOM + data.length];
        System.arraycopy(data, 0, frame, HEADROOM, data.length);
        sendFrame(Opcode.BINARY, frame, HEADROOM, data.length);
    }

    /**
     * Sends one final frame whose payload already sits in {@code buffer} at
     * {@code offset}, with at least {@link #HEADROOM} bytes free before it: the
     * header is written there and the frame goes out in one write. For text the
     * caller vouches that the payload is valid UTF-8.
     *
     * <p>With permessage-deflate agreed, a data payload of at least the threshold is compressed
     * first (outside the lock, so control frames need not wait for it) into a new buffer, and goes
     * out with RSV1 set if that made it smaller (RFC 7692 §6.1); anything else takes the path above.
     *
     * @param opcode {@link Opcode#TEXT} or {@link Opcode#BINARY}
     * @param buffer holds the payload, with room for the header in front of it
     * @param offset where the payload starts; at least {@link #HEADROOM}
     * @param length the payload's length
     * @throws IOException              when the connection is no longer open or the write fails
     * @throws IllegalArgumentException when {@code offset} leaves too little headroom
     */
    public void sendFrame(Opcode opcode, byte[] buffer, int offset, int length) throws IOException {
        if (offset < HEADROOM) {
            throw new IllegalArgumentException("payload needs " + HEADROOM + " bytes of headroom");
        }
        if (deflate != null && !opcode.isControl() && length >= deflate.threshold() && state == State.OPEN) {
            PerMessageDeflate.Compressed compressed = PerMessageDeflate.compress(deflate, buffer, offset, length);
            if (compressed != null) {
                // RFC 7692 §6.1: the "Per-Message Compressed" bit, RSV1, on the message's first (here: only) frame
                sendFrame(PerMessageDeflate.RSV1, opcode, compressed.array(), HEADROOM, compressed.length());
                if (observer != null) {
                    observer.compression(true, length, compressed.length());
                }
                return;
            }
        }
        sendFrame(0, opcode, buffer, offset, length);
    }

    private void sendFrame(int rsv, Opcode opcode, byte[] buffer, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            if (state != State.OPEN) {
                throw new IOException("WebSocket is " + state);
            }
            int start = FrameEncoder.writeHeaderBefore(buffer, offset, true, rsv, opcode, length);
            if (gatherReplies) {
                gather(buffer, start, offset + length - start, offset);
            } else {
                write(buffer, start, offset + length - start, offset);
            }
            writePendingPong();
        } finally {
            writeLock.unlock();
        }
        if (pendingPong != null) {
            flushPendingPong(); // a Ping answered while we held the lock, after our last look
        }
    }

    /**
     * Answers a Ping without ever waiting for the write lock: a sender blocked on a peer that
     * reads nothing holds it, and the receiving thread must stay free to see the connection end.
     * If the lock is taken, the Pong is left for its holder, which writes it after its frame.
     * §5.5.3 lets a Pong answer only the most recent Ping, so one pending Pong is enough.
     */
    private void pong(byte[] data) throws IOException {
        pendingPong = data;
        flushPendingPong();
    }

    private void flushPendingPong() throws IOException {
        if (!writeLock.tryLock()) {
            return; // the holder writes it: it looks again after it unlocks
        }
        try {
            writePendingPong();
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes the pending Pong, if any. Lock held. */
    private void writePendingPong() throws IOException {
        byte[] data = pendingPong;
        if (data == null || state != State.OPEN) {
            return;
        }
        pendingPong = null;
        writeControl(Opcode.PONG, data);
    }

    /** Writes one control frame (§5.5: final, unmasked from a server, at most 125 bytes). Lock held. */
    private void writeControl(Opcode opcode, byte[] data) throws IOException {
        byte[] frame = new byte[2 + data.length];
        int h = FrameEncoder.writeHeader(frame, 0, true, 0, opcode, data.length, false, 0);
        System.arraycopy(data, 0, frame, h, data.length);
        write(frame, 0, frame.length, h);
    }

    /**
     * Sends a Ping frame (§5.5.2); the peer's Pong is consumed by {@link #receive()}. Nothing is
     * sent once the connection is closing.
     *
     * @param data up to 125 bytes of application data (§5.5)
     * @throws IOException when the write fails
     */
    public void ping(byte[] data) throws IOException {
        sendControl(Opcode.PING, data);
    }

    /**
     * Starts the closing handshake (§7.1.2): sends a Close frame and lets
     * {@link #receive()} wait, at most the close timeout, for the peer's.
     * Does nothing if a Close frame was already sent.
     *
     * @param code   the status code (§7.4; {@link CloseCode})
     * @param reason a short reason, at most 123 bytes of UTF-8 (§5.5.1)
     */
    public void close(int code, String reason) {
        if (state != State.OPEN) {
            return;
        }
        // A send blocked on a peer that reads nothing holds the lock: the close timeout bounds
        // the wait for it too (§7.1.1), and the work the connection owns ends meanwhile.
        fireClosing();
        if (!lockWithin(limits.closeTimeout())) {
            abort();
            return;
        }
        try {
            if (state != State.OPEN) {
                return;
            }
            if (!trySendClose(FrameEncoder.closeBody(code, reason), code)) {
                abort();
                return;
            }
            state = State.CLOSE_SENT;
        } finally {
            writeLock.unlock();
        }
        // §7.1.1: do not wait forever for the answer. A read already blocked does not see a new
        // socket timeout, so a sleeping virtual thread closes the socket if the deadline passes.
        // When the connection closes first, abort() wakes it so it does not outlive the connection.
        closeTimer = Thread.ofVirtual().name("websocket-close-timeout").start(() -> {
            try {
                Thread.sleep(limits.closeTimeout());
            } catch (InterruptedException e) {
                return; // closed in time
            }
            if (state != State.CLOSED) {
                abort();
            }
        });
        if (state == State.CLOSED) {
            closeTimer.interrupt(); // closed while the timer started
        }
    }

    /** Closes the socket at once, without a closing handshake (§7.1.1 "Close the WebSocket Connection"). */
    public void abort() {
        state = State.CLOSED;
        fireClosing();
        receiver.release(); // RFC 7692: a message half inflated holds a zlib stream; end it on every way out
        Thread timer = closeTimer;
        if (timer != null && timer != Thread.currentThread()) {
            timer.interrupt();
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        abort();
    }

    /** §7.1.7 "Fail the WebSocket Connection": send a Close frame with the reason, then close. */
    private void fail(int code, String reason) {
        fireClosing();
        if (!lockWithin(limits.closeTimeout())) {
            abort(); // a send is blocked on a peer that reads nothing: no Close frame can follow it
            return;
        }
        try {
            if (state == State.OPEN) {
                trySendClose(FrameEncoder.closeBody(code, reason), code);
            }
            state = State.CLOSED;
        } finally {
            writeLock.unlock();
        }
        receiver.release(); // a failed compressed message gives its zlib stream back now, not after the drain
        drainAndClose();
    }

    /**
     * Takes the write lock, waiting at most {@code timeout}; false if a send held it all that time.
     * An interrupt is kept and counts as "not in time".
     */
    private boolean lockWithin(java.time.Duration timeout) {
        try {
            return writeLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** §5.5.1: the peer's Close frame: answer it if we have not sent one, then close the TCP connection. */
    private void onClose(Message.Close close) {
        closeCodeReceived = close.code();
        // The peer is done: what the connection owns ends now, not after the closing handshake.
        fireClosing();
        if (!lockWithin(limits.closeTimeout())) {
            abort(); // our send is blocked on a peer that sent Close and reads nothing: §7.1.1 bounds it
            return;
        }
        try {
            if (state == State.OPEN) {
                    // "the endpoint ... typically echos the status code it received"; a body-less Close gets one back
                byte[] body = close.code() == CloseCode.NO_STATUS_RECEIVED ? new byte[0] : FrameEncoder.closeBody(close.code(), "");
                trySendClose(body, close.code() == CloseCode.NO_STATUS_RECEIVED ? -1 : close.code());
            }
            state = State.CLOSED;
        } finally {
            writeLock.unlock();
        }
        // §7.1.1: "the underlying TCP connection ... SHOULD be closed first by the server"
        drainAndClose();
    }

    /** Sends a Close frame while holding the write lock; false if the socket is already broken. */
    private boolean trySendClose(byte[] body, int code) {
        try {
            writeControl(Opcode.CLOSE, body);
            closeCodeSent = code;
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void sendControl(Opcode opcode, byte[] data) throws IOException {
        writeLock.lock();
        try {
            if (state != State.OPEN) {
                return;
            }
            writeControl(opcode, data);
            writePendingPong();
        } finally {
            writeLock.unlock();
        }
        if (pendingPong != null) {
            flushPendingPong();
        }
    }

    /**
     * Writes a frame, after any gathered ones (they were sent first); {@code payloadStart} tells
     * the observer where its payload begins. Lock held.
     */
    private void write(byte[] frame, int start, int length, int payloadStart) throws IOException {
        writeGathered();
        if (observer != null) {
            observeOutgoing(frame, start, length, payloadStart);
        }
        out.write(frame, start, length);
    }

    /** Adds a frame to the gathered ones; one too large to gather is written at once. Lock held. */
    private void gather(byte[] frame, int start, int length, int payloadStart) throws IOException {
        if (gatheredLength + length > GATHER_LIMIT) {
            writeGathered();
        }
        if (length > GATHER_LIMIT) {
            write(frame, start, length, payloadStart);
            return;
        }
        if (gathered == null) {
            gathered = new byte[GATHER_LIMIT];
        }
        if (observer != null) {
            observeOutgoing(frame, start, length, payloadStart);
        }
        System.arraycopy(frame, start, gathered, gatheredLength, length);
        gatheredLength += length;
    }

    /** Writes the gathered frames in one write. Lock held. */
    private void writeGathered() throws IOException {
        if (gatheredLength > 0) {
            int length = gatheredLength;
            gatheredLength = 0;
            out.write(gathered, 0, length);
        }
    }

    private void observeOutgoing(byte[] frame, int start, int length, int payloadStart) {
        int first = frame[start] & 0xFF;
        long payloadLength = start + length - payloadStart;
        FrameHeader header = new FrameHeader((first & FrameHeader.FIN) != 0, (first & FrameHeader.RSV) >>> 4,
                Opcode.of(first & FrameHeader.OPCODE), false, 0, payloadLength, FrameHeader.lengthBitsFor(payloadLength));
        observer.frame(true, header, frame, payloadStart, (int) payloadLength);
    }

    /** Reads more bytes into the buffer; false when the connection has ended. */
    private boolean fill() throws IOException {
        if (gatherReplies) {
            // about to wait for input: the answers to what came before go out first
            writeLock.lock();
            try {
                if (state != State.CLOSED) {
                    writeGathered();
                }
            } catch (IOException e) {
                abort(); // the peer is gone: as a failed send, the connection ends
                return false;
            } finally {
                writeLock.unlock();
            }
        }
        resizeBuffer();
        buffer.compact();
        try {
            while (true) {
                try {
                    int room = buffer.remaining();
                    int n = in.read(buffer.array(), buffer.arrayOffset() + buffer.position(), room);
                    if (n < 0) {
                        abort(); // EOF without a Close frame: closeCodeReceived stays 1006
                        return false;
                    }
                    lastRead = n == room ? -1 : n; // -1: the read filled the buffer, more is likely waiting
                    buffer.position(buffer.position() + n);
                    lastReceivedNanos = System.nanoTime();
                    return true;
                } catch (SocketTimeoutException e) {
                    if (state == State.OPEN) {
                        throw e; // the caller's own read timeout (keepalive, idle)
                    }
                    // closing: keep waiting; the close timeout ends the wait
                }
            }
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            abort();
            return false;
        } finally {
            buffer.flip();
        }
    }

    /**
     * Grows the buffer after a read that filled it (data is streaming in: fewer, larger
     * reads), and shrinks it back once everything is consumed and reads are small again
     * (an idle connection should not keep 64 KiB). Called with the buffer in read mode.
     */
    private void resizeBuffer() {
        int capacity = buffer.capacity();
        int target = capacity;
        if (lastRead < 0 && capacity < MAX_RECEIVE_BUFFER) {
            target = Math.min(MAX_RECEIVE_BUFFER, capacity * 4);
        } else if (lastRead >= 0 && lastRead <= MIN_RECEIVE_BUFFER / 2 && capacity > MIN_RECEIVE_BUFFER && !buffer.hasRemaining()) {
            target = MIN_RECEIVE_BUFFER;
        }
        if (target != capacity) {
            ByteBuffer resized = ByteBuffer.allocate(Math.max(target, buffer.remaining()));
            resized.put(buffer).flip();
            buffer = resized;
        }
    }

    /**
     * After the last frame: half-close our side (our FIN follows the Close
     * frame), then read and discard until the peer closes too or the close
     * timeout passes. Closing with unread input would make the kernel send a
     * reset, which can destroy the Close frame before the peer reads it.
     */
    private void drainAndClose() {
        try {
            socket.shutdownOutput();
            long deadline = System.nanoTime() + limits.closeTimeout().toNanos();
            byte[] sink = new byte[512]; // usually nothing comes: thousands of closes should not cost 8 KiB each
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                if (in.read(sink) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            // the peer is gone or too slow: close regardless
        } finally {
            abort();
        }
    }

}
