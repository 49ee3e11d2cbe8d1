package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * A client's request as the {@link Exchange} reads it, whichever protocol brought it: an HTTP/1
 * head ({@link HttpHead}, its bytes as they came) or an HTTP/2 stream's headers
 * ({@link Http2Request}). Routing and redirects read the host and the path as byte ranges of
 * {@link #bytes()}, so neither protocol's request is copied into the other's form to be routed.
 */
interface Request {

    /** {@link HttpHead#GET}, {@link HttpHead#HEAD} or {@link HttpHead#OTHER}. */
    int methodKind();

    String methodName();

    /** The request carries a body (HTTP/1: a length above 0 or chunks; HTTP/2: no END_STREAM on its headers). */
    boolean hasBody();

    /** The body's length when the client said it; -1 otherwise. */
    long declaredLength();

    /** The client asks to be told when to send its body (Expect: 100-continue). */
    boolean expectsContinue();

    /** The client's connection may carry another request after this one (always, for HTTP/2). */
    boolean keepAlive();

    boolean http10();

    /** A WebSocket upgrade (HTTP/1.1 only). */
    boolean wantsWebSocket();

    /**
     * What makes weldr refuse the request before routing it, or null: an HTTP/1 head's transfer
     * coding weldr does not know, or a missing Host. The client's connection closes after the answer.
     */
    HttpHead.BadHead refusal();

    /** The first value of a header, or null. */
    String get(String name);

    /** Every value of a header, in order. */
    List<String> getAll(String name);

    // ---- the byte ranges routes and redirects read ----------------------------------------------

    byte[] bytes();

    /** The host as the client named it (with its port); negative when it named none. */
    int hostStart();

    int hostEnd();

    /** The host routes match: without port or IPv6 brackets; empty when none was named. */
    int routeHostStart();

    int routeHostEnd();

    /** The target (path and query) as it came. */
    int targetStart();

    int targetEnd();

    /** The target goes to a backend with a {@code /} before it (an absolute form without a path). */
    boolean targetNeedsSlash();

    // ---- for the access log and the metrics -------------------------------------------------------

    /** nginx's {@code $request}: method, target and protocol. */
    String requestLine();

    /** The protocol the client spoke, as the access log and {@code weldr_requests_total} name it. */
    String protocol();

    // ---- to an HTTP/1.1 backend -------------------------------------------------------------------

    /** At most how many bytes {@link #writeHttp1} writes. */
    int http1Bound(String clientAddress);

    /** The request's head for an HTTP/1.1 backend (see {@link Heads#request}). */
    void writeHttp1(ByteBuf out, String clientAddress, boolean upgrade, boolean secure);

    /** The body goes to an HTTP/1.1 backend in chunks (it came in chunks, or with no length). */
    boolean chunkedToHttp1();

    /**
     * The head waits for the body's first chunk line to be found valid before it goes to a
     * backend: a request refused for its framing never reaches one (HTTP/1 chunks).
     */
    boolean headWaitsForBody();
}
