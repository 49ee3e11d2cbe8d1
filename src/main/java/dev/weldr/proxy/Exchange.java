package dev.weldr.proxy;

import dev.weldr.proxy.lb.RequestKey;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.util.ReferenceCountUtil;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One client request's way through the proxy, on its client connection's event loop: it picks
 * the backend by the pool's policy, takes a cached connection or opens one, sends the head
 * (rewritten once, see {@link Heads}) and streams the bodies both ways with back-pressure,
 * retries on another server when that is safe, maps every failure to 502, 503 or 504 with a
 * short text body, and counts what happened.
 */
final class Exchange implements RequestKey {

    final long startNanos = System.nanoTime();
    final Loop loop;
    final FrontConnection front;
    final HttpRequest request;
    /** The request carries a body (Content-Length above 0, or chunked). */
    final boolean hasBody;
    final boolean head;
    final boolean http10;
    /** The client's connection may carry another request after this one. */
    final boolean keepAlive;
    /** The Host the client sent, for X-Forwarded-Host; null when none. */
    private final String host;
    PoolTable pool;
    Backend backend;
    /** The backend whose in-flight count this exchange holds. */
    private Backend holding;
    /** The backend connection of the current try, once it is ready. */
    BackendConnection conn;
    int attempts;
    /** The backend whose failure was last counted, so that one failure is counted once. */
    private Backend failureCounted;
    /** Every backend that failed this request, so that no retry goes back to one; null until one fails. */
    private List<Backend> failed;
    /** Body parts that came before a backend connection was ready; null when none. */
    private ArrayDeque<HttpContent> pending;
    private boolean headPrepared;
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
    /** The client's connection is closed after this answer. */
    boolean closeAfter;
    /** weldr answered (400/501/502/503/504) instead of a backend. */
    boolean ownAnswer;
    /** The client sent {@code Expect: 100-continue} and holds its body back until told to continue. */
    boolean expectsContinue;
    private boolean continued;

    // The timeouts, checked by the loop's sweep (see Loop#sweep).
    /** When the backend last sent something (or was last expected to start). */
    long lastReadNanos;
    /** Since when the backend has not taken the request body; 0 while it takes it. */
    long stalledSinceNanos;
    /** The client does not take the body fast enough: the backend is paused, its silence is not its fault. */
    boolean clientPaused;
    /** The backend stayed silent past the read timeout (or did not take the body in time). */
    private boolean timedOut;
    boolean watched;
    Exchange prevWatched;
    Exchange nextWatched;

    Exchange(Loop loop, FrontConnection front, HttpRequest request) {
        this.loop = loop;
        this.front = front;
        this.request = request;
        HttpHeaders h = request.headers();
        this.hasBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        this.head = request.method() == HttpMethod.HEAD;
        this.http10 = request.protocolVersion() == HttpVersion.HTTP_1_0;
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.host = h.get(HttpHeaderNames.HOST);
    }

    // ---- a request arrives ------------------------------------------------------------------

    void start() {
        String te = request.headers().get(HttpHeaderNames.TRANSFER_ENCODING);
        pool = loop.registry.table().route(hostForRouting(), path(request.uri()));
        if (te != null && !te.trim().equalsIgnoreCase("chunked")) {
            // RFC 9112 §6.1: a transfer coding the proxy does not understand. Reading on would let
            // the body be taken for the next request, so the connection is closed after the answer.
            closeAfter = true;
            answer(501, "501 Not Implemented: transfer coding " + te.trim() + "\n");
            return;
        }
        if (host == null && !http10) {
            // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.
            closeAfter = true;
            answer(400, "400 Bad Request: no Host header\n");
            return;
        }
        // Expect: 100-continue is answered by weldr, as nginx does: "continue" once a backend
        // connection is ready for the body, or a final answer (and a closed connection) instead.
        expectsContinue = hasBody && HttpUtil.is100ContinueExpected(request);
        upgrade = isWebSocketUpgrade(request);
        connect(null);
    }

    /** A part of the client's body (the last one included). */
    void body(HttpContent part) {
        boolean last = part instanceof LastHttpContent;
        if (!hasBody || done || ownAnswer || upgrade || (responseStarted && conn == null)) {
            // Nobody will read it: a bodiless request's end, or the rest of a body nobody wants.
            part.release();
            return;
        }
        if (conn == null) {
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(part);
            return;
        }
        conn.channel.write(part, conn.channel.voidPromise());
        front.flushLater(conn.channel);
        if (last) {
            sentWhole();
        }
        if (!conn.channel.isWritable()) {
            stalledSinceNanos = System.nanoTime();
            loop.watch(this);
        }
    }

    /** The client's body waits in its socket while no backend can take it. */
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
        BackendConnection c = loop.takeIdle(b);
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
    void opened(BackendConnection c) {
        if (done || ownAnswer || conn != null) {
            // The client went away (or weldr answered) while it was being made: cached for the next one.
            loop.offerIdle(c);
            return;
        }
        send(c);
        c.channel.flush();
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

    private void send(BackendConnection c) {
        conn = c;
        c.exchange = this;
        Channel ch = c.channel;
        if (!headPrepared) {
            headPrepared = true;
            Heads.request(request, front.clientAddress(), host);
            if (upgrade) {
                request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                        .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            }
        }
        ch.write(request, ch.voidPromise());
        lastReadNanos = System.nanoTime();
        loop.watch(this);
        if (!hasBody) {
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
            sentWhole();
        } else {
            if (expectsContinue && !continued) {
                continued = true;
                front.writeContinue();
            }
            if (pending != null) {
                HttpContent part;
                while ((part = pending.poll()) != null) {
                    ch.write(part, ch.voidPromise());
                    if (part instanceof LastHttpContent) {
                        sentWhole();
                    }
                }
            }
        }
        front.flushLater(ch);
        front.updateReading();
    }

    private void sentWhole() {
        requestSent = true;
        lastReadNanos = System.nanoTime();
    }

    /** The backend connection can take more of the body again, or cannot. */
    void backendWritable(boolean writable) {
        if (writable && stalledSinceNanos != 0) {
            stalledSinceNanos = 0;
            front.updateReading();
        }
    }

    // ---- the response on its way back ---------------------------------------------------------

    void respond(HttpResponse resp) {
        lastReadNanos = System.nanoTime();
        status = resp.status().code();
        if (upgrade && status == 101) {
            upgraded(resp);
            return;
        }
        if (status >= 500) {
            // A 5xx is the server's failure as soon as its head arrives; anything else is its
            // success once the body has come whole (a body cut short is a failure).
            loop.stats.backendAnswered(backend, status);
        }
        if (status >= 500 && pool.settings.outlier().count5xx()) {
            loop.registry.failed(backend, pool.settings.outlier());
        } else {
            loop.registry.succeeded(backend);
        }
        backendKeepAlive = HttpUtil.isKeepAlive(resp) && !upgrade;
        closeAfter |= Heads.response(resp, this, loop.date);
        responseStarted = true;
        front.write(resp);
    }

    /** A part of the backend's body (the last one included). */
    void responseBody(HttpContent part) {
        lastReadNanos = System.nanoTime();
        if (part instanceof LastHttpContent) {
            front.write(part);
            responseComplete();
            return;
        }
        front.write(part);
        if (!front.channel.isWritable() && conn != null) {
            // Back-pressure: the backend is not read while the client does not take the body.
            clientPaused = true;
            conn.channel.config().setAutoRead(false);
        }
    }

    /** The client takes data again. */
    void clientWritable() {
        if (clientPaused) {
            clientPaused = false;
            lastReadNanos = System.nanoTime();
            if (conn != null) {
                conn.channel.config().setAutoRead(true);
            }
        }
    }

    private void responseComplete() {
        loop.unwatch(this);
        BackendConnection c = conn;
        conn = null;
        c.exchange = null;
        if (clientPaused) {
            clientPaused = false;
            c.channel.config().setAutoRead(true);
        }
        if (backendKeepAlive && requestSent) {
            loop.offerIdle(c);
        } else {
            c.channel.close();
        }
        if (status < 500) {
            loop.stats.backendAnswered(backend, status);
        }
        finished(true);
        front.answered(this);
    }

    /** The backend agreed to the upgrade: its answer goes to the client, then bytes flow both ways. */
    private void upgraded(HttpResponse resp) {
        loop.unwatch(this);
        loop.stats.backendAnswered(backend, 101);
        loop.registry.succeeded(backend);
        String protocol = resp.headers().get(HttpHeaderNames.UPGRADE, "websocket");
        Heads.response(resp, this, loop.date);
        resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE).set(HttpHeaderNames.UPGRADE, protocol);
        resp.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        responseStarted = true;
        BackendConnection c = conn;
        front.tunnel(resp, c, this);
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
            // Cut or stalled mid-body: the client can only learn it from a broken connection.
            finished(false);
            front.cut();
            return;
        }
        // Closed before the response: only a request that is safe to repeat and whose body did
        // not reach the backend (it had none) may go to another server.
        if (attempts <= pool.settings.limits().retries() && !timedOut && isIdempotent(request.method()) && !hasBody) {
            connect(backend);
            return;
        }
        fail(cause);
    }

    /** Called by the sweep: the backend stayed silent (or did not take the body) too long. */
    void timeOut() {
        if (conn != null) {
            timedOut = true;
            conn.channel.close();
        }
    }

    /** Counts a failed exchange with the current backend, once per backend tried. */
    private void countFailure() {
        if (backend != null && failureCounted != backend) {
            failureCounted = backend;
            if (failed == null) {
                failed = new ArrayList<>(2);
            }
            failed.add(backend);
            loop.stats.backendFailed(backend);
            loop.registry.failed(backend, pool.settings.outlier());
        }
    }

    private void fail(Throwable failure) {
        if (timedOut || failure instanceof ConnectTimeoutException) {
            answer(504, "504 Gateway Timeout: the backend did not answer in time\n");
        } else {
            answer(502, "502 Bad Gateway: the backend could not be reached or closed the connection\n");
        }
    }

    /** weldr answers itself. A request body nobody will read is drained, so the connection can go on. */
    void answer(int code, String text) {
        ownAnswer = true;
        loop.unwatch(this);
        releasePending();
        if (done || responseStarted) {
            return;
        }
        if (expectsContinue && !continued) {
            // The client holds its body back until told to continue: it will not come, so the
            // connection cannot carry another request (its bytes could be taken for this body).
            closeAfter = true;
        }
        if (!keepAlive) {
            closeAfter = true;
        }
        status = code;
        FullHttpResponse resp = Heads.text(HttpResponseStatus.valueOf(code), text, loop.date);
        if (closeAfter) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        responseStarted = true;
        front.write(resp);
        front.flushNow();
        finished(false);
        front.answered(this);
    }

    /**
     * The client's answer is complete, or was cut: counted once, whatever happened on the way.
     * {@code whole}: the client got a backend's whole answer (a weldr error page or a cut body is a failure).
     */
    private void finished(boolean whole) {
        if (done) {
            return;
        }
        done = true;
        release();
        loop.stats.clientDone(backend, status, whole && !ownAnswer, startNanos);
    }

    /** The client went away before its answer was complete. */
    void abandoned() {
        loop.unwatch(this);
        releasePending();
        if (!done) {
            done = true;
            release();
        }
        BackendConnection c = conn;
        if (c != null) {
            // Mid-exchange: the connection cannot serve anyone else.
            conn = null;
            c.exchange = null;
            c.channel.close();
        }
    }

    /** The exchange no longer occupies its backend. */
    private void release() {
        if (holding != null) {
            holding.inFlight.decrementAndGet();
            holding = null;
        }
    }

    private void releasePending() {
        if (pending != null) {
            HttpContent part;
            while ((part = pending.poll()) != null) {
                ReferenceCountUtil.release(part);
            }
        }
    }

    /** The answer went out whole (or weldr's own did) and, when it had a body, the request came whole. */
    boolean complete() {
        return done && (requestEnded || !hasBody || ownAnswer && closeAfter);
    }

    // ---- RequestKey: what a hashing policy may use --------------------------------------------

    @Override
    public String header(String name) {
        return request.headers().get(name);
    }

    @Override
    public String cookie(String name) {
        for (String line : request.headers().getAll(HttpHeaderNames.COOKIE)) {
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

    private static boolean isWebSocketUpgrade(HttpRequest req) {
        if (req.method() != HttpMethod.GET) {
            return false;
        }
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            return false;
        }
        String connection = req.headers().get(HttpHeaderNames.CONNECTION);
        return connection != null && connection.toLowerCase(Locale.ROOT).contains("upgrade");
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                || method == HttpMethod.TRACE || method == HttpMethod.PUT || method == HttpMethod.DELETE;
    }

    /** The request's host, lower case and without port, for routing. */
    private String hostForRouting() {
        if (host == null) {
            return "";
        }
        String h = host;
        int colon = h.lastIndexOf(':');
        if (colon >= 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        for (int i = 0; i < h.length(); i++) {
            if (Character.isUpperCase(h.charAt(i))) {
                return h.toLowerCase(Locale.ROOT);
            }
        }
        return h;
    }

    /** The path of an origin-form request target, without its query. */
    static String path(String uri) {
        int end = uri.length();
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        return end == uri.length() ? uri : uri.substring(0, end);
    }
}
