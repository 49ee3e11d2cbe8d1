package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;

/**
 * Reads one message body from a connection's bytes by its framing (RFC 9112 §6): a length, chunks,
 * or the connection's end. Data goes to the sink as slices of the bytes read (nothing is copied);
 * chunk framing is taken off, so that the writer frames the data for the connection it goes out
 * on. Chunk lines and trailers are checked strictly; what is wrong is a {@link HttpHead.BadHead}.
 * Trailer fields that a recipient could take for framing, routing, authentication or controls
 * of the message are dropped (see {@link HopByHop#forbiddenInTrailers}).
 */
final class BodyReader {

    /** Where the body goes. */
    interface Sink {
        /** A part of the body (a retained slice, the receiver's to release). */
        void data(ByteBuf data);

        /** The body ended; {@code trailers} are the chunked body's trailer lines (each ending CR LF), or null. */
        void end(ByteBuf trailers);
    }

    static final int NONE = 0;
    static final int LENGTH = 1;
    static final int CHUNKED = 2;
    static final int UNTIL_CLOSE = 3;

    private static final int MAX_CHUNK_LINE = 4096;

    private static final int SIZE = 0;
    private static final int DATA = 1;
    private static final int DATA_END = 2;
    private static final int TRAILERS = 3;

    private final int badStatus;
    int mode;
    private long remaining;
    private int chunkState;
    private ByteBuf trailers;
    /** Bytes of trailer lines read, kept or not (what the size limit counts). */
    private int trailersSeen;
    private boolean ended;

    /** {@code badStatus}: 400 for a client's body, 502 for a backend's. */
    BodyReader(int badStatus) {
        this.badStatus = badStatus;
    }

    /** Starts a body; {@code length} counts for {@link #LENGTH} only. */
    void start(int mode, long length) {
        this.mode = mode;
        this.remaining = length;
        this.chunkState = SIZE;
        this.ended = mode == NONE || mode == LENGTH && length == 0;
        this.trailersSeen = 0;
        releaseTrailers();
    }

    boolean ended() {
        return ended;
    }

    /**
     * Consumes body bytes from {@code in} (up to the body's end, never beyond) and gives them to
     * the sink; the body's end too when it is reached. Returns whether the body ended.
     */
    boolean read(ByteBuf in, Sink sink) {
        while (!ended && in.isReadable()) {
            switch (mode) {
                case LENGTH -> {
                    ByteBuf part = take(in);
                    ended = remaining == 0;
                    sink.data(part);
                    if (ended) {
                        sink.end(null);
                    }
                }
                case UNTIL_CLOSE -> sink.data(in.readRetainedSlice(in.readableBytes()));
                case CHUNKED -> {
                    if (!chunked(in, sink)) {
                        return ended;
                    }
                }
                default -> throw new IllegalStateException("no body to read");
            }
        }
        return ended;
    }

    /** What {@code in} holds of the bytes still to come (a length's, or a chunk's), counted off. */
    private ByteBuf take(ByteBuf in) {
        int n = (int) Math.min(remaining, in.readableBytes());
        remaining -= n;
        return in.readRetainedSlice(n);
    }

    /** The connection closed: the end of a body delimited by it; anything else was cut short. */
    boolean closed(Sink sink) {
        if (!ended && mode == UNTIL_CLOSE) {
            ended = true;
            sink.end(null);
            return true;
        }
        return ended;
    }

    /** One step of chunked decoding; false when more bytes are needed. */
    private boolean chunked(ByteBuf in, Sink sink) {
        switch (chunkState) {
            case SIZE -> {
                int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
                if (lf < 0) {
                    if (in.readableBytes() > MAX_CHUNK_LINE) {
                        throw bad("chunk size line too long");
                    }
                    return false;
                }
                long size = chunkSize(in, in.readerIndex(), lf);
                in.readerIndex(lf + 1);
                if (size == 0) {
                    chunkState = TRAILERS;
                } else {
                    remaining = size;
                    chunkState = DATA;
                }
                return true;
            }
            case DATA -> {
                ByteBuf part = take(in);
                if (remaining == 0) {
                    chunkState = DATA_END;
                }
                sink.data(part);
                return true;
            }
            case DATA_END -> {
                byte c = in.getByte(in.readerIndex());
                if (c == '\n') {
                    in.skipBytes(1);
                } else if (c == '\r') {
                    if (in.readableBytes() < 2) {
                        return false;
                    }
                    if (in.getByte(in.readerIndex() + 1) != '\n') {
                        throw bad("chunk data not followed by a line break");
                    }
                    in.skipBytes(2);
                } else {
                    throw bad("chunk data longer than its size");
                }
                chunkState = SIZE;
                return true;
            }
            default -> {
                return trailer(in, sink);
            }
        }
    }

    /** Hex digits, optional extensions (ignored) each after a {@code ;}, a line break. */
    private long chunkSize(ByteBuf in, int from, int lf) {
        int end = lf > from && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        long size = 0;
        int i = from;
        for (; i < end; i++) {
            int d = Character.digit(in.getByte(i), 16);
            if (d < 0) {
                break;
            }
            if (size > (Long.MAX_VALUE >> 4)) {
                throw bad("chunk size too large");
            }
            size = size << 4 | d;
        }
        if (i == from) {
            throw bad("invalid chunk size");
        }
        while (i < end && (in.getByte(i) == ' ' || in.getByte(i) == '\t')) {
            i++;
        }
        if (i < end && in.getByte(i) != ';') {
            // RFC 9112 §7.1: after the size, only extensions, each after a ';'.
            throw bad("junk after a chunk size");
        }
        for (; i < end; i++) {
            byte c = in.getByte(i);
            if (c != ' ' && c != '\t' && c != ';' && !HttpHead.isToken(c) && c != '"' && c != '=' && c != '\\') {
                // Extensions are tokens, quoted strings and '=' after ';' (RFC 9112 §7.1.1): no controls.
                throw bad("invalid chunk extension");
            }
        }
        return size;
    }

    /** A trailer line, or the empty line that ends the body. */
    private boolean trailer(ByteBuf in, Sink sink) {
        int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() > Loop.MAX_HEADER_SIZE) {
                throw bad("trailers too large");
            }
            return false;
        }
        int from = in.readerIndex();
        int end = lf > from && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        in.readerIndex(lf + 1);
        if (end == from) {
            ended = true;
            ByteBuf t = trailers;
            trailers = null;
            sink.end(t);
            return true;
        }
        int colon = in.indexOf(from, end, (byte) ':');
        if (colon <= from) {
            throw bad("malformed trailer line");
        }
        for (int i = from; i < colon; i++) {
            if (!HttpHead.isToken(in.getByte(i))) {
                throw bad("invalid trailer name");
            }
        }
        for (int i = colon + 1; i < end; i++) {
            int c = in.getByte(i) & 0xff;
            if (c < ' ' && c != '\t' || c == 0x7f) {
                throw bad("invalid character in a trailer");
            }
        }
        if (trailersSeen + end - from > Loop.MAX_HEADER_SIZE) {
            throw bad("trailers too large");
        }
        trailersSeen += end - from;
        if (HopByHop.forbiddenInTrailers(in, from, colon - from)) {
            return true;
        }
        if (trailers == null) {
            trailers = in.alloc().buffer(end - from + 2);
        }
        trailers.writeBytes(in, from, end - from).writeByte('\r').writeByte('\n');
        return true;
    }

    private HttpHead.BadHead bad(String message) {
        return new HttpHead.BadHead(badStatus, message);
    }

    void releaseTrailers() {
        if (trailers != null) {
            trailers.release();
            trailers = null;
        }
    }
}
