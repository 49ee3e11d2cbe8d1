package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;

/**
 * A connection from one event loop to one backend: it serves one exchange at a time, then waits
 * in its loop's idle cache (see {@link Loop#offerIdle}) while the backend keeps it open. It reads
 * the backend's bytes itself: the response head (see {@link HeadScanner}), then the body by its
 * framing (see {@link BodyReader}), handing both to the exchange. What a read produced for the
 * client is flushed at its end.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter implements BodyReader.Sink, Back {

    final Loop loop;
    final Backend backend;
    /** The address this connection went to: when the backend's name resolves elsewhere, it is not reused. */
    final InetSocketAddress address;
    /** The client context the connection was made with (null for plain): after a change of the pool's TLS setting, it is not reused. */
    final SslContext tls;
    Channel channel;
    private ChannelHandlerContext ctx;
    /** The exchange this connection serves; null while idle. */
    Exchange exchange;
    /** After a WebSocket upgrade: the client connection bytes go to and come from. */
    Channel tunnelPeer;
    /** Its handler, told of the bytes the backend sends (they keep the tunnel from timing out). */
    FrontConnection tunnelFront;

    // The loop's idle cache (intrusive list, oldest first).
    boolean idle;
    long idleSinceNanos;
    BackendConnection olderIdle;
    BackendConnection newerIdle;

    /** A whole body this small, read with its head, goes to the client in the head's buffer. */
    private static final int SMALL_BODY = 4096;

    private final HeadScanner heads = new HeadScanner(false);
    private final BodyReader body = new BodyReader(502);
    /** Bytes read and not consumed yet; null when none. */
    private ByteBuf pending;
    /** The response's head came; its body is being read. */
    private boolean inBody;
    /** The client channel written to during this read, flushed when the read is over. */
    private Channel toFlush;
    private Throwable failure;

    BackendConnection(Loop loop, Backend backend, InetSocketAddress address, SslContext tls) {
        this.loop = loop;
        this.backend = backend;
        this.address = address;
        this.tls = tls;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        channel = ctx.channel();
    }

    /** Writes toward the backend from this handler on (not from the pipeline's tail). */
    void write(Object msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public void sendHead(Exchange ex, boolean upgrade) {
        Request request = ex.request;
        String client = ex.front.clientAddress();
        request.writeHttp1(loop.writing(request.http1Bound(client)), client, upgrade, ex.front.secure());
        write(loop.written());
    }

    @Override
    public void finish(boolean reusable) {
        exchange = null;
        if (reusable) {
            loop.offerIdle(this);
        } else {
            channel.close();
        }
    }

    /** A part of the request body, in a chunk of its own when the request goes out in chunks. */
    @Override
    public void sendBody(ByteBuf data, boolean chunked) {
        if (chunked) {
            write(loop.chunkStart(data.readableBytes()));
            write(data);
            write(Heads.chunkEnd());
        } else {
            write(data);
        }
    }

    /** The request body's end: the last chunk, with the trailers (lines ending CR LF, or null), when it goes in chunks. */
    @Override
    public void sendEnd(ByteBuf trailers, boolean chunked) {
        if (chunked) {
            write(loop.lastChunk(trailers));
        }
        if (trailers != null) {
            trailers.release();
        }
    }

    /** The exchange's request goes out on this connection: its response is read next. */
    @Override
    public void expect(Exchange ex) {
        exchange = ex;
        inBody = false;
        heads.reset();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (tunnelPeer != null) {
            relay(in);
            return;
        }
        if (exchange == null) {
            // Nothing was asked: a backend talking out of turn on an idle connection is not reused.
            in.release();
            ctx.close();
            return;
        }
        pending = pending == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, in);
        try {
            process();
        } catch (HttpHead.BadHead e) {
            failure = e;
            ctx.close();
        }
        if (pending != null && !pending.isReadable()) {
            pending.release();
            pending = null;
        }
    }

    private void process() {
        while (pending != null && pending.isReadable()) {
            Exchange ex = exchange;
            if (ex == null) {
                // More than the response: the connection cannot be trusted with another request.
                channel.close();
                return;
            }
            toFlush = ex.front.channel();
            if (!inBody) {
                HttpHead head = heads.next(pending);
                if (head == null) {
                    return;
                }
                int status = head.status;
                if (status < 200 && status != 101) {
                    // Interim: weldr answers Expect itself; the final response follows.
                    continue;
                }
                int mode = ex.head || status == 204 || status == 304 || status == 101 ? BodyReader.NONE
                        : head.chunked ? BodyReader.CHUNKED
                        : head.hasTransferEncoding || head.contentLength < 0 ? BodyReader.UNTIL_CLOSE
                        : BodyReader.LENGTH;
                body.start(mode, head.contentLength);
                // A whole small body that came with the head goes out with it, in one buffer.
                boolean whole = mode == BodyReader.LENGTH && head.contentLength <= SMALL_BODY
                        && pending.readableBytes() >= head.contentLength;
                ex.respond(head, mode, pending, whole ? (int) head.contentLength : -1);
                if (tunnelPeer != null) {
                    // Upgraded: whatever the backend sent after its 101 is the other protocol's.
                    ByteBuf rest = pending;
                    pending = null;
                    relay(rest);
                    return;
                }
                inBody = !whole && !body.ended();
                if (!inBody && exchange == ex) {
                    ex.responseEnded(null);
                }
            } else if (body.read(pending, this)) {
                inBody = false;
            } else {
                // All of it taken, or a chunk line not whole yet: the next read goes on.
                return;
            }
        }
    }

    @Override
    public void data(ByteBuf data) {
        Exchange ex = exchange;
        if (ex == null) {
            data.release();
            return;
        }
        ex.responseBody(data);
    }

    @Override
    public void end(ByteBuf trailers) {
        Exchange ex = exchange;
        if (ex == null) {
            if (trailers != null) {
                trailers.release();
            }
            return;
        }
        ex.responseEnded(trailers);
    }

    /** Tunnel bytes to the client, pausing the backend while the client does not take them. */
    private void relay(ByteBuf in) {
        Channel peer = tunnelPeer;
        if (!in.isReadable()) {
            in.release();
            return;
        }
        tunnelFront.tunnelled();
        peer.write(in, peer.voidPromise());
        toFlush = peer;
        if (!peer.isWritable()) {
            channel.config().setAutoRead(false);
        }
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
        if (pending != null) {
            pending.release();
            pending = null;
        }
        body.releaseTrailers();
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
        if (ex != null && inBody && !ex.timedOut() && body.closed(this)) {
            // A body delimited by the connection's end: complete, not lost.
            return;
        }
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
