package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * One HTTP/2 stream of a client's connection, in its own child channel (Netty's
 * {@code Http2MultiplexHandler}): its request is one {@link Exchange}, and this is the exchange's
 * {@link Front}, framing the answer as HEADERS and DATA frames. The stream's own auto-read and
 * writability carry the back-pressure: while its exchange cannot take the body, the stream is not
 * read, so its window is not opened again and the client waits; while the client does not take
 * the answer (its window is shut), the stream is not writable and the backend is not read. The
 * other streams of the connection go on.
 *
 * <p>A malformed request (RFC 9113 §8.1.1) resets the stream with PROTOCOL_ERROR before
 * anything is routed; a body longer or shorter than its content-length likewise.
 */
final class Http2Stream extends ChannelInboundHandlerAdapter implements Front {

    private final Loop loop;
    private final Http2Front connection;
    private Channel channel;
    private Exchange ex;
    /** DATA the exchange could not take yet, in order (at most the stream's window). */
    private ArrayDeque<ByteBuf> held;
    /** The client ended its side of the stream (END_STREAM read). */
    private boolean endRead;
    /** Trailers the client sent, as lines for an HTTP/1.1 backend; null for none. */
    private ByteBuf trailers;
    /** The end of the request body was handed to the exchange. */
    private boolean endGiven;
    private long bodyRead;
    /** END_STREAM went out with the answer's head. */
    private boolean endSent;
    private boolean reading = true;
    private boolean inRead;
    private Channel toFlush;
    private boolean reset;
    /** When the client last sent a part of the request (or was read again after a pause). */
    private long lastReadNanos;
    /** Since when the client has taken none of this stream's answer (the stream not writable); 0 while it takes it. */
    private long sendStalledSinceNanos;

    Http2Stream(Loop loop, Http2Front connection) {
        this.loop = loop;
        this.connection = connection;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    // ---- reading ----------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        try {
            if (reset) {
                return;
            }
            if (msg instanceof Http2HeadersFrame h) {
                headers(h);
            } else if (msg instanceof Http2DataFrame d) {
                data(d);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void headers(Http2HeadersFrame frame) {
        if (ex == null) {
            Http2Request request;
            try {
                request = Http2Request.of(frame.headers(), !frame.isEndStream());
            } catch (Http2Request.Malformed e) {
                reset(Http2Error.PROTOCOL_ERROR);
                return;
            }
            endRead = frame.isEndStream();
            ex = new Exchange(loop, this, request);
            lastReadNanos = System.nanoTime();
            connection.streamStarted(this);
            ex.start();
            updateReading();
            return;
        }
        // Trailers: they end the stream (RFC 9113 §8.1), and carry no pseudo-header.
        if (endRead) {
            // RFC 9113 §5.1: a frame on a half-closed (remote) stream.
            reset(Http2Error.STREAM_CLOSED);
            return;
        }
        if (!frame.isEndStream()) {
            reset(Http2Error.PROTOCOL_ERROR);
            return;
        }
        try {
            for (Map.Entry<CharSequence, CharSequence> e : frame.headers()) {
                Http2Request.checkField(e.getKey(), e.getValue());
            }
        } catch (Http2Request.Malformed e) {
            reset(Http2Error.PROTOCOL_ERROR);
            return;
        }
        if (!lengthEnds()) {
            return;
        }
        endRead = true;
        trailers = Http2Heads.trailerLines(frame.headers(), channel.alloc());
        drain();
    }

    private void data(Http2DataFrame frame) {
        if (ex == null || endRead) {
            reset(Http2Error.STREAM_CLOSED);
            return;
        }
        ByteBuf content = frame.content();
        lastReadNanos = System.nanoTime();
        bodyRead += content.readableBytes();
        long declared = ex.request.declaredLength();
        if (declared >= 0 && bodyRead > declared) {
            // RFC 9113 §8.1.1: DATA beyond the content-length is malformed.
            reset(Http2Error.PROTOCOL_ERROR);
            return;
        }
        if (frame.isEndStream() && !lengthEnds()) {
            return;
        }
        if (content.isReadable()) {
            if (held == null) {
                held = new ArrayDeque<>(4);
            }
            held.add(content.retain());
        }
        endRead = frame.isEndStream();
        drain();
    }

    /** The body came whole: as long as its content-length said (else the stream is reset). */
    private boolean lengthEnds() {
        long declared = ex.request.declaredLength();
        if (declared >= 0 && bodyRead != declared) {
            reset(Http2Error.PROTOCOL_ERROR);
            return false;
        }
        return true;
    }

    /** Gives the exchange what it can take of the body now. */
    private void drain() {
        Exchange e = ex;
        while (held != null && !held.isEmpty() && e == ex && !e.holdsClientReading()) {
            e.body(held.poll());
        }
        if (endRead && !endGiven && e == ex && (held == null || held.isEmpty()) && !e.holdsClientReading()) {
            endGiven = true;
            ByteBuf t = trailers;
            trailers = null;
            e.bodyEnded(t);
            if (e.done) {
                answered(e);
            }
        }
        updateReading();
    }

    /** Reads the stream only while its exchange can take what it sends (else its window stays shut). */
    private void updateReading() {
        boolean want = ex == null || !ex.holdsClientReading() && (held == null || held.isEmpty());
        if (want != reading && channel.isActive()) {
            reading = want;
            channel.config().setAutoRead(want);
            if (want) {
                // The stream was not read meanwhile: its silence was weldr's doing, not the client's.
                lastReadNanos = System.nanoTime();
            }
        }
    }

    /**
     * Called by the connection's timer. The request body stopped coming while weldr read it
     * (client-body): 408, or a reset once the answer has begun. The client took none of the
     * answer for the send timeout (its window for this stream shut): reset.
     */
    void checkDeadlines(long now, ClientTimeouts timeouts) {
        Exchange e = ex;
        if (e == null || reset) {
            connection.streamEnded(this);
            return;
        }
        // A gRPC stream may stay quiet as long as its deadline allows (a client-streaming call's
        // client may send nothing for minutes): the body deadline is HTTP's, not gRPC's.
        if (!endRead && reading && now - lastReadNanos >= timeouts.bodyNanos() && !Grpc.is(e.request)) {
            bodyTimedOut(e);
            return;
        }
        if (channel.isWritable()) {
            sendStalledSinceNanos = 0;
        } else if (sendStalledSinceNanos == 0) {
            sendStalledSinceNanos = now;
        } else if (now - sendStalledSinceNanos >= timeouts.sendNanos()) {
            reset(Http2Error.CANCEL);
        }
    }

    private void bodyTimedOut(Exchange e) {
        if (e.responseStarted) {
            reset(Http2Error.CANCEL);
            return;
        }
        // As HTTP/1.1's 408 (nginx's client_body_timeout): the backend's request is abandoned.
        e.abandoned();
        ex = null;
        release();
        sendText(e, 408, "408 Request Timeout: the request body did not come whole in time\n", null);
        reset = true;
        connection.streamEnded(this);
        channel.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            // The client cancelled the stream: like a client that closes its HTTP/1.1 connection.
            gone();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ex != null && channel.isWritable()) {
            ex.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        gone();
    }

    /** A stream error the codec found (the frame codec hands it to the stream): the reset names it. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http2Exception h2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        // CANCEL for weldr's own trouble: unlike INTERNAL_ERROR it does not count toward the
        // resets Netty allows weldr to send (MadeYouReset's limit), which would end the connection.
        reset(h2 != null ? h2.error() : Http2Error.CANCEL);
    }

    private void gone() {
        Exchange e = ex;
        if (e != null && !e.complete()) {
            ex = null;
            e.clientGone();
        }
        release();
    }

    private void release() {
        connection.streamEnded(this);
        if (held != null) {
            ByteBuf b;
            while ((b = held.poll()) != null) {
                b.release();
            }
        }
        if (trailers != null) {
            trailers.release();
            trailers = null;
        }
    }

    /** Ends the stream with RST_STREAM: its exchange, if any, is abandoned. */
    private void reset(Http2Error error) {
        if (reset) {
            return;
        }
        reset = true;
        Exchange e = ex;
        ex = null;
        if (e != null && !e.done) {
            e.clientGone();
        } else if (e != null) {
            e.abandoned();
        }
        release();
        connection.streamReset(error);
        if (channel.isActive()) {
            channel.writeAndFlush(new DefaultHttp2ResetFrame(error)).addListener(f -> channel.close());
        }
    }

    // ---- Front ----------------------------------------------------------------------------------

    @Override
    public boolean secure() {
        return connection.secure;
    }

    @Override
    public String clientAddress() {
        return connection.clientAddress();
    }

    @Override
    public Channel channel() {
        return channel;
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

    @Override
    public void resume() {
        if (ex != null) {
            drain();
        }
    }

    @Override
    public void sendContinue() {
        channel.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(HttpResponseStatus.CONTINUE.codeAsText()), false));
    }

    @Override
    public void sendHead(Exchange e, HttpHead response, int bodyMode, ByteBuf in, int wholeBody, byte[] hsts) {
        Http2Headers headers = Http2Heads.response(response, hsts, loop.date);
        boolean empty = wholeBody == 0 || bodyMode == BodyReader.NONE || bodyMode == BodyReader.LENGTH && response.contentLength == 0;
        endSent = empty;
        write(new DefaultHttp2HeadersFrame(headers, empty));
        if (wholeBody > 0) {
            endSent = true;
            write(new DefaultHttp2DataFrame(in.readRetainedSlice(wholeBody), true));
        }
    }

    /** A frame toward the client; nobody waits on its outcome (a failed write closes the stream anyway). */
    private void write(Object frame) {
        channel.write(frame, channel.voidPromise());
    }

    @Override
    public void sendHead(Exchange e, Http2Headers response, boolean endStream, byte[] hsts) {
        endSent = endStream;
        write(new DefaultHttp2HeadersFrame(Http2Heads.fromBackend(response, hsts, loop.date), endStream));
    }

    @Override
    public void sendTrailers(Http2Headers t) {
        if (endSent) {
            return;
        }
        endSent = true;
        if (t.isEmpty()) {
            write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        } else {
            write(new DefaultHttp2HeadersFrame(t, true));
        }
    }

    @Override
    public void sendBody(ByteBuf data) {
        write(new DefaultHttp2DataFrame(data, false));
    }

    @Override
    public void sendEnd(ByteBuf lines) {
        if (endSent) {
            if (lines != null) {
                lines.release();
            }
            return;
        }
        endSent = true;
        Http2Headers t = lines == null ? null : Http2Heads.trailers(lines);
        if (lines != null) {
            lines.release();
        }
        if (t != null && !t.isEmpty()) {
            write(new DefaultHttp2HeadersFrame(t, true));
        } else {
            write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        }
    }

    @Override
    public void sendText(Exchange e, int status, String text, byte[] hsts) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        Http2Headers headers = Http2Heads.own(status, hsts, loop.date)
                .set("content-type", "text/plain; charset=utf-8")
                .setInt("content-length", body.length);
        endSent = true;
        if (e.head) {
            write(new DefaultHttp2HeadersFrame(headers, true));
        } else {
            write(new DefaultHttp2HeadersFrame(headers, false));
            write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
        }
    }

    @Override
    public void sendRedirect(Exchange e, int hostEnd, int port) {
        Http2Headers headers = Http2Heads.own(308, null, loop.date)
                .set("location", HttpsRedirect.location(e.request, hostEnd, port))
                .setInt("content-length", 0);
        endSent = true;
        write(new DefaultHttp2HeadersFrame(headers, true));
    }

    @Override
    public void answered(Exchange e) {
        if (ex != e) {
            return;
        }
        if (!endRead) {
            // The answer came before the whole request (weldr's own, or a backend's early one):
            // RFC 9113 §8.1 lets the server tell the client to stop sending with NO_ERROR.
            ex = null;
            release();
            channel.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            reset = true;
            return;
        }
        if (!endGiven) {
            // The rest of a body nobody reads: taken and dropped, so the window opens for it.
            drain();
        }
    }

    @Override
    public void cut() {
        // The backend's body was cut short: the client must not take what it got for the whole.
        // CANCEL, not INTERNAL_ERROR: a flaky backend must not use up the resets Netty lets
        // weldr send on this connection (the MadeYouReset limit), which would end its other streams.
        reset(Http2Error.CANCEL);
    }

    @Override
    public void tunnel(HttpHead response, BackendConnection backend, Exchange e) {
        // Never asked: an HTTP/2 request is no WebSocket upgrade (Request#wantsWebSocket).
        throw new IllegalStateException("no upgrade over HTTP/2");
    }
}
