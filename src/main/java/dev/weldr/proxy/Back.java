package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * Where an {@link Exchange} sends its request, one try at a time: the back side's encoder, as
 * {@link Front} is the client side's. HTTP/1.1 ({@link BackendConnection}) is a whole connection
 * serving one exchange at a time; HTTP/2 ({@link Http2Back}) is one stream of a connection shared
 * by many. Either tells the exchange what comes back (its {@code respond}, {@code responseBody},
 * {@code responseEnded} or {@code responseTrailers}, and {@code backendLost}).
 */
interface Back {

    /** The channel written to: its writability and auto-read carry the back-pressure both ways. */
    Channel channel();

    /** The exchange's request goes out here: what comes back is its answer. */
    void expect(Exchange ex);

    /** The request's head, for the backend's protocol ({@code upgrade}: a WebSocket upgrade, HTTP/1.1 only). */
    void sendHead(Exchange ex, boolean upgrade);

    /** A part of the request body ({@code chunked}: in a chunk of its own, for HTTP/1.1). Takes ownership. */
    void sendBody(ByteBuf data, boolean chunked);

    /** The request body's end; {@code trailers}: the client's trailer lines (CR LF each), or null. Takes ownership. */
    void sendEnd(ByteBuf trailers, boolean chunked);

    /**
     * The exchange is done with this: kept for another request when {@code reusable} (an HTTP/1.1
     * connection goes back to the idle cache), else closed (an HTTP/2 stream still open is reset).
     */
    void finish(boolean reusable);
}
