package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.logging.LogLevel;

/**
 * RFC 9113 §5.1 and §5.1.1 on a client's stream identifiers, where Netty's codec answers a stream
 * error and the RFC a connection error: a HEADERS frame that would open a stream numbered below
 * one the client already opened is a PROTOCOL_ERROR, and one on a stream that was opened and has
 * closed is a STREAM_CLOSED, each ending the connection (h2spec 5.1.1/2 and 5.1/12); one on a
 * stream the client has half closed is a stream error STREAM_CLOSED (h2spec 5.1/6). A stream
 * weldr reset recently is spared: the client may have sent its trailers before it learnt of the
 * reset, and RFC 9113 §5.1 says to ignore them.
 *
 * <p>Netty's codec offers no hook between its frame reader and its decoder but the frame logger,
 * which sees each inbound frame before the decoder acts on it; this is that hook. It logs nothing.
 */
final class Http2StreamIds extends Http2FrameLogger {

    /** Ranges of identifiers the client skipped (never opened), newest last; older ones are forgotten. */
    private static final int RANGES = 8;
    private final int[] skippedFrom = new int[RANGES];
    private final int[] skippedTo = new int[RANGES];
    private int ranges;
    /** Streams weldr reset, most recent ones (a ring). */
    private final int[] resets = new int[128];
    private int resetCount;

    Http2StreamIds() {
        super(LogLevel.TRACE);
    }

    @Override
    public boolean isEnabled() {
        return false;
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                           boolean endStream) {
        if (direction == Direction.INBOUND) {
            check(ctx, streamId);
        }
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                           short weight, boolean exclusive, int padding, boolean endStream) {
        if (direction == Direction.INBOUND) {
            check(ctx, streamId);
        }
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
        if (direction == Direction.OUTBOUND) {
            resets[resetCount++ % resets.length] = streamId;
        }
    }

    // Nothing else is logged: the codec calls these for every frame.
    @Override
    public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endStream) {
    }

    @Override
    public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
    }

    private void check(ChannelHandlerContext ctx, int streamId) {
        if ((streamId & 1) == 0 || !(ctx.handler() instanceof Http2ConnectionHandler handler)) {
            // An even identifier from a client: the codec's own PROTOCOL_ERROR.
            return;
        }
        Http2Connection connection = handler.connection();
        Http2Stream stream = connection.stream(streamId);
        if (stream != null) {
            if (stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE) {
                // RFC 9113 §5.1: after the client's END_STREAM, a stream error STREAM_CLOSED
                // (Netty's decoder names it PROTOCOL_ERROR).
                throw new IllegalStateException(Http2Exception.streamError(streamId, Http2Error.STREAM_CLOSED,
                        "HEADERS on half-closed stream %d", streamId));
            }
            return;
        }
        int last = connection.remote().lastStreamCreated();
        if (streamId > last) {
            if (streamId > last + 2) {
                skipped(last + 2, streamId - 2);
            }
            return;
        }
        if (recentlyReset(streamId)) {
            return;
        }
        Http2Exception error = wasSkipped(streamId)
                ? Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "stream %d opened after stream %d", streamId, last)
                : Http2Exception.connectionError(Http2Error.STREAM_CLOSED, "HEADERS on closed stream %d", streamId);
        // The decoder's caller takes the HTTP/2 error inside and ends the connection with its code.
        throw new IllegalStateException(error);
    }

    private void skipped(int from, int to) {
        if (ranges == RANGES) {
            System.arraycopy(skippedFrom, 1, skippedFrom, 0, RANGES - 1);
            System.arraycopy(skippedTo, 1, skippedTo, 0, RANGES - 1);
            ranges--;
        }
        skippedFrom[ranges] = from;
        skippedTo[ranges] = to;
        ranges++;
    }

    private boolean wasSkipped(int id) {
        for (int i = 0; i < ranges; i++) {
            if (id >= skippedFrom[i] && id <= skippedTo[i]) {
                return true;
            }
        }
        return false;
    }

    private boolean recentlyReset(int id) {
        int n = Math.min(resetCount, resets.length);
        for (int i = 0; i < n; i++) {
            if (resets[i] == id) {
                return true;
            }
        }
        return false;
    }
}
