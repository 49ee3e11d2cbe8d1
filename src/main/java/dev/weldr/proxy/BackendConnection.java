package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * A connection from one event loop to one backend: it serves one exchange at a time, then waits
 * in its loop's idle cache (see {@link Loop#offerIdle}) while the backend keeps it open. What the
 * backend sends goes to the exchange; what a read produced for the client is flushed at its end.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {

    final Loop loop;
    final Backend backend;
    Channel channel;
    /** The exchange this connection serves; null while idle. */
    Exchange exchange;
    /** After a WebSocket upgrade: the client connection bytes go to and come from. */
    Channel tunnelPeer;

    // The loop's idle cache (intrusive list, oldest first).
    boolean idle;
    long idleSinceNanos;
    BackendConnection olderIdle;
    BackendConnection newerIdle;

    /** The client channel written to during this read, flushed when the read is over. */
    private Channel toFlush;
    /** Inside an interim (1xx) response, which the client does not get: weldr answers Expect itself. */
    private boolean interim;
    private Throwable failure;

    BackendConnection(Loop loop, Backend backend) {
        this.loop = loop;
        this.backend = backend;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tunnelPeer != null) {
            if (msg instanceof ByteBuf) {
                tunnelPeer.write(msg, tunnelPeer.voidPromise());
                toFlush = tunnelPeer;
                if (!tunnelPeer.isWritable()) {
                    channel.config().setAutoRead(false);
                }
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        Exchange ex = exchange;
        if (ex == null) {
            // Nothing was asked: a backend talking out of turn on an idle connection is not reused.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        toFlush = ex.front.channel;
        if (msg instanceof HttpResponse resp) {
            if (resp.decoderResult().isFailure()) {
                failure = resp.decoderResult().cause();
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            int code = resp.status().code();
            if (code < 200 && code != 101) {
                interim = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            ex.respond(resp);
            return;
        }
        if (msg instanceof HttpContent part) {
            if (interim) {
                interim = !(part instanceof LastHttpContent);
                part.release();
                return;
            }
            if (part.decoderResult().isFailure()) {
                failure = part.decoderResult().cause();
                part.release();
                ctx.close();
                return;
            }
            ex.responseBody(part);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel c = toFlush;
        if (c != null) {
            toFlush = null;
            c.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (tunnelPeer != null) {
            tunnelPeer.config().setAutoRead(channel.isWritable());
        } else if (exchange != null) {
            exchange.backendWritable(channel.isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (tunnelPeer != null) {
            tunnelPeer.close();
            if (exchange != null) {
                exchange.tunnelClosed();
            }
            return;
        }
        if (idle) {
            loop.idleClosed(this);
            return;
        }
        Exchange ex = exchange;
        exchange = null;
        if (ex != null) {
            ex.backendLost(failure);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failure = cause;
        ctx.close();
    }
}
