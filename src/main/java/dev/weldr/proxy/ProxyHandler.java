package dev.weldr.proxy;

import dev.weldr.proxy.lb.LoadBalancer;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.Pipe;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * weldr's reverse proxy for one event loop, on Vert.x core's HTTP server and client: it picks the
 * backend by the pool's policy, copies the request head once (dropping hop-by-hop headers, adding
 * Via and X-Forwarded-*), streams the bodies both ways with back-pressure and timeouts, retries on
 * another server when that is safe, maps every failure to 502, 503 or 504 with a short text body,
 * and counts what happened. One instance per event loop: no field is shared between threads
 * except the registry's published table.
 *
 * <p>It replaced vertx-http-proxy, whose general-purpose pipeline copied every header map twice
 * per direction, parsed and re-formatted the Date header and built futures and an attachment map
 * per request; see README "Performance".
 */
final class ProxyHandler implements Handler<HttpServerRequest> {

    private static final String VIA = "1.1 weldr";
    private static final Handler<Throwable> IGNORE = failure -> { };

    private final Vertx vertx;
    private final HttpClient client;
    private final BackendRegistry registry;
    private final ProxyStats stats;
    private final long connectTimeoutMs;
    private final long readTimeoutMs;
    private final long writeTimeoutMs;
    private final HttpDate date = new HttpDate();
    /** Exchanges whose backend owes them data, newest first (an intrusive list: no allocation). */
    private Exchange watching;
    /** This event loop's balancers, one per pool table; a table is replaced whenever its pool changes. */
    private final Map<PoolTable, LoadBalancer<Backend>> balancers = new IdentityHashMap<>();

    ProxyHandler(Vertx vertx, HttpClient client, BackendRegistry registry, ProxyStats stats,
                 long connectTimeoutMs, long readTimeoutMs, long writeTimeoutMs) {
        this.vertx = vertx;
        this.client = client;
        this.registry = registry;
        this.stats = stats;
        this.connectTimeoutMs = connectTimeoutMs;
        this.readTimeoutMs = readTimeoutMs;
        this.writeTimeoutMs = writeTimeoutMs;
    }

    // ---- a request arrives ------------------------------------------------------------------

    @Override
    public void handle(HttpServerRequest in) {
        String te = in.getHeader(HttpHeaders.TRANSFER_ENCODING);
        if (te != null && !te.trim().equalsIgnoreCase("chunked")) {
            // RFC 9112 §6.1: a transfer coding the proxy does not understand. Reading on would let
            // the body be taken for the next request, so the connection is closed after the answer.
            Exchange ex = new Exchange(in, false);
            ex.pool = RoutingTable.EMPTY.route("", "");
            ex.closeAfterAnswer = true;
            answer(ex, 501, "501 Not Implemented: transfer coding " + te.trim() + "\n");
            return;
        }
        boolean hasBody = te != null || hasContent(in.getHeader(HttpHeaders.CONTENT_LENGTH));
        if (hasBody) {
            in.pause();
        }
        Exchange ex = new Exchange(in, hasBody);
        // Expect: 100-continue is answered by weldr, as nginx does: "continue" once a backend
        // connection is ready for the body, or a final answer (and a closed connection) instead.
        ex.expectsContinue = hasBody && in.headers().contains(HttpHeaders.EXPECT, HttpHeaders.CONTINUE, true);
        ex.pool = registry.table().route(hostOf(in), in.path());
        if (isWebSocketUpgrade(in)) {
            tunnel(ex);
        } else {
            connect(ex, null);
        }
    }

    // ---- choosing and opening the backend ---------------------------------------------------

    /** Picks a server (not {@code exclude}) and asks the client for a request to it; answers when none is left. */
    private void connect(Exchange ex, Backend exclude) {
        Backend backend = choose(ex, exclude);
        if (backend == null) {
            return;
        }
        client.request(options(backend, ex.in.method(), ex.in.uri())).onComplete(ar -> {
            if (ar.succeeded()) {
                send(ex, ar.result());
            } else {
                connectFailed(ex, ar.cause());
            }
        });
    }

    /**
     * A request to this backend. Host and port are the backend's own, so connections are pooled
     * by backend; the client's Host is set on the request afterwards ({@code authority}).
     */
    private RequestOptions options(Backend backend, HttpMethod method, String uri) {
        return new RequestOptions()
                .setServer(backend.address())
                .setHost(backend.server().host())
                .setPort(backend.server().port())
                .setSsl(backend.https())
                .setMethod(method)
                .setURI(uri)
                .setConnectTimeout(connectTimeoutMs);
    }

    /** The next server for this exchange, holding its in-flight count; null when weldr has answered instead. */
    private Backend choose(Exchange ex, Backend exclude) {
        PoolTable pool = ex.pool;
        Backend backend = pick(pool, ex, exclude);
        if (backend != null && ex.failed != null && ex.failed.contains(backend)) {
            // A policy avoids only the server that failed last; from the third try on, an
            // earlier failure could come back. Take the first server not tried yet instead.
            backend = untried(pool, ex.failed);
        }
        if (backend == null) {
            if (exclude != null) {
                fail(ex, new ConnectException("no other server to retry on"));
            } else {
                answer(ex, 503, "503 Service Unavailable: "
                        + (pool.size == 0 ? "the pool is empty" : "no server in the pool is active") + "\n");
            }
            return null;
        }
        int cap = pool.settings.limits().maxRequests();
        if (cap > 0 && backend.inFlight() >= cap) {
            // Circuit breaking: a full server is skipped; when the next one is full too, 503 at once.
            Backend other = pick(pool, ex, backend);
            if (other == null || other.inFlight() >= cap) {
                answer(ex, 503, "503 Service Unavailable: every server of the pool is at its request limit\n");
                return null;
            }
            backend = other;
        }
        release(ex);
        ex.backend = backend;
        ex.attempts++;
        backend.inFlight.incrementAndGet();
        ex.holding = backend;
        return backend;
    }

    /** The balancer of this event loop for the pool's current table (built when the table changes). */
    private Backend pick(PoolTable pool, Exchange key, Backend exclude) {
        if (pool.routable.isEmpty()) {
            return null;
        }
        if (pool.shared != null) {
            return pool.shared.pick(key, exclude);
        }
        LoadBalancer<Backend> lb = balancers.get(pool);
        if (lb == null) {
            if (balancers.size() > 64) {
                balancers.clear();
            }
            lb = pool.balancers.create(pool.routable);
            balancers.put(pool, lb);
        }
        return lb.pick(key, exclude);
    }

    private static Backend untried(PoolTable pool, List<Backend> failed) {
        for (Backend b : pool.routable) {
            if (!failed.contains(b)) {
                return b;
            }
        }
        return null;
    }

    /** Nothing reached the backend: any request may be tried on another server, within the pool's retries. */
    private void connectFailed(Exchange ex, Throwable failure) {
        countFailure(ex);
        if (isConnectFailure(failure) && ex.attempts <= ex.pool.settings.limits().retries() && !ex.done) {
            connect(ex, ex.backend);
        } else {
            fail(ex, failure);
        }
    }

    // ---- the request on its way out ---------------------------------------------------------

    private void send(Exchange ex, HttpClientRequest req) {
        HttpServerRequest in = ex.in;
        HttpServerResponse out = in.response();
        if (ex.done) {
            // The client went away while the connection was being made.
            req.exceptionHandler(IGNORE);
            req.reset();
            return;
        }
        ex.backendRequest = req;
        // Failures arrive through the response future and the pipes; this keeps Vert.x from logging them again.
        req.exceptionHandler(IGNORE);
        copyRequestHead(in, req.headers());
        HostAndPort authority = in.authority();
        if (authority != null) {
            req.authority(authority);
        }
        out.exceptionHandler(failure -> {
            // The client's connection closed before its answer was complete: the exchange ends
            // first, so that the reset below is not taken for the backend's failure.
            abandoned(ex);
            if (ex.backendRequest == req) {
                req.reset(0, failure);
            }
        });
        req.response().onComplete(ar -> {
            if (ex.backendRequest != req) {
                return;
            }
            if (ar.succeeded()) {
                respond(ex, ar.result());
            } else {
                requestFailed(ex, ar.cause());
            }
        });
        if (!ex.hasBody) {
            req.end((Handler<AsyncResult<Void>>) null);
            watch(ex);
            return;
        }
        if (in.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
            req.setChunked(true);
        }
        if (ex.expectsContinue && !ex.continued) {
            ex.continued = true;
            in.response().writeContinue();
        }
        // The read timeout starts once the body is written whole.
        Pipe<io.vertx.core.buffer.Buffer> pipe = new TimedBody(in, vertx, ex, writeTimeoutMs, () -> watch(ex)).pipe();
        pipe.endOnFailure(false);
        pipe.to(req, ar -> {
            if (ar.failed() && ex.backendRequest == req) {
                req.reset(0, ar.cause());
            }
        });
    }

    /** Copies the client's head to the backend request: end-to-end headers as they are, then Via and X-Forwarded-*. */
    private static void copyRequestHead(HttpServerRequest in, MultiMap to) {
        MultiMap from = in.headers();
        List<String> named = from.contains(HttpHeaders.CONNECTION) ? HopByHop.named(from.getAll(HttpHeaders.CONNECTION)) : null;
        StringBuilder via = null;
        StringBuilder forwardedFor = null;
        for (Map.Entry<String, String> header : from) {
            String name = header.getKey();
            switch (HopByHop.kind(name)) {
                case HopByHop.FORWARD, HopByHop.DATE -> {
                    if (named == null || !HopByHop.listed(named, name)) {
                        to.add(name, header.getValue());
                    }
                }
                case HopByHop.VIA -> via = HopByHop.join(via, header.getValue());
                case HopByHop.X_FORWARDED_FOR -> forwardedFor = HopByHop.join(forwardedFor, header.getValue());
                case HopByHop.EXPECT -> {
                    // 100-continue is weldr's to answer (see handle); any other expectation goes on.
                    if (!header.getValue().trim().equalsIgnoreCase("100-continue")) {
                        to.add(name, header.getValue());
                    }
                }
                default -> {
                    // hop-by-hop, Host (sent from the authority), X-Forwarded-Proto/-Host (replaced)
                }
            }
        }
        to.add("via", via == null ? VIA : via.append(", ").append(VIA).toString());
        String client = clientAddress(in);
        to.add("x-forwarded-for", forwardedFor == null ? client : forwardedFor.append(", ").append(client).toString());
        to.add("x-forwarded-proto", in.isSSL() ? "https" : "http");
        HostAndPort authority = in.authority();
        if (authority != null) {
            to.add("x-forwarded-host", authority.toString());
        }
    }

    // ---- the response on its way back ---------------------------------------------------------

    private void respond(Exchange ex, HttpClientResponse resp) {
        HttpServerRequest in = ex.in;
        HttpServerResponse out = in.response();
        int status = resp.statusCode();
        if (status >= 500) {
            // A 5xx is the server's failure as soon as its head arrives; anything else is its
            // success once the body has come whole (a body cut short is a failure).
            stats.backendAnswered(ex.backend, status);
        }
        if (status >= 500 && ex.pool.settings.outlier().count5xx()) {
            registry.failed(ex.backend, ex.pool.settings.outlier());
        } else {
            registry.succeeded(ex.backend);
        }
        if (ex.done) {
            unwatch(ex);
            resp.request().reset();
            return;
        }
        out.setStatusCode(status);
        String message = resp.statusMessage();
        if (message != null) {
            out.setStatusMessage(message);
        }
        boolean dated = copyResponseHead(resp.headers(), out.headers());
        if (!dated) {
            // RFC 9110 §6.6.1: a recipient with a clock adds the Date a forwarded response lacks.
            out.headers().add(HttpHeaders.DATE, date.now());
        }
        boolean bodiless = in.method() == HttpMethod.HEAD || status == 204 || status == 304 || status < 200;
        if (bodiless) {
            unwatch(ex);
            out.end((Handler<AsyncResult<Void>>) null);
            bodyComplete(ex, status);
            finished(ex, status, true);
            return;
        }
        boolean closeAfter = false;
        if (!resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            if (in.version() == HttpVersion.HTTP_1_0) {
                // An HTTP/1.0 client cannot take chunks: the body is streamed and its end is the
                // connection's end (RFC 9112 §6.3), instead of being held whole in memory.
                out.headers().remove(HttpHeaders.CONTENT_LENGTH);
                closeAfter = true;
            } else {
                out.setChunked(true);
            }
        }
        pump(ex, resp, out, status, closeAfter);
    }

    /**
     * Streams the backend's body to the client with back-pressure: while the client does not take
     * it, the backend connection is paused (and its silence does not count for the read timeout).
     */
    private void pump(Exchange ex, HttpClientResponse resp, HttpServerResponse out, int status, boolean closeAfter) {
        ex.lastReadNanos = System.nanoTime();
        resp.handler(chunk -> {
            ex.lastReadNanos = System.nanoTime();
            out.write(chunk, null);
            if (out.writeQueueFull()) {
                resp.pause();
                ex.clientPaused = true;
                out.drainHandler(v -> {
                    ex.clientPaused = false;
                    ex.lastReadNanos = System.nanoTime();
                    resp.resume();
                });
            }
        });
        resp.exceptionHandler(failure -> {
            // Cut or stalled mid-body: the client can only learn it from a broken connection.
            unwatch(ex);
            if (ex.done) {
                return;
            }
            countFailure(ex);
            out.reset();
            finished(ex, status, false);
        });
        resp.endHandler(v -> {
            unwatch(ex);
            if (ex.done) {
                return;
            }
            out.end((Handler<AsyncResult<Void>>) null);
            if (closeAfter) {
                ex.in.connection().close();
            }
            bodyComplete(ex, status);
            finished(ex, status, true);
        });
    }

    private void bodyComplete(Exchange ex, int status) {
        if (status < 500) {
            stats.backendAnswered(ex.backend, status);
        }
    }

    /** Copies the backend's head to the client's response; true when it carries a Date. */
    private static boolean copyResponseHead(MultiMap from, MultiMap to) {
        List<String> named = from.contains(HttpHeaders.CONNECTION) ? HopByHop.named(from.getAll(HttpHeaders.CONNECTION)) : null;
        StringBuilder via = null;
        boolean dated = false;
        for (Map.Entry<String, String> header : from) {
            String name = header.getKey();
            int kind = HopByHop.kind(name);
            switch (kind) {
                case HopByHop.HOP -> {
                }
                case HopByHop.VIA -> via = HopByHop.join(via, header.getValue());
                default -> {
                    if (named == null || !HopByHop.listed(named, name)) {
                        to.add(name, header.getValue());
                        dated |= kind == HopByHop.DATE;
                    }
                }
            }
        }
        to.add("via", via == null ? VIA : via.append(", ").append(VIA).toString());
        return dated;
    }

    // ---- failures ---------------------------------------------------------------------------

    /** The backend request failed before a response head arrived. */
    private void requestFailed(Exchange ex, Throwable failure) {
        unwatch(ex);
        if (ex.done) {
            // The client hung up and weldr reset the backend request: nobody's failure to count.
            return;
        }
        countFailure(ex);
        HttpServerRequest in = ex.in;
        // A reset before the response: only a request that is safe to repeat and whose body did
        // not reach the backend (it had none) may go to another server.
        if (ex.attempts <= ex.pool.settings.limits().retries() && !ex.timedOut && !(failure instanceof TimeoutException)
                && isIdempotent(in.method()) && !ex.hasBody) {
            ex.backendRequest = null;
            connect(ex, ex.backend);
            return;
        }
        fail(ex, failure);
    }

    /** Counts a failed exchange with the current backend, once per backend tried. */
    private void countFailure(Exchange ex) {
        if (ex.backend != null && ex.failureCounted != ex.backend) {
            ex.failureCounted = ex.backend;
            if (ex.failed == null) {
                ex.failed = new ArrayList<>(2);
            }
            ex.failed.add(ex.backend);
            stats.backendFailed(ex.backend);
            registry.failed(ex.backend, ex.pool.settings.outlier());
        }
    }

    private void fail(Exchange ex, Throwable failure) {
        if (ex.timedOut || failure instanceof TimeoutException || failure instanceof ConnectTimeoutException) {
            answer(ex, 504, "504 Gateway Timeout: the backend did not answer in time\n");
        } else {
            answer(ex, 502, "502 Bad Gateway: the backend could not be reached or closed the connection\n");
        }
    }

    /** weldr answers itself. A request body nobody will read is drained, so the connection can go on. */
    private void answer(Exchange ex, int status, String text) {
        ex.ownAnswer = true;
        ex.backendRequest = null;
        unwatch(ex);
        HttpServerRequest in = ex.in;
        HttpServerResponse out = in.response();
        if (ex.done || out.headWritten()) {
            return;
        }
        if (ex.expectsContinue && !ex.continued) {
            // The client holds its body back until told to continue: it will not come, so the
            // connection cannot carry another request (its bytes could be taken for this body).
            ex.closeAfterAnswer = true;
        }
        if (ex.hasBody && !in.isEnded()) {
            in.handler(null);
            in.resume();
        }
        out.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .putHeader("via", VIA)
                .putHeader(HttpHeaders.DATE, date.now());
        if (ex.closeAfterAnswer) {
            out.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            out.end(text).onComplete(ar -> in.connection().close());
        } else {
            out.end(text, (Handler<AsyncResult<Void>>) null);
        }
        finished(ex, status, false);
    }

    /**
     * The client's answer is complete, or was cut: counted once, whatever happened on the way.
     * {@code whole}: the client got a backend's whole answer (a weldr error page or a cut body is a failure).
     */
    private void finished(Exchange ex, int status, boolean whole) {
        if (ex.done) {
            return;
        }
        ex.done = true;
        release(ex);
        stats.clientDone(ex.backend, status, whole && !ex.ownAnswer, ex.startNanos);
    }

    /** The client went away before its answer was complete. */
    private void abandoned(Exchange ex) {
        unwatch(ex);
        if (!ex.done) {
            ex.done = true;
            release(ex);
        }
    }

    // ---- the read timeout: one sweep per event loop instead of a timer per request -------------

    /** The backend owes this exchange data from now on: its response, or the rest of its body. */
    private void watch(Exchange ex) {
        ex.lastReadNanos = System.nanoTime();
        if (ex.watched || ex.done) {
            return;
        }
        ex.watched = true;
        ex.prevWatched = null;
        ex.nextWatched = watching;
        if (watching != null) {
            watching.prevWatched = ex;
        }
        watching = ex;
    }

    private void unwatch(Exchange ex) {
        if (!ex.watched) {
            return;
        }
        ex.watched = false;
        if (ex.prevWatched != null) {
            ex.prevWatched.nextWatched = ex.nextWatched;
        } else {
            watching = ex.nextWatched;
        }
        if (ex.nextWatched != null) {
            ex.nextWatched.prevWatched = ex.prevWatched;
        }
        ex.prevWatched = null;
        ex.nextWatched = null;
    }

    /**
     * Resets the backend requests that sent nothing for longer than the read timeout (a 504 when
     * no response head came yet, a cut connection in the middle of a body). Runs on this event
     * loop every twentieth of the timeout (10 to 100 ms), so a timeout fires at most that late.
     */
    void sweep() {
        long now = System.nanoTime();
        long limit = readTimeoutMs * 1_000_000;
        Exchange ex = watching;
        while (ex != null) {
            Exchange next = ex.nextWatched;
            if (!ex.clientPaused && now - ex.lastReadNanos > limit) {
                unwatch(ex);
                HttpClientRequest req = ex.backendRequest;
                if (req != null) {
                    ex.timedOut = true;
                    req.reset(0, new TimeoutException("the backend sent nothing for " + readTimeoutMs + " ms"));
                }
            }
            ex = next;
        }
    }

    /** How often {@link #sweep()} should run. */
    long sweepPeriodMs() {
        return Math.max(10, Math.min(100, readTimeoutMs / 20));
    }

    /** The exchange no longer occupies its backend. */
    static void release(Exchange ex) {
        if (ex.holding != null) {
            ex.holding.inFlight.decrementAndGet();
            ex.holding = null;
        }
    }

    // ---- WebSocket: the upgrade is forwarded, then bytes flow both ways -----------------------

    private void tunnel(Exchange ex) {
        Backend backend = choose(ex, null);
        if (backend == null) {
            return;
        }
        HttpServerRequest in = ex.in;
        client.request(options(backend, HttpMethod.GET, in.uri())).onComplete(ar -> {
            if (ar.failed()) {
                countFailure(ex);
                fail(ex, ar.cause());
                return;
            }
            HttpClientRequest req = ar.result();
            ex.backendRequest = req;
            req.exceptionHandler(IGNORE);
            copyRequestHead(in, req.headers());
            req.headers().set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE).set(HttpHeaders.UPGRADE, in.getHeader(HttpHeaders.UPGRADE));
            if (in.authority() != null) {
                req.authority(in.authority());
            }
            watch(ex);
            req.connect().onComplete(up -> {
                if (up.failed()) {
                    countFailure(ex);
                    fail(ex, up.cause());
                    return;
                }
                HttpClientResponse resp = up.result();
                unwatch(ex);
                if (resp.statusCode() != 101) {
                    // Refused: the backend's answer goes to the client as any other response.
                    respond(ex, resp);
                    return;
                }
                stats.backendAnswered(ex.backend, 101);
                registry.succeeded(ex.backend);
                HttpServerResponse out = in.response();
                out.setStatusCode(101);
                copyResponseHead(resp.headers(), out.headers());
                out.headers().set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE).set(HttpHeaders.UPGRADE, resp.getHeader(HttpHeaders.UPGRADE));
                NetSocket toBackend = resp.netSocket();
                in.toNetSocket().onComplete(client -> {
                    if (client.failed()) {
                        toBackend.close();
                        abandoned(ex);
                        return;
                    }
                    NetSocket toClient = client.result();
                    toClient.pipeTo(toBackend);
                    toBackend.pipeTo(toClient);
                    toClient.closeHandler(v -> toBackend.close());
                    toBackend.closeHandler(v -> {
                        toClient.close();
                        finished(ex, 101, true);
                    });
                });
            });
        });
    }

    // ---- small things -----------------------------------------------------------------------

    private static boolean isWebSocketUpgrade(HttpServerRequest in) {
        if (in.method() != HttpMethod.GET) {
            return false;
        }
        String upgrade = in.getHeader(HttpHeaders.UPGRADE);
        if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            return false;
        }
        String connection = in.getHeader(HttpHeaders.CONNECTION);
        return connection != null && connection.toLowerCase(Locale.ROOT).contains("upgrade");
    }

    private static boolean isConnectFailure(Throwable failure) {
        return failure instanceof ConnectException || failure instanceof TimeoutException;
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                || method == HttpMethod.TRACE || method == HttpMethod.PUT || method == HttpMethod.DELETE;
    }

    private static boolean hasContent(String contentLength) {
        return contentLength != null && !contentLength.equals("0");
    }

    /** The request's host, lower case and without port, for routing. */
    private static String hostOf(HttpServerRequest in) {
        HostAndPort authority = in.authority();
        if (authority == null) {
            return "";
        }
        String host = authority.host();
        for (int i = 0; i < host.length(); i++) {
            if (Character.isUpperCase(host.charAt(i))) {
                return host.toLowerCase(Locale.ROOT);
            }
        }
        return host;
    }

    private static String clientAddress(HttpServerRequest in) {
        var remote = in.remoteAddress();
        return remote == null ? "unknown" : remote.hostAddress();
    }
}
