package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A client's connection to the proxy: it reads requests from the bytes the client sends, one
 * after the other (a pipelined request waits in what was read until the one before it is
 * answered, so answers go back in order), hands each to an {@link Exchange}, writes the answers,
 * and stops reading the client while nobody can take what it sends. Heads are found and parsed
 * by {@link HeadScanner}, bodies read by their framing by {@link BodyReader}. Flushes are
 * batched: what a read from the client produced for a backend goes out in one write.
 */
final class FrontConnection extends ChannelInboundHandlerAdapter implements BodyReader.Sink, Outbound {

    /** Pipelined requests read ahead of their turn, at most (then the client is not read). */
    private static final int READ_AHEAD = 64 * 1024;

    private final Loop loop;
    /** The client came through the HTTPS listener. */
    final boolean secure;
    Channel channel;
    private ChannelHandlerContext ctx;
    private String clientAddress;
    /** The exchange being read or answered; null between requests. */
    private Exchange current;
    private final HeadScanner heads = new HeadScanner(true);
    private final BodyReader body = new BodyReader(400);
    /** Bytes read and not consumed yet (a head not whole yet, a body nobody takes yet, pipelined requests); null when none. */
    private ByteBuf pending;
    private boolean processing;
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
        this(loop, false);
    }

    FrontConnection(Loop loop, boolean secure) {
        this.loop = loop;
        this.secure = secure;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
        if (!(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (tunnelPeer != null) {
            relay(in, tunnelPeer);
            return;
        }
        if (closing) {
            in.release();
            return;
        }
        pending = pending == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, in);
        process();
    }

    /** Reads requests and bodies from what was read, as far as their exchanges can take them now. */
    private void process() {
        if (processing) {
            return;
        }
        processing = true;
        try {
            while (pending != null && pending.isReadable() && !closing && tunnelPeer == null) {
                Exchange ex = current;
                if (ex == null) {
                    HttpHead head = heads.next(pending);
                    if (head == null) {
                        break;
                    }
                    ex = new Exchange(loop, this, head);
                    current = ex;
                    body.start(head.chunked ? BodyReader.CHUNKED : head.contentLength > 0 ? BodyReader.LENGTH : BodyReader.NONE,
                            head.contentLength);
                    ex.start();
                } else if (!ex.requestEnded && !ex.holdsClientReading()) {
                    if (!body.read(pending, this)) {
                        // All of it taken, or a chunk line not whole yet: the next read goes on.
                        break;
                    }
                } else {
                    // A pipelined request waits for the answer to this one; a body, for a backend to take it.
                    break;
                }
            }
        } catch (HttpHead.BadHead e) {
            badRequest(e);
        } finally {
            processing = false;
        }
        if (pending != null && !pending.isReadable()) {
            pending.release();
            pending = null;
        }
        updateReading();
    }

    @Override
    public void data(ByteBuf data) {
        current.body(data);
    }

    @Override
    public void end(ByteBuf trailers) {
        Exchange ex = current;
        ex.bodyEnded(trailers);
        if (current == ex && ex.complete()) {
            next();
        }
    }

    /** The exchange can take the body now (a backend connection is ready, or keeps up again). */
    void resume() {
        process();
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
    private void updateReading() {
        boolean want = !closing && (current == null || !current.holdsClientReading())
                && (pending == null || pending.readableBytes() < READ_AHEAD);
        if (want != reading && tunnelPeer == null) {
            reading = want;
            channel.config().setAutoRead(want);
        }
    }

    // ---- answering --------------------------------------------------------------------------

    @Override
    public void write(Object msg) {
        // From this handler on, not from the pipeline's tail.
        ctx.write(msg, ctx.voidPromise());
    }

    void flushNow() {
        channel.flush();
    }

    void writeContinue() {
        channel.writeAndFlush(Heads.continueHead(), channel.voidPromise());
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
            // The rest of the request body is drained now: what was read of it already, then the rest.
            process();
        }
    }

    /** The current exchange is over: the next pipelined request, if one was read. */
    private void next() {
        current = null;
        process();
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
        releasePending();
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** A request weldr cannot read: 400 (414, 431 for what is too long, 505 for another HTTP) and the connection closes. */
    private void badRequest(HttpHead.BadHead bad) {
        Exchange ex = current;
        if (ex != null) {
            ex.abandoned();
            if (ex.responseStarted) {
                closing = true;
                current = null;
                channel.close();
                return;
            }
        }
        HttpResponseStatus status = HttpResponseStatus.valueOf(bad.status);
        write(Heads.text(channel.alloc(), bad.status, status.code() + " " + status.reasonPhrase()
                + ": the request could not be read\n", Heads.CONNECTION_CLOSE, loop.date));
        closeAfterWrites();
    }

    // ---- WebSocket: after the backend's 101, bytes flow both ways -------------------------------

    void tunnel(ByteBuf responseHead, BackendConnection backend, Exchange ex) {
        tunnelPeer = backend.channel;
        tunnelExchange = ex;
        backend.tunnelPeer = channel;
        channel.writeAndFlush(responseHead, channel.voidPromise());
        channel.pipeline().remove(IdleStateHandler.class);
        ByteBuf rest = pending;
        pending = null;
        if (rest != null) {
            // What the client sent after its request is already the new protocol's.
            relay(rest, tunnelPeer);
        }
        reading = true;
        channel.config().setAutoRead(true);
        backend.channel.config().setAutoRead(true);
    }

    /** Tunnel bytes to the other side, pausing this side while the other does not take them. */
    private void relay(ByteBuf msg, Channel to) {
        if (!msg.isReadable()) {
            msg.release();
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
            ex.clientGone();
        }
        releasePending();
        body.releaseTrailers();
        if (tunnelPeer != null) {
            tunnelPeer.close();
            tunnelExchange.tunnelClosed();
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
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
            // Silent for the timeout between requests (nginx's keepalive_timeout), in the middle
            // of a head or of a request body (its client_header_timeout, client_body_timeout):
            // closed. A client waiting for its answer is not idle.
            boolean waiting = current != null && current.requestEnded;
            if (!waiting && tunnelPeer == null) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
