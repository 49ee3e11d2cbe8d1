package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;

/**
 * One exchange's stream on an HTTP/2 connection to a backend ({@link Http2Connection}), in its own
 * child channel: the request goes out as HEADERS, DATA and, when the client sent some, trailers;
 * the response comes back as a head, DATA and trailers, each handed to the exchange as it is,
 * structured (gRPC's status lives in the trailers). Back-pressure is the stream's: while the client
 * does not take the answer the exchange stops reading this channel, so its window is not opened
 * again and the backend waits, while the connection's other streams go on.
 */
final class Http2Back extends ChannelInboundHandlerAdapter implements Back {

    /** The backend reset the stream: why, for the log and the retry. */
    static final class Reset extends IOException {
        final Http2Error error;

        Reset(Http2Error error) {
            super("the backend reset the stream (" + error + ")", null);
            this.error = error;
        }
    }

    private final Http2Connection connection;
    private Channel channel;
    private Exchange exchange;
    /** The final response head came (interim ones are skipped). */
    private boolean headRead;
    /** The backend ended its side of the stream. */
    private boolean ended;
    private Throwable failure;
    private Channel toFlush;

    Http2Back(Http2Connection connection) {
        this.connection = connection;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    // ---- Back ---------------------------------------------------------------------------------

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public void expect(Exchange ex) {
        exchange = ex;
    }

    @Override
    public void sendHead(Exchange ex, boolean upgrade) {
        Http2Headers headers = Http2Heads.request(ex.request, ex.front.clientAddress(), ex.front.secure(), connection.tls != null,
                ex.backend.id());
        channel.write(new DefaultHttp2HeadersFrame(headers, !ex.hasBody));
    }

    @Override
    public void sendBody(ByteBuf data, boolean chunked) {
        channel.write(new DefaultHttp2DataFrame(data, false));
    }

    @Override
    public void sendEnd(ByteBuf trailers, boolean chunked) {
        Http2Headers t = trailers == null ? null : Http2Heads.trailers(trailers);
        if (trailers != null) {
            trailers.release();
        }
        if (t != null && !t.isEmpty()) {
            channel.write(new DefaultHttp2HeadersFrame(t, true));
        } else {
            channel.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        }
    }

    @Override
    public void finish(boolean reusable) {
        // A stream serves one exchange. Closed while still open, it is reset (CANCEL): the
        // backend stops working on an answer nobody will read.
        exchange = null;
        channel.close();
    }

    // ---- what the backend sends ---------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            Exchange ex = exchange;
            if (ex == null) {
                return;
            }
            toFlush = ex.front.channel();
            if (msg instanceof Http2HeadersFrame h) {
                headers(ex, h);
            } else if (msg instanceof Http2DataFrame d) {
                data(ex, d);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void headers(Exchange ex, Http2HeadersFrame frame) {
        Http2Headers h = frame.headers();
        if (!wellFormed(h, !headRead)) {
            protocolError();
            return;
        }
        if (!headRead) {
            int status = status(h);
            if (status < 100) {
                protocolError();
                return;
            }
            if (status < 200) {
                // Interim: weldr answers Expect itself; the final response follows.
                return;
            }
            headRead = true;
            ended = frame.isEndStream();
            ex.respond(h, status, ended);
            return;
        }
        if (!frame.isEndStream()) {
            // Trailers end the stream (RFC 9113 §8.1).
            protocolError();
            return;
        }
        ended = true;
        ex.responseTrailers(h);
    }

    private void data(Exchange ex, Http2DataFrame frame) {
        if (!headRead) {
            protocolError();
            return;
        }
        ByteBuf content = frame.content();
        if (content.isReadable()) {
            ex.responseBody(content.retain());
        }
        if (frame.isEndStream() && exchange == ex) {
            ended = true;
            ex.responseEnded(null);
        }
    }

    /**
     * Netty checks the names of a backend's fields, not their values: a CR, LF or NUL in one would
     * split a line once written for an HTTP/1.1 client. Only a response head has a pseudo-header, :status.
     */
    private static boolean wellFormed(Http2Headers h, boolean head) {
        try {
            for (java.util.Map.Entry<CharSequence, CharSequence> e : h) {
                CharSequence name = e.getKey();
                if (name.length() > 0 && name.charAt(0) == ':') {
                    if (!head || !Http2Headers.PseudoHeaderName.STATUS.value().contentEquals(name)) {
                        return false;
                    }
                    continue;
                }
                Http2Request.checkField(name, e.getValue());
            }
            return true;
        } catch (Http2Request.Malformed bad) {
            return false;
        }
    }

    private static int status(Http2Headers h) {
        CharSequence s = h.status();
        if (s == null || s.length() != 3) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private void protocolError() {
        failure = new IOException("the backend's response on stream " + channel + " is malformed");
        channel.close();
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame r) {
            Http2Error error = Http2Error.valueOf(r.errorCode());
            failure = new Reset(error == null ? Http2Error.INTERNAL_ERROR : error);
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = exchange;
        if (ex != null) {
            ex.backendWritable(channel.isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.streamClosed();
        Exchange ex = exchange;
        exchange = null;
        if (ex != null && !ended) {
            ex.backendLost(failure);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failure = cause;
        ctx.close();
    }
}
