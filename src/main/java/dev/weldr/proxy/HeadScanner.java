package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;

/**
 * Finds where a head ends in the bytes read so far (the empty line after its header lines), and
 * takes it out whole as a {@link HttpHead}. The search resumes where the last one stopped, so a
 * head that trickles in byte by byte is scanned once, not once per read. Limits as Netty's and
 * nginx's: a start line of at most {@link Loop#MAX_INITIAL_LINE} bytes (414 beyond), header lines
 * of at most {@link Loop#MAX_HEADER_SIZE} together (431 beyond).
 */
final class HeadScanner {

    /** How much of a new head is looked at in one copy (well under both size limits). */
    private static final int FIRST_BYTES = 2048;

    private final boolean request;
    /**
     * Where the search resumes (the start of the line not yet seen whole), from the head's start;
     * -1 when a new head starts. Offsets, not indexes: the buffer may be replaced by a bigger one.
     */
    private int resumeAt = -1;
    /** Where the start line ends (after its line feed), from the head's start; -1 until it is seen. */
    private int startLineEnd = -1;

    HeadScanner(boolean request) {
        this.request = request;
    }

    /** The next head, taken out of {@code in}; null when it has not come whole yet. */
    HttpHead next(ByteBuf in) {
        int start = in.readerIndex();
        if (resumeAt < 0) {
            resumeAt = 0;
            startLineEnd = -1;
        }
        if (resumeAt == 0) {
            // Nothing of this head seen yet but bytes without a line feed. RFC 9112 §2.2: empty
            // lines before a request line are ignored, also when their CR and LF come apart.
            while (request && in.isReadable() && (in.getByte(start) == '\r' || in.getByte(start) == '\n')) {
                in.skipBytes(1);
                start++;
            }
            HttpHead whole = wholeInFirstBytes(in, start);
            if (whole != null) {
                return whole;
            }
        }
        int limit = in.writerIndex();
        int i = start + resumeAt;
        while (true) {
            int lf = in.indexOf(i, limit, (byte) '\n');
            if (lf < 0) {
                resumeAt = i - start;
                checkSize(limit - start);
                return null;
            }
            if (startLineEnd < 0) {
                checkSize(lf - start);
                startLineEnd = lf + 1 - start;
            } else if (lf == i || lf == i + 1 && in.getByte(i) == '\r') {
                checkSize(i - start);
                resumeAt = -1;
                byte[] b = new byte[lf + 1 - start];
                in.readBytes(b);
                return request ? HttpHead.request(b, b.length) : HttpHead.response(b, b.length);
            }
            i = lf + 1;
        }
    }

    /**
     * The usual case: a new head that came whole in its first read, and short. Its first bytes
     * are copied once and scanned in the array (no buffer accessor per byte); the head is parsed
     * where it lies in that copy. Null when the head is longer or not whole yet.
     */
    private HttpHead wholeInFirstBytes(ByteBuf in, int start) {
        int n = Math.min(in.readableBytes(), FIRST_BYTES);
        byte[] b = new byte[n];
        in.getBytes(start, b);
        for (int i = 0; i < n; i++) {
            if (b[i] == '\n') {
                if (i + 1 < n && b[i + 1] == '\n') {
                    return take(in, b, i + 2);
                }
                if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return take(in, b, i + 3);
                }
            }
        }
        return null;
    }

    private HttpHead take(ByteBuf in, byte[] b, int length) {
        // Shorter than either limit: no size to check.
        in.skipBytes(length);
        resumeAt = -1;
        return request ? HttpHead.request(b, length) : HttpHead.response(b, length);
    }

    /** Refuses a head whose start line or header lines went past their limits (up to {@code upTo}). */
    private void checkSize(int upTo) {
        if (startLineEnd < 0) {
            if (upTo > Loop.MAX_INITIAL_LINE) {
                throw new HttpHead.BadHead(request ? 414 : 502, "start line too long");
            }
        } else if (upTo - startLineEnd > Loop.MAX_HEADER_SIZE) {
            throw new HttpHead.BadHead(request ? 431 : 502, "header lines too large");
        }
    }

    /** Forgets a head under way (the bytes it was scanning are gone). */
    void reset() {
        resumeAt = -1;
        startLineEnd = -1;
    }
}
