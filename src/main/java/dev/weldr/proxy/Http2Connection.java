package dev.weldr.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import io.netty.channel.ConnectTimeoutException;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/2 connection from one event loop to one backend (h2 through ALPN, or h2c with prior
 * knowledge): Netty's client frame codec and multiplexer, one {@link Http2Back} child channel per
 * exchange, and this handler for the connection's capacity: at most as many streams as the backend
 * allows (its SETTINGS_MAX_CONCURRENT_STREAMS; {@value #UNTOLD_STREAMS} until it said), the exchanges
 * beyond that waiting here, in order, for a stream to end. Touched by its loop's thread only.
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {

    /** The streams opened before the backend's SETTINGS say how many it takes: RFC 9113 §6.5.2's recommended floor. */
    static final int UNTOLD_STREAMS = 100;
    /** The connection's receive window beyond RFC 9113's 64 KiB, as on the client side (see {@link Http2Front}). */
    private static final int DEFAULT_WINDOW = 65_535;

    private final Http2Pool pool;
    final Backend backend;
    final InetSocketAddress address;
    /** The client context (with ALPN h2) the connection was made with; null for h2c. */
    final SslContext tls;
    private final Http2FrameCodec codec;
    Channel channel;
    /** Connected (and the TLS handshake done, h2 agreed). */
    private boolean connected;
    /**
     * The backend's first SETTINGS came: streams can be opened. Not before, or more than it allows
     * could go out before it said how many, and be refused.
     */
    private boolean ready;
    /** The backend said GOAWAY, or the connection closed: no new stream goes on it. */
    boolean closing;
    /** Streams opened and not closed yet. */
    int streams;
    /** Since when no stream has been open (for the idle timeout); 0 while one is. */
    long idleSinceNanos;
    /** Exchanges waiting for a stream, oldest first. */
    final ArrayDeque<Exchange> waiting = new ArrayDeque<>(4);

    Http2Connection(Http2Pool pool, Backend backend, InetSocketAddress address, SslContext tls, Http2FrameCodec codec) {
        this.pool = pool;
        this.backend = backend;
        this.address = address;
        this.tls = tls;
        this.codec = codec;
        this.idleSinceNanos = System.nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /** How many streams the backend takes at once on this connection. */
    int capacity() {
        int max = codec.connection().local().maxActiveStreams();
        return max == Integer.MAX_VALUE ? UNTOLD_STREAMS : max;
    }

    /** It can take one more exchange, at once or soon (while it is still being made). */
    boolean hasRoom() {
        return !closing && !full && streams + waiting.size() < capacity();
    }

    /** The exchange's stream, now when the connection is ready and has room, else once it does. */
    void submit(Exchange ex) {
        if (ready && streams < capacity() && waiting.isEmpty()) {
            open(ex);
        } else {
            ex.queuedSinceNanos = System.nanoTime();
            waiting.add(ex);
        }
    }

    /**
     * Connected (TLS and ALPN done): the waiting exchanges are served once the backend's SETTINGS
     * come, which must be within the connect timeout.
     */
    void connected(long settingsTimeoutMs) {
        connected = true;
        channel.eventLoop().schedule(() -> {
            if (!ready) {
                channel.close();
            }
        }, settingsTimeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The connection could not be made: every exchange waiting for it tries elsewhere, or fails. */
    void failed(Throwable cause) {
        closing = true;
        Exchange ex;
        while ((ex = waiting.poll()) != null) {
            ex.connectFailed(cause);
        }
    }

    private void open(Exchange ex) {
        streams++;
        idleSinceNanos = 0;
        Http2Back back = new Http2Back(this);
        new Http2StreamChannelBootstrap(channel).handler(back).open().addListener(f -> {
            if (f.isSuccess()) {
                ex.opened(back);
            } else {
                streamClosed();
                ex.connectFailed(f.cause());
            }
        });
    }

    private void serveWaiting() {
        while (ready && !closing && streams < capacity() && !waiting.isEmpty()) {
            Exchange ex = waiting.poll();
            if (!ex.done && !ex.ownAnswer) {
                open(ex);
            }
        }
        if (closing && !waiting.isEmpty()) {
            failed(new ConnectException("the backend closed the HTTP/2 connection (GOAWAY) before the stream was opened"));
        }
    }

    /**
     * The backend's SETTINGS allow fewer streams than were queued here while it had not said:
     * those beyond its limit go back to the pool, to another connection or a new one.
     */
    private void spill() {
        int excess = streams + waiting.size() - capacity();
        if (closing || excess <= 0) {
            return;
        }
        ArrayDeque<Exchange> moved = new ArrayDeque<>(excess);
        while (excess-- > 0 && !waiting.isEmpty()) {
            moved.addFirst(waiting.pollLast());
        }
        full = true;
        for (Exchange ex : moved) {
            if (!ex.done && !ex.ownAnswer) {
                pool.stream(backend, ex);
            }
        }
        full = false;
    }

    /** While spilling: taken for full, so that the pool does not hand the exchanges straight back. */
    private boolean full;

    /**
     * Fails the exchanges that waited longer than {@code limitNanos} for a stream (the connect
     * timeout: a stream not had is a connection not made), so that none waits without end behind
     * long-lived streams; each may try another server.
     */
    void expireWaiting(long now, long limitNanos) {
        if (waiting.isEmpty() || now - waiting.peek().queuedSinceNanos <= limitNanos) {
            return;
        }
        java.util.List<Exchange> late = new java.util.ArrayList<>();
        while (!waiting.isEmpty() && now - waiting.peek().queuedSinceNanos > limitNanos) {
            late.add(waiting.poll());
        }
        for (Exchange ex : late) {
            ex.connectFailed(new ConnectTimeoutException("no free stream on the HTTP/2 connections to " + backend.id()
                    + " within the connect timeout"));
        }
    }

    /** A stream of this connection closed: its place goes to the next exchange waiting. */
    void streamClosed() {
        streams--;
        if (streams == 0) {
            idleSinceNanos = System.nanoTime();
            if (closing && waiting.isEmpty()) {
                // Out of the pool (GOAWAY, or made for a setting since changed): its last stream is done.
                channel.close();
                return;
            }
        }
        serveWaiting();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // What the multiplexer passes on: the connection's own frames.
        try {
            if (msg instanceof Http2GoAwayFrame) {
                // The streams the backend took go on; none more is opened here.
                closing = true;
                serveWaiting();
            } else if (msg instanceof Http2SettingsFrame) {
                if (connected && !ready) {
                    ready = true;
                    // The connection's window opened, after the preface (which must come first).
                    ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(Http2Front.CONNECTION_WINDOW - DEFAULT_WINDOW));
                }
                serveWaiting();
                spill();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        failed(new ConnectException("the HTTP/2 connection to " + backend.id() + " closed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
