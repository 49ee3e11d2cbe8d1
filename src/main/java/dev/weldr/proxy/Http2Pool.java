package dev.weldr.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SSLException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One event loop's HTTP/2 connections to the servers of {@code h2} and {@code h2c} pools, Armeria's
 * {@code HttpChannelPool} and Envoy's connection pool in small: per server, the first connection
 * with a free stream takes the next exchange; when none has one, another is opened, up to
 * {@value #MAX_CONNECTIONS} per server and loop; beyond that the exchange waits on the connection
 * with the fewest waiting for a stream to end. A connection with no stream closes after the idle
 * timeout, as the HTTP/1.1 cache's do. Touched by its loop's thread only.
 */
final class Http2Pool {

    /**
     * Connections per server and event loop. One carries a backend's 100 or more concurrent streams
     * (gRPC servers allow unbounded, grpc-java and Go advertise none or 2^31-1); more spread a loop's
     * load on a server over a few TCP connections when one is full, and no further.
     */
    static final int MAX_CONNECTIONS = 4;
    /** The largest response header list taken from a backend, as from a client (32 KiB, see {@link Http2Front}). */
    private static final int MAX_HEADER_LIST = Http2Front.MAX_HEADER_LIST;

    private final Loop loop;
    private final long idleTimeoutNanos;
    private final long connectTimeoutNanos;
    private final Map<Backend, List<Http2Connection>> connections = new IdentityHashMap<>();

    Http2Pool(Loop loop, long idleTimeoutNanos, long connectTimeoutNanos) {
        this.loop = loop;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.connectTimeoutNanos = connectTimeoutNanos;
    }

    /** A stream to the backend for this exchange, on a connection with room, a new one, or the least waited on. */
    void stream(Backend backend, Exchange ex) {
        InetSocketAddress to = backend.socketAddress();
        SslContext tls = backend.https() ? ex.pool.tls : null;
        List<Http2Connection> list = connections.computeIfAbsent(backend, b -> new ArrayList<>(2));
        Http2Connection least = null;
        for (Iterator<Http2Connection> it = list.iterator(); it.hasNext(); ) {
            Http2Connection c = it.next();
            if (c.address != to || c.tls != tls || c.closing) {
                // Made for an address or a TLS setting since changed, or ending: no new stream on it.
                c.closing = true;
                if (c.streams == 0 && c.waiting.isEmpty()) {
                    c.channel.close();
                }
                it.remove();
                continue;
            }
            if (c.hasRoom()) {
                c.submit(ex);
                return;
            }
            if (least == null || c.waiting.size() < least.waiting.size()) {
                least = c;
            }
        }
        if (list.size() < MAX_CONNECTIONS || to.isUnresolved()) {
            dial(backend, ex, list);
        } else {
            least.submit(ex);
        }
    }

    private void dial(Backend backend, Exchange ex, List<Http2Connection> list) {
        PoolTable pool = ex.pool;
        SslContext tls = backend.https() ? pool.tls : null;
        if (backend.https() && tls == null) {
            ex.connectFailed(new SSLException("pool " + pool.name + " has no TLS client context (see the log)"));
            return;
        }
        if (backend.socketAddress().isUnresolved()) {
            loop.resolveThen(backend, ex, () -> stream(backend, ex));
            return;
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .maxHeaderListSize(MAX_HEADER_LIST)
                        .initialWindowSize(Http2Front.STREAM_WINDOW))
                .validateHeaders(true)
                .build();
        Http2Connection c = new Http2Connection(this, backend, backend.socketAddress(), tls, codec);
        c.submit(ex);
        list.add(c);
        loop.dial(backend, pool, tls, new ChannelHandler[]{codec, new Http2MultiplexHandler(REFUSE_PUSH), c}, new Loop.Dialed() {
            @Override
            public void dialed(Channel ch) {
                SslHandler ssl = ch.pipeline().get(SslHandler.class);
                if (ssl != null && !ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                    ch.close();
                    failed(new SSLException("server " + backend.id() + " of pool " + pool.name
                            + " did not agree to h2 in the TLS handshake (ALPN): it cannot serve an h2 pool"));
                    return;
                }
                c.connected(loop.connectTimeoutMs());
            }

            @Override
            public void failed(Throwable cause) {
                list.remove(c);
                c.failed(cause);
            }
        });
    }

    /** Server push is off (SETTINGS_ENABLE_PUSH 0): a stream the backend opens anyway is closed. */
    private static final ChannelHandler REFUSE_PUSH = new Refuse();

    @ChannelHandler.Sharable
    private static final class Refuse extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    /** Closes the connections with no stream past the idle timeout, and those of servers no longer in their pool. */
    void sweep(long now) {
        if (connections.isEmpty()) {
            return;
        }
        for (Iterator<Map.Entry<Backend, List<Http2Connection>>> entries = connections.entrySet().iterator(); entries.hasNext(); ) {
            Map.Entry<Backend, List<Http2Connection>> e = entries.next();
            boolean current = e.getKey().current();
            for (Iterator<Http2Connection> it = e.getValue().iterator(); it.hasNext(); ) {
                Http2Connection c = it.next();
                c.expireWaiting(now, connectTimeoutNanos);
                if (c.channel == null || !c.waiting.isEmpty() || c.streams > 0) {
                    c.closing |= !current;
                    continue;
                }
                if (c.closing || !current || c.idleSinceNanos != 0 && now - c.idleSinceNanos > idleTimeoutNanos) {
                    c.closing = true;
                    c.channel.close();
                    it.remove();
                }
            }
            if (e.getValue().isEmpty()) {
                entries.remove();
            }
        }
    }

}
