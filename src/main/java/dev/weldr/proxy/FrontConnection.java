package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A client's connection to the proxy: it reads requests from the bytes the client sends, one
 * after the other (a pipelined request waits in what was read until the one before it is
 * answered, so answers go back in order), hands each to an {@link Exchange}, writes the answers,
 * and stops reading the client while nobody can take what it sends. Heads are found and parsed
 * by {@link HeadScanner}, bodies read by their framing by {@link BodyReader}. Flushes are
 * batched: what a read from the client produced for a backend goes out in one write.
 *
 * <p>Its deadlines (see {@link ClientTimeouts}) share one timer per connection: the phase the
 * connection is in says which deadline runs, a change of phase only moves a timestamp, and the
 * timer, when it fires, works out the deadline of the phase it finds and is scheduled again for
 * it. A new one is scheduled only when a deadline comes before the timer would fire.
 */
final class FrontConnection extends ChannelInboundHandlerAdapter implements BodyReader.Sink, Front {

    /** Pipelined requests read ahead of their turn, at most (then the client is not read). */
    private static final int READ_AHEAD = 64 * 1024;
    /**
     * nginx's lingering_timeout and lingering_time: a connection closing after weldr's last
     * answer reads and drops what the client still sends, until the client is quiet this long or
     * this much time has gone by, so that the kernel does not answer unread bytes with a reset
     * that could destroy the answer before the client read it.
     */
    static final long LINGER_QUIET_NANOS = TimeUnit.SECONDS.toNanos(5);
    static final long LINGER_MAX_NANOS = TimeUnit.SECONDS.toNanos(30);

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
    /** When weldr shut its side of a closing connection and began dropping the client's bytes; 0 before. */
    private long lingerSinceNanos;
    private boolean inRead;
    /** A backend connection written to during this read, flushed when the read is over. */
    private Channel toFlush;
    /** Whether this connection reads from its socket (the last value given to autoRead). */
    private boolean reading = true;
    /** The current answer's body goes to the client in chunks. */
    private boolean chunkedOut;
    /** The current answer has no body (HEAD, 204, 304): whatever an HTTP/2 backend still sends is dropped. */
    private boolean noBodyOut;
    /** After a WebSocket upgrade: the backend connection bytes go to and come from. */
    private Channel tunnelPeer;
    private Exchange tunnelExchange;

    private final ClientTimeouts timeouts;
    /**
     * When the head being read began (the connection's accept, the first byte after an idle
     * spell, or the end of the previous exchange), when the connection went idle, or when it
     * began closing: the start of the phase's deadline.
     */
    private long phaseSinceNanos;
    /**
     * Between two requests, nothing of the next one read: the keep-alive timeout runs. Empty lines
     * before a request line are part of its head: they do not make the connection idle again.
     */
    private boolean idle;
    /** When the client last sent something (or was read again after a pause), or a tunnel carried bytes either way. */
    private long lastReadNanos;
    /** Since when the client has not taken what is written to it (the channel is not writable); 0 while it takes it. */
    private long sendStalledSinceNanos;
    /** What was waiting to go to the client when the stall was last looked at: less now means it took some. */
    private long sendStalledPending;
    private ScheduledFuture<?> timer;
    private long timerDueNanos;
    private final Runnable expire = this::expire;
    /** The first bytes were looked at: HTTP/1.1 from now on, or HTTP/2 took over. */
    private boolean spoken;

    FrontConnection(Loop loop, ClientTimeouts timeouts, boolean secure) {
        this.loop = loop;
        this.timeouts = timeouts;
        this.secure = secure;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        channel = ctx.channel();
        // Like nginx's client_header_timeout, the first head's deadline runs from the accept.
        phaseSinceNanos = System.nanoTime();
        arm(phaseSinceNanos + timeouts.headNanos(), phaseSinceNanos);
    }

    @Override
    public boolean secure() {
        return secure;
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public String clientAddress() {
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
        long now = System.nanoTime();
        lastReadNanos = now;
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
            if (lingerSinceNanos != 0) {
                phaseSinceNanos = now;
            }
            return;
        }
        if (idle) {
            // The next request's first bytes: its head must be whole within the head timeout.
            idle = false;
            phaseSinceNanos = now;
        }
        pending = pending == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, in);
        if (!spoken) {
            int preface = Http2Front.prefaceMatch(pending);
            if (preface < 0) {
                // A part of HTTP/2's preface: the rest decides.
                return;
            }
            spoken = true;
            if (preface > 0) {
                switchToHttp2();
                return;
            }
        }
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
        if (idle && (current != null || pending != null)) {
            // The next request (pipelined) began with the end of the previous one: its head's deadline runs.
            idle = false;
        }
        long deadline = phaseDeadline();
        if (deadline != 0) {
            arm(deadline, 0);
        }
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

    @Override
    public void resume() {
        process();
    }

    /**
     * TLS chose the protocol: HTTP/2 when the client offered {@code h2} through ALPN (weldr's
     * first choice), this connection's HTTP/1.1 otherwise.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess() && !spoken) {
            SslHandler tls = channel.pipeline().get(SslHandler.class);
            if (tls != null && ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                spoken = true;
                switchToHttp2();
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * The client speaks HTTP/2 (h2 chosen through ALPN, or h2c's preface sent first): its
     * codec takes this connection's place, with what was read so far.
     */
    private void switchToHttp2() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        closing = true;
        ByteBuf read = pending;
        pending = null;
        Http2Front.install(channel.pipeline(), loop, timeouts, secure);
        if (!reading) {
            reading = true;
            channel.config().setAutoRead(true);
        }
        if (read != null) {
            ctx.fireChannelRead(read);
            ctx.fireChannelReadComplete();
        }
        channel.pipeline().remove(this);
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

    @Override
    public void flushLater(Channel backend) {
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
        boolean want = (!closing || lingerSinceNanos != 0) && (current == null || !current.holdsClientReading())
                && (pending == null || pending.readableBytes() < READ_AHEAD);
        if (want != reading && tunnelPeer == null) {
            reading = want;
            channel.config().setAutoRead(want);
            if (want) {
                // The client was not read meanwhile: its silence was weldr's doing, not its own.
                lastReadNanos = System.nanoTime();
            }
        }
    }

    // ---- answering --------------------------------------------------------------------------

    private void write(Object msg) {
        // From this handler on, not from the pipeline's tail.
        ctx.write(msg, ctx.voidPromise());
    }

    @Override
    public void sendContinue() {
        channel.writeAndFlush(Heads.continueHead(), channel.voidPromise());
    }

    @Override
    public void sendHead(Exchange ex, HttpHead resp, int bodyMode, ByteBuf in, int wholeBody, byte[] hsts) {
        boolean close = !ex.keepAlive;
        chunkedOut = false;
        noBodyOut = false;
        if (bodyMode == BodyReader.CHUNKED || bodyMode == BodyReader.UNTIL_CLOSE) {
            if (ex.http10) {
                // An HTTP/1.0 client cannot take chunks: the body is streamed and its end is the
                // connection's end (RFC 9112 §6.3), instead of being held whole in memory.
                close = true;
            } else {
                // Chunked from the backend, or delimited by its connection's end: chunked to the client.
                chunkedOut = true;
            }
        }
        ex.closeAfter |= close;
        ByteBuf out = loop.writing(Heads.responseBound(resp) + (hsts == null ? 0 : hsts.length) + Math.max(0, wholeBody));
        Heads.response(out, resp, chunkedOut, connectionHeader(ex, close), null, hsts, loop.date);
        if (wholeBody > 0) {
            // One write for head and body.
            out.writeBytes(in, wholeBody);
        }
        write(loop.written());
    }

    @Override
    public void sendHead(Exchange ex, Http2Headers response, boolean endStream, byte[] hsts) {
        int status = response.status() == null ? 502 : Integer.parseInt(response.status().toString());
        boolean close = !ex.keepAlive;
        boolean noBody = endStream || ex.head || status == 204 || status == 304;
        noBodyOut = noBody;
        chunkedOut = false;
        if (!noBody && !response.contains("content-length")) {
            if (ex.http10) {
                close = true;
            } else {
                // gRPC answers have no length, and may end with trailers: chunks carry both.
                chunkedOut = true;
            }
        }
        ex.closeAfter |= close;
        write(Http2Heads.http1Response(channel.alloc(), response, status, chunkedOut, endStream && !ex.head, connectionHeader(ex, close),
                hsts, loop.date));
    }

    @Override
    public void sendTrailers(Http2Headers trailers) {
        if (chunkedOut && !noBodyOut) {
            write(Http2Heads.lastChunk(channel.alloc(), trailers));
        }
        // A body with a length ends with its last byte: trailers have no place in it.
    }

    @Override
    public void sendBody(ByteBuf data) {
        if (noBodyOut) {
            // Bytes after a head that says there are none would be read as the next response.
            data.release();
            return;
        }
        if (chunkedOut) {
            write(loop.chunkStart(data.readableBytes()));
            write(data);
            write(Heads.chunkEnd());
        } else {
            write(data);
        }
    }

    @Override
    public void sendEnd(ByteBuf trailers) {
        if (chunkedOut) {
            write(loop.lastChunk(trailers));
        }
        if (trailers != null) {
            trailers.release();
        }
    }

    @Override
    public void sendText(Exchange ex, int status, String text, byte[] hsts) {
        write(Heads.text(channel.alloc(), status, text, connectionHeader(ex, ex.closeAfter), hsts, !ex.head, loop.date));
    }

    @Override
    public void sendRedirect(Exchange ex, int hostEnd, int port) {
        write(Heads.redirect(channel.alloc(), ex.request, hostEnd, port, connectionHeader(ex, ex.closeAfter), loop.date));
    }

    /** What the answer says of the client's connection: close, keep-alive for HTTP/1.0, else nothing. */
    private static int connectionHeader(Exchange ex, boolean close) {
        return close ? Heads.CONNECTION_CLOSE : ex.http10 ? Heads.CONNECTION_KEEP_ALIVE : Heads.CONNECTION_UNSAID;
    }

    @Override
    public void answered(Exchange ex) {
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
        idle = true;
        phaseSinceNanos = System.nanoTime();
        process();
    }

    @Override
    public void cut() {
        closing = true;
        current = null;
        channel.close();
    }

    private void closeAfterWrites() {
        closing = true;
        current = null;
        releasePending();
        // A client that does not take the last answer either is closed after the send timeout.
        phaseSinceNanos = System.nanoTime();
        arm(phaseSinceNanos + timeouts.sendNanos(), phaseSinceNanos);
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (f.isSuccess()) {
                linger();
            } else {
                channel.close();
            }
        });
    }

    /**
     * The last answer went out: weldr shuts its sending side (after TLS's close_notify) and drops
     * what the client still sends until it closes or is quiet (nginx's lingering close); closing
     * outright with unread bytes would make the kernel send a reset, which can reach the client
     * before it has read the answer.
     */
    private void linger() {
        if (!channel.isActive()) {
            return;
        }
        if (!(channel instanceof DuplexChannel duplex) || duplex.isInputShutdown()) {
            channel.close();
            return;
        }
        SslHandler tls = secure ? channel.pipeline().get(SslHandler.class) : null;
        if (tls == null) {
            shutOutput(duplex);
        } else {
            tls.closeOutbound().addListener(f -> shutOutput(duplex));
        }
    }

    private void shutOutput(DuplexChannel duplex) {
        duplex.shutdownOutput().addListener(f -> {
            if (!f.isSuccess() || !channel.isActive()) {
                channel.close();
                return;
            }
            long now = System.nanoTime();
            lingerSinceNanos = now;
            phaseSinceNanos = now;
            reading = true;
            channel.config().setAutoRead(true);
            arm(now + LINGER_QUIET_NANOS, now);
        });
    }

    /** A request weldr cannot read or will not serve: 400 (405 for CONNECT, 414, 431 for what is too long, 505 for another HTTP) and the connection closes. */
    private void badRequest(HttpHead.BadHead bad) {
        refuse(bad.status, bad.getMessage());
    }

    /** weldr answers {@code code} to a request it will not read to its end, and the connection closes. */
    private void refuse(int code, String why) {
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
        HttpResponseStatus status = HttpResponseStatus.valueOf(code);
        write(Heads.text(channel.alloc(), code, status.code() + " " + status.reasonPhrase()
                + ": " + why + "\n", Heads.CONNECTION_CLOSE, loop.date));
        closeAfterWrites();
    }

    // ---- WebSocket: after the backend's 101, bytes flow both ways -------------------------------

    @Override
    public void tunnel(HttpHead resp, BackendConnection backend, Exchange ex) {
        String protocol = resp.get("upgrade");
        Heads.response(loop.writing(Heads.responseBound(resp)), resp, false, Heads.CONNECTION_UNSAID,
                protocol == null ? "websocket" : protocol, loop.date);
        ByteBuf responseHead = loop.written();
        tunnelPeer = backend.channel;
        tunnelExchange = ex;
        backend.tunnelPeer = channel;
        backend.tunnelFront = this;
        tunnelled();
        channel.writeAndFlush(responseHead, channel.voidPromise());
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

    /** The tunnel carried bytes (either way): its idle timeout starts again. */
    void tunnelled() {
        lastReadNanos = System.nanoTime();
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
        if (!channel.isWritable()) {
            long now = System.nanoTime();
            sendStalledSinceNanos = now;
            sendStalledPending = pendingWrites();
            arm(now + timeouts.sendNanos(), now);
        } else {
            sendStalledSinceNanos = 0;
        }
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
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
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

    // ---- deadlines ----------------------------------------------------------------------------

    /**
     * The deadline of the phase the connection is in; 0 when none runs (its request is whole and
     * waits for its answer, or weldr does not read it while a backend cannot take its body).
     */
    private long phaseDeadline() {
        if (tunnelPeer != null) {
            return lastReadNanos + timeouts.tunnelNanos();
        }
        if (lingerSinceNanos != 0) {
            return Math.min(phaseSinceNanos + LINGER_QUIET_NANOS, lingerSinceNanos + LINGER_MAX_NANOS);
        }
        if (closing) {
            return phaseSinceNanos + timeouts.sendNanos();
        }
        Exchange ex = current;
        if (ex == null) {
            return phaseSinceNanos + (idle ? timeouts.keepAliveNanos() : timeouts.headNanos());
        }
        if (!ex.requestEnded && reading) {
            return lastReadNanos + timeouts.bodyNanos();
        }
        return 0;
    }

    /**
     * Makes the timer fire by {@code deadline}: nothing to do when it fires sooner (it then works
     * out the deadline again), so moving through phases costs no new timer as a rule.
     * {@code now}: the current time when the caller has it, else 0.
     */
    private void arm(long deadline, long now) {
        if (timer != null) {
            if (timerDueNanos - deadline <= 0) {
                return;
            }
            timer.cancel(false);
        }
        if (now == 0) {
            now = System.nanoTime();
        }
        timerDueNanos = deadline;
        timer = channel.eventLoop().schedule(expire, Math.max(0, deadline - now), TimeUnit.NANOSECONDS);
    }

    /** The timer fired: closes the connection whose deadline passed, else waits for the next deadline. */
    private void expire() {
        timer = null;
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        long next = now + timeouts.pollNanos();
        if (sendStalledSinceNanos != 0) {
            long waiting = pendingWrites();
            if (waiting < sendStalledPending) {
                // The client took some: nginx's send_timeout runs between two writes that went out.
                sendStalledPending = waiting;
                sendStalledSinceNanos = now;
            } else if (now - sendStalledSinceNanos >= timeouts.sendNanos()) {
                channel.close();
                return;
            }
            next = Math.min(next, sendStalledSinceNanos + timeouts.sendNanos());
        }
        long deadline = phaseDeadline();
        if (deadline != 0) {
            if (now - deadline >= 0) {
                phaseExpired();
                return;
            }
            next = Math.min(next, deadline);
        }
        arm(next, now);
    }

    /** Bytes written to the client and not taken by its socket yet. */
    private long pendingWrites() {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    private void phaseExpired() {
        if (tunnelPeer == null && !closing && (current != null || pending != null && pending.isReadable())) {
            // Part of a request came, not the rest: nginx's and HAProxy's 408.
            refuse(408, "the request did not come whole in time");
            return;
        }
        // Nothing was asked (an idle keep-alive connection, a connection that never sent a byte,
        // as nginx and HAProxy's http-ignore-probes do), a silent tunnel, or an answer nobody takes.
        channel.close();
    }
}
