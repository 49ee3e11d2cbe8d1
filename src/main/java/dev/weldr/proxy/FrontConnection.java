package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * A client's connection to the proxy: it reads requests one after the other (pipelined ones
 * wait their turn, answers go back in order), hands each to an {@link Exchange}, writes the
 * answers, and stops reading the client while nobody can take what it sends. Flushes are
 * batched: what a read from the client produced for a backend goes out in one write.
 */
final class FrontConnection extends ChannelInboundHandlerAdapter {

    private final Loop loop;
    Channel channel;
    private String clientAddress;
    /** The exchange being read or answered; null between requests. */
    private Exchange current;
    /** Messages of pipelined requests that wait for the current one's answer; null when none. */
    private ArrayDeque<Object> queued;
    private boolean draining;
    /** The connection closes once what was written goes out: nothing more is read. */
    private boolean closing;
    private boolean inRead;
    /** A backend connection written to during this read, flushed when the read is over. */
    private Channel toFlush;
    /** Whether this connection reads from its socket (the last value given to autoRead). */
    private boolean reading = true;
    /** After a WebSocket upgrade: the backend connection bytes go to and come from. */
    private Channel tunnelPeer;
    private Exchange tunnelExchange;

    FrontConnection(Loop loop) {
        this.loop = loop;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    String clientAddress() {
        if (clientAddress == null) {
            SocketAddress remote = channel.remoteAddress();
            clientAddress = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                    ? inet.getAddress().getHostAddress() : "unknown";
        }
        return clientAddress;
    }

    // ---- reading ----------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        if (tunnelPeer != null) {
            relay(msg, tunnelPeer);
            return;
        }
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if ((queued != null && !queued.isEmpty()) || (current != null && current.requestEnded)) {
            // A pipelined request: it waits until the current one is answered.
            if (queued == null) {
                queued = new ArrayDeque<>(8);
            }
            queued.add(msg);
            updateReading();
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest req) {
            if (req.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                badRequest(req.decoderResult().cause());
                return;
            }
            Exchange ex = new Exchange(loop, this, req);
            current = ex;
            ex.start();
            updateReading();
            return;
        }
        if (msg instanceof HttpContent part) {
            Exchange ex = current;
            if (part.decoderResult().isFailure()) {
                part.release();
                if (ex != null) {
                    ex.abandoned();
                }
                badRequest(part.decoderResult().cause());
                return;
            }
            if (ex == null) {
                part.release();
                return;
            }
            boolean last = part instanceof LastHttpContent;
            if (last) {
                ex.requestEnded = true;
            }
            ex.body(part);
            if (last && current == ex && ex.complete()) {
                next();
            } else {
                updateReading();
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        Channel c = toFlush;
        if (c != null) {
            toFlush = null;
            c.flush();
        }
    }

    /** A backend channel written to: flushed at the end of the current read, or now when there is none. */
    void flushLater(Channel backend) {
        if (!inRead) {
            backend.flush();
            return;
        }
        if (toFlush != null && toFlush != backend) {
            toFlush.flush();
        }
        toFlush = backend;
    }

    /** Reads from the client only while somebody can take what it sends. */
    void updateReading() {
        boolean want = !closing && (queued == null || queued.isEmpty()) && (current == null || !current.holdsClientReading());
        if (want != reading && tunnelPeer == null) {
            reading = want;
            channel.config().setAutoRead(want);
        }
    }

    // ---- answering --------------------------------------------------------------------------

    void write(Object msg) {
        channel.write(msg, channel.voidPromise());
    }

    void flushNow() {
        channel.flush();
    }

    void writeContinue() {
        channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE), channel.voidPromise());
    }

    /** The exchange's answer went out whole (flushed by whoever wrote it last). */
    void answered(Exchange ex) {
        if (current != ex) {
            return;
        }
        if (ex.closeAfter) {
            closeAfterWrites();
            return;
        }
        if (ex.complete()) {
            next();
        } else {
            updateReading();
        }
    }

    /** The current exchange is over: the next pipelined request, if one waits. */
    private void next() {
        current = null;
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (queued != null && !queued.isEmpty() && (current == null || !current.requestEnded)) {
                dispatch(queued.poll());
            }
        } finally {
            draining = false;
        }
        updateReading();
    }

    /** The backend's body was cut: the client can only learn it from a broken connection. */
    void cut() {
        closing = true;
        current = null;
        channel.close();
    }

    private void closeAfterWrites() {
        closing = true;
        current = null;
        releaseQueued();
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** A request weldr cannot read: 400 (414, 431 for what is too long) and the connection closes. */
    private void badRequest(Throwable cause) {
        HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                : HttpResponseStatus.BAD_REQUEST;
        FullHttpResponse resp = Heads.text(status, status.code() + " " + status.reasonPhrase() + ": the request could not be read\n", loop.date);
        resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (current != null && current.responseStarted) {
            channel.close();
            return;
        }
        write(resp);
        closeAfterWrites();
    }

    // ---- WebSocket: after the backend's 101, bytes flow both ways -------------------------------

    void tunnel(HttpResponse resp, BackendConnection backend, Exchange ex) {
        tunnelPeer = backend.channel;
        tunnelExchange = ex;
        backend.tunnelPeer = channel;
        channel.write(resp, channel.voidPromise());
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
        ChannelPipeline p = channel.pipeline();
        p.remove(HttpResponseEncoder.class);
        p.remove(IdleStateHandler.class);
        // Bytes the decoder still holds come to channelRead as they are, and go on to the backend.
        p.remove(HttpRequestDecoder.class);
        backend.channel.pipeline().remove(HttpClientCodec.class);
        reading = true;
        channel.config().setAutoRead(true);
        backend.channel.config().setAutoRead(true);
    }

    /** Tunnel bytes to the other side, pausing this side while the other does not take them. */
    private void relay(Object msg, Channel to) {
        if (!(msg instanceof ByteBuf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        to.write(msg, to.voidPromise());
        flushLater(to);
        if (!to.isWritable()) {
            channel.config().setAutoRead(false);
        }
    }

    // ---- the connection's life ----------------------------------------------------------------

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (tunnelPeer != null) {
            tunnelPeer.config().setAutoRead(channel.isWritable());
        } else if (current != null && channel.isWritable()) {
            current.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        Exchange ex = current;
        current = null;
        if (ex != null) {
            ex.abandoned();
        }
        releaseQueued();
        if (tunnelPeer != null) {
            tunnelPeer.close();
            tunnelExchange.tunnelClosed();
        }
    }

    private void releaseQueued() {
        if (queued != null) {
            Object msg;
            while ((msg = queued.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset by the client, most often: nothing to tell anyone.
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            // Silent for the timeout between requests (nginx's keepalive_timeout) or in the middle
            // of a request body (its client_body_timeout): closed. A client waiting for its
            // answer is not idle.
            boolean waiting = current != null && current.requestEnded || queued != null && !queued.isEmpty();
            if (!waiting && tunnelPeer == null) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
