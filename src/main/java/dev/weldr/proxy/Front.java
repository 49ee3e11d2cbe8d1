package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * Where an {@link Exchange} answers its client: the encoder of the protocol the request came in.
 * HTTP/1 ({@link FrontConnection}) writes status lines, chunks and the {@code Connection} header
 * of one connection; HTTP/2 ({@link Http2Stream}) writes HEADERS and DATA frames of one stream.
 * The exchange decides what to answer; the front decides how it is framed.
 */
interface Front {

    /** The client came over TLS. */
    boolean secure();

    String clientAddress();

    /** The channel answers are written to (a connection, or an HTTP/2 stream's child channel). */
    Channel channel();

    /** A backend channel written to: flushed at the end of the current read from the client, or now. */
    void flushLater(Channel backend);

    /** The exchange can take the request body now (a backend connection is ready, or keeps up again). */
    void resume();

    /** The client waits to be told to send its body (Expect: 100-continue): it may now. */
    void sendContinue();

    /**
     * The backend's response head ({@code bodyMode} says how its body comes, see {@link BodyReader});
     * {@code in} holds {@code wholeBody} bytes of a small whole body to send with it (-1: none).
     * {@code hsts}: the route's Strict-Transport-Security line, or null.
     */
    void sendHead(Exchange ex, HttpHead response, int bodyMode, ByteBuf in, int wholeBody, byte[] hsts);

    /**
     * An HTTP/2 backend's response head; {@code endStream}: the whole answer (no body, or a gRPC
     * trailers-only answer, which must reach the client as such). Also weldr's own gRPC answers.
     */
    void sendHead(Exchange ex, Http2Headers response, boolean endStream, byte[] hsts);

    /** An HTTP/2 backend's trailers, which end the answer (HTTP/1.1: in the last chunk, RFC 9112 §7.1.2). */
    void sendTrailers(Http2Headers trailers);

    /** A part of the response body. */
    void sendBody(ByteBuf data);

    /** The response body ended; {@code trailers}: trailer lines (CR LF each) to pass on, or null. Takes ownership. */
    void sendEnd(ByteBuf trailers);

    /** weldr's own short answer (502, 503, 504, 400, ...), whole. */
    void sendText(Exchange ex, int status, String text, byte[] hsts);

    /** The route's 308 to HTTPS ({@code hostEnd}: where the request's host ends before a port). */
    void sendRedirect(Exchange ex, int hostEnd, int port);

    /** The client's answer went out whole (flushed by whoever wrote it last). */
    void answered(Exchange ex);

    /** The response was cut mid-body: the client can only learn it from a broken connection or a reset stream. */
    void cut();

    /** The backend accepted a WebSocket upgrade (HTTP/1.1 only): bytes flow both ways from now on. */
    void tunnel(HttpHead response, BackendConnection backend, Exchange ex);
}
