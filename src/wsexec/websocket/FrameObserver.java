package wsexec.websocket;

/**
 * Sees every frame of a connection in both directions, for counting and tracing. It is told
 * about a frame; it cannot change or stop it. Calls come from the thread that reads (incoming)
 * or the thread that writes (outgoing, with the write lock held), so an observer must be quick
 * and must not call back into the {@link WebSocket}.
 */
public interface FrameObserver {

    /**
     * A frame went out or came in.
     *
     * @param outgoing true for a frame the server sent, false for one it received
     * @param header   the frame's header as it is on the wire (for incoming frames, with the
     *                 masking key the client chose)
     * @param payload  outgoing: the whole payload; incoming: the first
     *                 {@code min(previewLimit(), payloadLength)} bytes of it, already unmasked
     *                 (fewer if the connection failed before they arrived)
     * @param offset   where those bytes start in {@code payload}
     * @param length   how many there are
     */
    void frame(boolean outgoing, FrameHeader header, byte[] payload, int offset, int length);

    /**
     * How many payload bytes of an incoming frame {@link #frame} wants to see. Zero, the default,
     * reports each incoming frame as soon as its header is complete and copies nothing; more
     * reports it once that many bytes (or the whole payload, if shorter) have arrived.
     *
     * @return a number of bytes, zero or more
     */
    default int previewLimit() {
        return 0;
    }

    /**
     * A compressed message (RFC 7692) went out or came in: its size before compression and on the
     * wire (payload bytes, without headers, and without the four bytes §7.2.1 removes). Outgoing,
     * right after its frame; incoming, once its last frame is inflated.
     *
     * @param outgoing           true for a message the server sent
     * @param uncompressedLength the message's size before compression (after inflating)
     * @param compressedLength   its compressed size on the wire
     */
    default void compression(boolean outgoing, long uncompressedLength, long compressedLength) {
    }
}
