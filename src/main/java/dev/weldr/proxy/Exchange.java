package dev.weldr.proxy;

import dev.weldr.proxy.lb.RequestKey;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;

import java.net.ConnectException;
import java.util.concurrent.CompletableFuture;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request's way through the proxy, on its client connection's event loop: it picks
 * the backend by the pool's policy, takes a cached connection or opens one, sends the head
 * and streams the bodies both ways with back-pressure,
 * retries on another server when that is safe, maps every failure to 502, 503 or 504 with a
 * short text body, and counts what happened. It is the same for every protocol: the request
 * comes as a {@link Request} and the answer goes out through a {@link Front}, which frame it for
 * the client's protocol (HTTP/1.1 or HTTP/2); the backend connection frames what goes to it.
 */
final class Exchange implements RequestKey {

    final long startNanos = System.nanoTime();
    final Loop loop;
    final Front front;
    final Request request;
    /** The request carries a body (Content-Length above 0, or chunked). */
    final boolean hasBody;
    final boolean head;
    final boolean http10;
    /** The client's connection may carry another request after this one. */
    final boolean keepAlive;
    PoolTable pool;
    /** The route's Strict-Transport-Security line for this answer (over HTTPS only, RFC 6797 §7.2); null for none. */
    private byte[] hsts;
    /**
     * weldr's own answer is the one asked for, not a failure: the route's redirect to HTTPS, or an
     * ACME challenge's key authorization.
     */
    private boolean intended;
    Backend backend;
    /**
     * When {@link #backend} was chosen, so that its latency holds no time spent on servers tried
     * before it: the request's arrival for the first try (no clock read on the common path).
     */
    private long backendNanos;
    /** The backend whose in-flight count this exchange holds. */
    private Backend holding;
    /** The backend connection (HTTP/1.1) or stream (HTTP/2) of the current try, once it is ready. */
    Back conn;
    int attempts;
    /** The backend whose failure was last counted, so that one failure is counted once. */
    private Backend failureCounted;
    /** Every backend that failed this request, so that no retry goes back to one; null until one fails. */
    private List<Backend> failed;
    /** A WebSocket upgrade: bytes flow both ways once the backend agrees. */
    private boolean upgrade;

    /** The client's request came whole (its last part was read). */
    boolean requestEnded;
    /** The whole request went to the backend: the read timeout runs from now on. */
    boolean requestSent;
    /** A response head went to the client: too late for an error page. */
    boolean responseStarted;
    /** The client's answer is complete (or cut) and counted. */
    boolean done;
    /** The backend's connection may serve another request after this answer. */
    private boolean backendKeepAlive;
    private int status;
    /** Body bytes sent to the client (nginx's {@code $body_bytes_sent}), for the access log. */
    private long bodyBytes;
    /** The client's connection is closed after this answer. */
    boolean closeAfter;
    /** weldr answered (400/501/502/503/504) instead of a backend. */
    boolean ownAnswer;
    /** The client sent {@code Expect: 100-continue} and holds its body back until told to continue. */
    boolean expectsContinue;
    private boolean continued;
    /**
     * The head of a chunked request waits on its backend connection until the body's first chunk
     * line was read and found valid: a request refused for its framing never reaches a backend.
     */
    private boolean headHeld;

    // The timeouts, checked by the loop's sweep (see Loop#sweep).
    /** When the backend last sent something (or was last expected to start). */
    long lastReadNanos;
    /** Since when the backend has not taken the request body; 0 while it takes it. */
    long stalledSinceNanos;
    /** The client does not take the body fast enough: the backend is paused, its silence is not its fault. */
    boolean clientPaused;
    /** The backend stayed silent past the read timeout (or did not take the body in time). */
    private boolean timedOut;
    /**
     * A gRPC client's deadline ({@code grpc-timeout}, to an HTTP/2 pool), as {@link System#nanoTime}:
     * it replaces the read timeout, so that a stream quiet for longer than that but within its
     * deadline is not cut, and ends the call when it passes. 0 for none.
     */
    long deadlineNanos;
    /** The client speaks gRPC (content-type application/grpc*): weldr's own failures are gRPC statuses. */
    private boolean grpc;
    /** The gRPC status of weldr's failure when its HTTP status does not say it (a stream the backend reset); 0 otherwise. */
    private int grpcFailure;
    /** Since when it waits for a stream of an HTTP/2 connection (see {@link Http2Connection#expireWaiting}). */
    long queuedSinceNanos;
    boolean watched;
    Exchange prevWatched;
    Exchange nextWatched;

    Exchange(Loop loop, Front front, Request request) {
        this.loop = loop;
        this.front = front;
        this.request = request;
        this.hasBody = request.hasBody();
        this.head = request.methodKind() == HttpHead.HEAD;
        this.http10 = request.http10();
        this.keepAlive = request.keepAlive();
        this.requestEnded = !hasBody;
    }

    // ---- a request arrives ------------------------------------------------------------------

    void start() {
        RoutingTable.Target route = loop.registry.table().route(request);
        pool = route.pool;
        hsts = front.secure() ? route.hsts : null;
        HttpHead.BadHead refused = request.refusal();
        if (refused != null) {
            closeAfter = true;
            answer(refused.status, refused.status + " " + HttpResponseStatus.valueOf(refused.status).reasonPhrase()
                    + ": " + refused.getMessage() + "\n");
            return;
        }
        // Expect: 100-continue is answered by weldr, as nginx does: "continue" once a backend
        // connection is ready for the body, or a final answer (and a closed connection) instead.
        // RFC 9110 §10.1.1: an HTTP/1.0 client's expectation is ignored (it sends its body anyway).
        expectsContinue = hasBody && request.expectsContinue() && !http10;
        if (!front.secure() && acmeChallenge(route)) {
            return;
        }
        route(route);
    }

    private void route(RoutingTable.Target route) {
        if (route.httpsRedirect && !front.secure() && HttpsRedirect.applies(request)) {
            redirect();
            return;
        }
        upgrade = request.wantsWebSocket();
        if (pool.settings.protocol().http2()) {
            // Read only for HTTP/2 pools: the HTTP/1.1 path looks up no header it does not need.
            grpc = Grpc.is(request);
            deadlineNanos = grpc ? Grpc.deadline(request, startNanos) : 0;
            if (upgrade) {
                closeAfter = true;
                answer(501, "501 Not Implemented: no WebSocket upgrade to a pool that speaks HTTP/2\n");
                return;
            }
        }
        if (upgrade && hasBody) {
            // The bytes after a WebSocket handshake are the new protocol's: a body there would
            // be taken for frames by one side and for the body by the other.
            closeAfter = true;
            answer(400, "400 Bad Request: a WebSocket upgrade request with a body\n");
            return;
        }
        connect(null);
    }

    /** A part of the client's body: read only while a backend connection takes it (see {@link #holdsClientReading}). */
    void body(ByteBuf data) {
        if (!wantsBody()) {
            // Nobody will read it: the rest of a body nobody wants.
            data.release();
            return;
        }
        Channel ch = conn.channel();
        if (headHeld) {
            writeHead();
        }
        conn.sendBody(data, request.chunkedToHttp1());
        front.flushLater(ch);
        if (!ch.isWritable()) {
            stalledSinceNanos = System.nanoTime();
            loop.watch(this);
        }
    }

    /** The client's body ended ({@code trailers}: a chunked body's trailer lines, or null). */
    void bodyEnded(ByteBuf trailers) {
        requestEnded = true;
        if (!wantsBody()) {
            if (trailers != null) {
                trailers.release();
            }
            return;
        }
        if (headHeld) {
            writeHead();
        }
        conn.sendEnd(trailers, request.chunkedToHttp1());
        front.flushLater(conn.channel());
        sentWhole();
    }

    private boolean wantsBody() {
        return hasBody && !done && !ownAnswer && !upgrade && conn != null;
    }

    /**
     * The client's body waits in its socket (and in what was read of it) while no backend
     * connection can take it: none is ready yet, or the one that is does not keep up.
     */
    boolean holdsClientReading() {
        return hasBody && !requestEnded && !done && !ownAnswer && (conn == null || stalledSinceNanos != 0);
    }

    // ---- choosing and opening the backend ---------------------------------------------------

    /** Picks a server (not {@code exclude}) and sends the request on a cached or new connection. */
    private void connect(Backend exclude) {
        Backend b = choose(exclude);
        if (b == null) {
            return;
        }
        if (pool.settings.protocol().http2()) {
            loop.h2.stream(b, this);
            return;
        }
        BackendConnection c = loop.takeIdle(b, pool);
        if (c != null) {
            send(c);
        } else {
            loop.open(b, this);
        }
    }

    /** The next server for this exchange, holding its in-flight count; null when weldr has answered instead. */
    private Backend choose(Backend exclude) {
        PoolTable p = pool;
        Backend b = loop.pick(p, this, exclude);
        if (b != null && failed != null && failed.contains(b)) {
            // A policy avoids only the server that failed last; from the third try on, an
            // earlier failure could come back. Take the first server not tried yet instead.
            b = untried(p, failed);
        }
        if (b == null) {
            if (exclude != null) {
                fail(new ConnectException("no other server to retry on"));
            } else {
                answer(503, "503 Service Unavailable: "
                        + (p.size == 0 ? "the pool is empty" : "no server in the pool is active") + "\n");
            }
            return null;
        }
        int cap = p.settings.limits().maxRequests();
        if (cap > 0 && b.inFlight() >= cap) {
            // Circuit breaking: a full server is skipped; when the next one is full too, 503 at once.
            Backend other = loop.pick(p, this, b);
            if (other == null || other.inFlight() >= cap) {
                answer(503, "503 Service Unavailable: every server of the pool is at its request limit\n");
                return null;
            }
            b = other;
        }
        release();
        backend = b;
        attempts++;
        backendNanos = attempts == 1 ? startNanos : System.nanoTime();
        b.inFlight.incrementAndGet();
        holding = b;
        return b;
    }

    private static Backend untried(PoolTable pool, List<Backend> failed) {
        for (Backend b : pool.routable) {
            if (!failed.contains(b)) {
                return b;
            }
        }
        return null;
    }

    /** A new connection is ready (TLS handshake done). */
    void opened(Back c) {
        if (done || ownAnswer || conn != null) {
            // The client went away (or weldr answered) while it was being made: cached for the next one.
            c.finish(true);
            return;
        }
        send(c);
        c.channel().flush();
    }

    /** Nothing reached the backend: any request may be tried on another server, within the pool's retries. */
    void connectFailed(Throwable failure) {
        if (done || ownAnswer) {
            return;
        }
        countFailure();
        if (attempts <= pool.settings.limits().retries()) {
            connect(backend);
        } else {
            fail(failure);
        }
    }

    // ---- the request on its way out ---------------------------------------------------------

    private void send(Back c) {
        conn = c;
        c.expect(this);
        if (request.headWaitsForBody()) {
            headHeld = true;
        } else {
            writeHead();
        }
        lastReadNanos = System.nanoTime();
        loop.watch(this);
        if (!hasBody) {
            sentWhole();
        } else {
            if (expectsContinue && !continued) {
                continued = true;
                front.sendContinue();
            }
            // The body comes now: what was read of it already, then the rest as it arrives.
            front.resume();
        }
    }

    private void writeHead() {
        headHeld = false;
        conn.sendHead(this, upgrade);
        front.flushLater(conn.channel());
    }

    private void sentWhole() {
        requestSent = true;
        lastReadNanos = System.nanoTime();
    }

    /** The backend connection can take more of the body again, or cannot. */
    void backendWritable(boolean writable) {
        if (writable && stalledSinceNanos != 0) {
            stalledSinceNanos = 0;
            front.resume();
            // What reading the client again wrote back to it (an HTTP/2 stream's WINDOW_UPDATE)
            // goes out now: this is no read of the client's, whose end would flush it.
            front.channel().flush();
        }
    }

    // ---- the response on its way back ---------------------------------------------------------

    /**
     * The backend's head; its body comes as {@code bodyMode} frames it (see {@link BodyReader}).
     * {@code wholeBody}: when the whole body is this small and was read with the head, the bytes
     * to send in the same buffer (taken from {@code in}); -1 otherwise.
     */
    void respond(HttpHead resp, int bodyMode, ByteBuf in, int wholeBody) {
        lastReadNanos = System.nanoTime();
        status = resp.status;
        if (upgrade && status == 101) {
            upgraded(resp);
            return;
        }
        headCame();
        backendKeepAlive = resp.keepAlive() && !upgrade;
        responseStarted = true;
        front.sendHead(this, resp, bodyMode, in, wholeBody, hsts);
        if (wholeBody > 0) {
            bodyBytes += wholeBody;
        }
    }

    private void headCame() {
        if (status >= 500) {
            // A 5xx is the server's failure as soon as its head arrives; anything else is its
            // success once the body has come whole (a body cut short is a failure).
            loop.stats.backendAnswered(loop.index, backend, status);
        }
        if (status >= 500 && pool.settings.outlier().count5xx()) {
            loop.registry.failed(backend, pool.settings.outlier());
        } else {
            loop.registry.succeeded(backend);
        }
    }

    /**
     * An HTTP/2 backend's response head ({@code status}: its {@code :status}); {@code endStream}: it is
     * the whole response (no body; for gRPC, a trailers-only answer, its status in these headers).
     */
    void respond(Http2Headers headers, int status, boolean endStream) {
        lastReadNanos = System.nanoTime();
        this.status = status;
        headCame();
        backendKeepAlive = true;
        responseStarted = true;
        front.sendHead(this, headers, endStream, hsts);
        if (endStream) {
            responseComplete();
        }
    }

    /** An HTTP/2 backend's trailers, which end its response (gRPC's grpc-status and grpc-message). */
    void responseTrailers(Http2Headers trailers) {
        lastReadNanos = System.nanoTime();
        front.sendTrailers(trailers);
        responseComplete();
    }

    /** A part of the backend's body. */
    void responseBody(ByteBuf data) {
        lastReadNanos = System.nanoTime();
        bodyBytes += data.readableBytes();
        front.sendBody(data);
        if (!front.channel().isWritable() && conn != null) {
            // Back-pressure: the backend is not read while the client does not take the body.
            clientPaused = true;
            conn.channel().config().setAutoRead(false);
        }
    }

    /** The backend's body ended ({@code trailers}: a chunked body's trailer lines, or null). */
    void responseEnded(ByteBuf trailers) {
        lastReadNanos = System.nanoTime();
        front.sendEnd(trailers);
        responseComplete();
    }

    /** The client takes data again. */
    void clientWritable() {
        if (clientPaused) {
            clientPaused = false;
            lastReadNanos = System.nanoTime();
            if (conn != null) {
                Channel ch = conn.channel();
                ch.config().setAutoRead(true);
                // What that read wrote back (an HTTP/2 stream's WINDOW_UPDATE) goes out now: this
                // is no read of the backend's, whose end would flush it.
                ch.flush();
            }
        }
    }

    private void responseComplete() {
        loop.unwatch(this);
        Back c = conn;
        conn = null;
        if (clientPaused) {
            clientPaused = false;
            c.channel().config().setAutoRead(true);
        }
        c.finish(backendKeepAlive && requestSent);
        if (status < 500) {
            loop.stats.backendAnswered(loop.index, backend, status);
        }
        finished(true);
        front.answered(this);
    }

    /** The backend agreed to the upgrade: its answer goes to the client, then bytes flow both ways. */
    private void upgraded(HttpHead resp) {
        loop.unwatch(this);
        loop.stats.backendAnswered(loop.index, backend, 101);
        loop.registry.succeeded(backend);
        responseStarted = true;
        front.tunnel(resp, (BackendConnection) conn, this);
    }

    /** The tunnel of an upgraded connection closed: the exchange is over. */
    void tunnelClosed() {
        finished(true);
    }

    // ---- failures ---------------------------------------------------------------------------

    /** The backend connection closed (or failed) while this exchange used it. */
    void backendLost(Throwable cause) {
        conn = null;
        loop.unwatch(this);
        if (done) {
            // The client hung up and weldr closed the backend connection: nobody's failure to count.
            return;
        }
        countFailure();
        if (responseStarted) {
            if (grpc && (timedOut || pastDeadline()) && deadlineNanos != 0) {
                // A stream past its deadline ends as gRPC says it does: DEADLINE_EXCEEDED in its trailers.
                front.sendTrailers(Grpc.status(Grpc.DEADLINE_EXCEEDED, "the deadline passed (grpc-timeout)"));
                front.channel().flush();
                finished(false);
                front.answered(this);
                return;
            }
            // Cut or stalled mid-body: the client can only learn it from a broken connection.
            finished(false);
            front.cut();
            return;
        }
        // Closed before the response: only a request that is safe to repeat and whose body did
        // not reach the backend (it had none), or of which nothing was sent, may go to another server.
        if (attempts <= pool.settings.limits().retries() && !timedOut && (headHeld || isIdempotent() && !hasBody)) {
            connect(backend);
            return;
        }
        fail(cause);
    }

    /** Called by the sweep: the backend stayed silent (or did not take the body) too long. */
    void timeOut() {
        if (conn != null) {
            timedOut = true;
            conn.channel().close();
        }
    }

    boolean timedOut() {
        return timedOut;
    }

    /** A gRPC call's deadline passed (the server may have ended the stream at it before weldr's sweep did). */
    private boolean pastDeadline() {
        return deadlineNanos != 0 && System.nanoTime() - deadlineNanos >= 0;
    }

    /** Counts a failed exchange with the current backend, once per backend tried. */
    private void countFailure() {
        if (backend != null && failureCounted != backend) {
            failureCounted = backend;
            if (failed == null) {
                failed = new ArrayList<>(2);
            }
            failed.add(backend);
            loop.stats.backendFailed(loop.index, backend);
            loop.registry.failed(backend, pool.settings.outlier());
        }
    }

    private void fail(Throwable failure) {
        if (grpc && failure instanceof Http2Back.Reset r && r.error != Http2Error.REFUSED_STREAM && !pastDeadline()) {
            // The server gave up on the call: gRPC's INTERNAL, not a server that could not be reached.
            grpcFailure = Grpc.INTERNAL;
            answer(502, "502 Bad Gateway: the backend reset the stream (" + r.error + ")\n");
        } else if (timedOut || failure instanceof ConnectTimeoutException || pastDeadline()) {
            answer(504, "504 Gateway Timeout: the backend did not answer in time\n");
        } else {
            answer(502, "502 Bad Gateway: the backend could not be reached or closed the connection\n");
        }
    }

    /** weldr answers itself. A request body nobody will read is drained, so the connection can go on. */
    void answer(int code, String text) {
        if (!beginOwnAnswer()) {
            return;
        }
        status = code;
        if (grpc) {
            // As Envoy does: HTTP 200 and a trailers-only answer with the gRPC status, which a
            // gRPC client reads, instead of a page it would report as a protocol error.
            front.sendHead(this, Grpc.ownAnswer(grpcFailure != 0 ? grpcFailure : Grpc.statusOf(code), text), true, hsts);
            bodyBytes = 0;
        } else {
            front.sendText(this, code, text, hsts);
            bodyBytes = head ? 0 : text.length();
        }
        answered();
    }

    /**
     * Answers the CA's HTTP-01 request with the replicated key authorization, before routing:
     * every node answers for the leader's orders, whatever the routes say. A follower that does
     * not know the token yet first catches up with the leader (the request waits, off the event
     * loop). A token this cluster did not ask for goes its usual way (a backend may run its own
     * ACME client).
     */
    private boolean acmeChallenge(RoutingTable.Target route) {
        String token = HttpsRedirect.acmeToken(request);
        if (token == null) {
            return false;
        }
        String authorization = loop.acme.http01(token);
        if (authorization != null) {
            answerChallenge(authorization);
            return true;
        }
        CompletableFuture<String> later = loop.acme.http01AfterCatchUp(token);
        if (later == null) {
            return false;
        }
        later.whenComplete((a, e) -> loop.eventLoop.execute(() -> {
            if (done || responseStarted || !front.channel().isActive()) {
                return;
            }
            if (a != null) {
                answerChallenge(a);
            } else {
                // The table may have changed while it waited: route it as it stands now.
                RoutingTable.Target now = loop.registry.table().route(request);
                pool = now.pool;
                route(now);
            }
        }));
        return true;
    }

    private void answerChallenge(String authorization) {
        closeAfter = closeAfter || hasBody;
        intended = true;
        answer(200, authorization);
    }

    /**
     * The route redirects plain HTTP: 308 (which, unlike 301, keeps the method and body, as
     * Traefik's permanent redirectScheme does) to the same host, path and query over HTTPS. No
     * byte goes to a backend.
     */
    private void redirect() {
        if (loop.httpsPort == 0) {
            // Only while the HTTPS listener on an ephemeral port is being bound at start-up.
            answer(503, "503 Service Unavailable: the HTTPS listener is starting\n");
            return;
        }
        int hostEnd = HttpsRedirect.hostEnd(request);
        if (hostEnd < 0) {
            closeAfter = true;
            answer(400, "400 Bad Request: the host is neither a host name nor an IP address, so there is no HTTPS URL to redirect to\n");
            return;
        }
        if (hasBody && (request.declaredLength() < 0 || request.declaredLength() > HttpsRedirect.MAX_DISCARDED)) {
            closeAfter = true;
        }
        if (!beginOwnAnswer()) {
            return;
        }
        intended = true;
        status = 308;
        front.sendRedirect(this, hostEnd, loop.httpsPort);
        answered();
    }

    /** weldr is to answer instead of a backend: false when it is too late for it. */
    private boolean beginOwnAnswer() {
        ownAnswer = true;
        loop.unwatch(this);
        if (done || responseStarted) {
            return false;
        }
        if (expectsContinue && !continued) {
            // The client holds its body back until told to continue: it will not come, so the
            // connection cannot carry another request (its bytes could be taken for this body).
            closeAfter = true;
        }
        if (!keepAlive) {
            closeAfter = true;
        }
        responseStarted = true;
        return true;
    }

    /** weldr's own answer is written: it goes out, and the connection carries on or closes. */
    private void answered() {
        front.channel().flush();
        finished(false);
        front.answered(this);
    }

    /**
     * The client's answer is complete, or was cut: counted once, whatever happened on the way.
     * {@code whole}: the client got a backend's whole answer (a weldr error page or a cut body is a
     * failure, a route's redirect is not).
     */
    private void finished(boolean whole) {
        if (done) {
            return;
        }
        done = true;
        release();
        loop.stats.clientDone(loop.index, backend, status, request.protocol(), whole && !ownAnswer || intended, startNanos,
                backendNanos);
        log(status);
    }

    /** The client closed its connection before its answer was complete (nginx's 499). */
    void clientGone() {
        if (!done) {
            loop.stats.clientGone(loop.index, backend, request.protocol());
            log(ProxyStats.CLIENT_CLOSED);
        }
        abandoned();
    }

    private void log(int code) {
        if (loop.accessLog != null) {
            loop.accessLog.log(front.clientAddress(), request, code, bodyBytes, startNanos, backend);
        }
    }

    /** The client went away, or can no longer be read, before its answer was complete. */
    void abandoned() {
        loop.unwatch(this);
        if (!done) {
            done = true;
            release();
        }
        Back c = conn;
        if (c != null) {
            conn = null;
            // Nothing was written to it (the head held): as good as idle. Else, mid-exchange,
            // the connection cannot serve anyone else.
            c.finish(headHeld);
        }
    }

    /** The exchange no longer occupies its backend. */
    private void release() {
        if (holding != null) {
            holding.inFlight.decrementAndGet();
            holding = null;
        }
    }

    /** The answer went out whole (or weldr's own did) and, when it had a body, the request came whole. */
    boolean complete() {
        return done && (requestEnded || !hasBody || ownAnswer && closeAfter);
    }

    // ---- RequestKey: what a hashing policy may use --------------------------------------------

    @Override
    public String header(String name) {
        return request.get(name);
    }

    @Override
    public String cookie(String name) {
        for (String line : request.getAll("cookie")) {
            for (Cookie c : ServerCookieDecoder.LAX.decode(line)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    @Override
    public String clientAddress() {
        return front.clientAddress();
    }

    // ---- small things -----------------------------------------------------------------------

    private boolean isIdempotent() {
        if (request.methodKind() != HttpHead.OTHER) {
            return true;
        }
        String m = request.methodName();
        return m.equals("OPTIONS") || m.equals("TRACE") || m.equals("PUT") || m.equals("DELETE");
    }
}
