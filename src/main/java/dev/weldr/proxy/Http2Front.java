package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A client's HTTP/2 connection (h2 through ALPN, or h2c with prior knowledge): Netty's frame
 * codec and multiplexer, one {@link Http2Stream} per stream, and this handler for what belongs to
 * the connection: its limits, its deadlines and its end.
 *
 * <p>Limits, against the known HTTP/2 attacks: at most {@value #MAX_CONCURRENT_STREAMS} streams
 * at once (nginx's {@code http2_max_concurrent_streams}; more are refused with REFUSED_STREAM), a
 * header list of at most {@value #MAX_HEADER_LIST} bytes decoded (what bounds an HPACK bomb and
 * a CONTINUATION flood, whose blocks Netty counts as they come), and Netty's guards: a connection
 * whose client makes it reset more than 200 streams in 30 s (Rapid Reset, CVE-2023-44487, and
 * MadeYouReset, CVE-2025-8671), sends more than 2 empty DATA frames in a row, or makes it queue more
 * than 10,000 control frames it does not read the answers to (SETTINGS and PING floods) gets a
 * GOAWAY and is closed. Each such close is counted in {@code weldr_http2_connections_closed_total}.
 *
 * <p>Windows: 64 KiB per stream (the RFC's default, HAProxy's and nginx's preread), 1 MiB for the
 * connection. A stream whose backend does not take its body holds at most its window in weldr's
 * memory; the connection's window is 16 streams' worth, so one slow upload never stalls the
 * others, and a connection holds at most 1 MiB of bodies nobody has taken yet.
 *
 * <p>Deadlines, the HTTP/1.1 ones in HTTP/2's terms: a connection with no stream open closes
 * (GOAWAY, NO_ERROR) after the keep-alive timeout, or the head timeout before its first request;
 * a client that takes no byte of what is written to it for the send timeout is closed. Per
 * stream: a body that stops coming for the body timeout gets a 408 (or a reset once the answer
 * has begun), and a stream whose client takes none of its answer for the send timeout, its
 * window shut, is reset (nginx's {@code send_timeout} applies to such streams too).
 */
final class Http2Front extends ChannelInboundHandlerAdapter {

    static final int MAX_CONCURRENT_STREAMS = 128;
    static final int MAX_HEADER_LIST = 32 * 1024;
    static final int STREAM_WINDOW = 64 * 1024;
    static final int CONNECTION_WINDOW = 1024 * 1024;
    static final int MAX_RESETS = 200;
    static final int RESET_WINDOW_SECONDS = 30;
    /** RFC 9113 §6.5.2's initial connection window, which only a WINDOW_UPDATE changes. */
    private static final int DEFAULT_WINDOW = 65_535;

    final boolean secure;
    private final ClientTimeouts timeouts;
    private final ProxyStats stats;
    private final Http2FrameCodec codec;
    private Channel channel;
    private String clientAddress;
    private boolean served;
    /** Since when no stream has been open; 0 while one is. */
    private long idleSinceNanos;
    private long sendStalledSinceNanos;
    private long sendStalledPending;
    private ScheduledFuture<?> timer;
    private boolean closing;
    private final java.util.Set<Http2Front> open;
    /** The streams with an exchange under way, whose deadlines {@link #check} looks at. */
    private final java.util.Set<Http2Stream> streams = new java.util.HashSet<>();

    private Http2Front(boolean secure, ClientTimeouts timeouts, ProxyStats stats, Http2FrameCodec codec, java.util.Set<Http2Front> open) {
        this.open = open;
        this.secure = secure;
        this.timeouts = timeouts;
        this.stats = stats;
        this.codec = codec;
    }

    /** Puts HTTP/2 on a connection's pipeline (its TLS, if any, already in place). */
    static void install(ChannelPipeline pipeline, Loop loop, ClientTimeouts timeouts, boolean secure) {
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(MAX_HEADER_LIST)
                        .initialWindowSize(STREAM_WINDOW))
                .validateHeaders(true)
                // Netty's guards, named here rather than left to defaults that could change:
                // Rapid Reset (resets the client sends) and MadeYouReset (resets it makes weldr send).
                .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS, RESET_WINDOW_SECONDS)
                .encoderEnforceMaxRstFramesPerWindow(MAX_RESETS, RESET_WINDOW_SECONDS)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .decoderEnforceMaxSmallContinuationFrames(16)
                .encoderEnforceMaxQueuedControlFrames(10_000)
                .frameLogger(new Http2StreamIds())
                .build();
        Http2Front front = new Http2Front(secure, timeouts, loop.stats, codec, loop.http2Connections);
        pipeline.addLast(codec, new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2Stream(loop, front));
            }
        }), front);
    }

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Whether a connection's first bytes are HTTP/2's client preface (RFC 9113 §3.4): 1 when
     * they are, 0 when they are not, -1 when they are a part of it so far.
     */
    static int prefaceMatch(ByteBuf in) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        int r = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(r + i) != PREFACE[i]) {
                return 0;
            }
        }
        return n == PREFACE.length ? 1 : -1;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        open.add(this);
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
                if (errorCode != Http2Error.NO_ERROR.code()) {
                    Http2Error error = Http2Error.valueOf(errorCode);
                    stats.http2ConnectionClosed(error == null ? Long.toString(errorCode) : error.name().toLowerCase(Locale.ROOT));
                }
            }

            @Override
            public void onStreamActive(io.netty.handler.codec.http2.Http2Stream stream) {
                idleSinceNanos = 0;
            }

            @Override
            public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
                if (codec.connection().numActiveStreams() == 0) {
                    idleSinceNanos = System.nanoTime();
                }
            }
        });
        // The connection's window beyond RFC 9113's 64 KiB, so that streams stalled on slow
        // backends do not shut it for the others (a WINDOW_UPDATE on stream 0, after the SETTINGS).
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - DEFAULT_WINDOW));
        idleSinceNanos = System.nanoTime();
        schedule(Math.min(timeouts.headNanos(), timeouts.pollNanos()));
    }

    String clientAddress() {
        if (clientAddress == null) {
            SocketAddress remote = channel.remoteAddress();
            clientAddress = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                    ? inet.getAddress().getHostAddress() : "unknown";
        }
        return clientAddress;
    }

    /** A stream's request arrived: its deadlines are watched until it ends. */
    void streamStarted(Http2Stream stream) {
        served = true;
        streams.add(stream);
    }

    void streamEnded(Http2Stream stream) {
        streams.remove(stream);
    }

    void streamReset(Http2Error error) {
        if (error != Http2Error.NO_ERROR) {
            stats.http2StreamReset(error.name().toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Ends the connection gracefully: a GOAWAY (NO_ERROR) names the last stream weldr serves, the
     * streams in flight finish, and the connection closes once they have, or after
     * {@code drainMillis} at most (Netty's graceful close of the codec). New requests go to a new
     * connection, which the client opens to whichever node serves now.
     */
    void goAway(long drainMillis) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> goAway(drainMillis));
            return;
        }
        if (closing || !channel.isActive()) {
            return;
        }
        closing = true;
        codec.gracefulShutdownTimeoutMillis(drainMillis);
        channel.close();
    }

    // ---- deadlines ----------------------------------------------------------------------------

    private void schedule(long delayNanos) {
        timer = channel.eventLoop().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (sendStalled(now)) {
            channel.close();
            return;
        }
        if (!streams.isEmpty()) {
            for (Http2Stream s : streams.toArray(new Http2Stream[0])) {
                s.checkDeadlines(now, timeouts);
            }
        }
        long idleLimit = served ? timeouts.keepAliveNanos() : timeouts.headNanos();
        if (idleSinceNanos != 0 && codec.connection().numActiveStreams() == 0 && now - idleSinceNanos >= idleLimit) {
            // Like an idle HTTP/1.1 keep-alive connection (or one that never asked anything).
            goAway(0);
            channel.close();
            return;
        }
        schedule(timeouts.pollNanos());
    }

    /** The client took no byte of what is written to it for the send timeout. */
    private boolean sendStalled(long now) {
        if (channel.isWritable()) {
            sendStalledSinceNanos = 0;
            return false;
        }
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        long waiting = out == null ? 0 : out.totalPendingWriteBytes();
        if (sendStalledSinceNanos == 0 || waiting < sendStalledPending) {
            sendStalledSinceNanos = now;
            sendStalledPending = waiting;
            return false;
        }
        return now - sendStalledSinceNanos >= timeouts.sendNanos();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        open.remove(this);
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // The codec shows its connection errors here first, then sends the GOAWAY naming the
            // error and closes: closing now would send a GOAWAY saying NO_ERROR instead.
            return;
        }
        // A reset by the client, most often.
        ctx.close();
    }
}
