package dev.weldr.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.OriginRequestProvider;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;

import dev.weldr.proxy.lb.LoadBalancer;
import dev.weldr.proxy.lb.RequestKey;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * weldr's part of the vertx-http-proxy pipeline, for one event loop: it picks the backend
 * (round-robin over the routable ones, one retry on another server when a connection cannot be
 * made, or when an idempotent request without a body is reset before its response), rewrites
 * the headers an HTTP/1.1 intermediary must rewrite, maps every failure to 502, 503 or 504 with a
 * short text body, and counts what happened. One instance per event loop: no field is shared
 * between threads except the registry's published table.
 */
final class ProxyHandler implements ProxyInterceptor, OriginRequestProvider {

    private static final String VIA = "1.1 weldr";

    private final Vertx vertx;
    private final HttpClient client;
    private final BackendRegistry registry;
    private final ProxyStats stats;
    private final long connectTimeoutMs;
    private final long readTimeoutMs;
    private final long writeTimeoutMs;
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

    // ---- request on its way out -------------------------------------------------------------

    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
        ProxyRequest request = ctx.request();
        HttpServerRequest in = request.proxiedRequest();
        Exchange ex = new Exchange(in);
        ex.pool = registry.table().route(hostOf(in), in.path());
        ctx.set(Exchange.KEY, ex);
        MultiMap headers = request.headers();

        HopByHop.strip(headers, true);
        HopByHop.append(headers, "via", VIA);
        HopByHop.append(headers, "x-forwarded-for", clientAddress(in));
        headers.set("x-forwarded-proto", in.isSSL() ? "https" : "http");
        HostAndPort authority = in.authority();
        if (authority != null) {
            headers.set("x-forwarded-host", authority.toString());
            request.setAuthority(authority);
        }
        if (hasBody(in)) {
            Body body = request.getBody();
            request.setBody(Body.body(new TimedBody(body.stream(), vertx, ex, writeTimeoutMs, readTimeoutMs), body.length()));
        }
        return ctx.sendRequest()
                .recover(failure -> retryOrFail(ctx, ex, failure))
                .map(response -> {
                    if (!ex.ownAnswer) {
                        int status = response.getStatusCode();
                        stats.backendAnswered(ex.backend, status);
                        if (status >= 500 && ex.pool.settings.outlier().count5xx()) {
                            registry.failed(ex.backend, ex.pool.settings.outlier());
                        } else {
                            registry.succeeded(ex.backend);
                        }
                        HopByHop.strip(response.headers(), true);
                        HopByHop.append(response.headers(), "via", VIA);
                        Body body = response.getBody();
                        if (body != null) {
                            response.setBody(Body.body(new TimedResponseBody(body.stream(), vertx, ex, readTimeoutMs), body.length()));
                        }
                    }
                    return response;
                });
    }

    @Override
    public Future<Void> handleProxyResponse(ProxyContext ctx) {
        Exchange ex = ctx.get(Exchange.KEY, Exchange.class);
        int status = ctx.response().getStatusCode();
        return ctx.sendResponse().andThen(ar -> {
            release(ex);
            stats.clientDone(ex.backend, status, !ex.ownAnswer, ex.startNanos);
        });
    }

    // ---- choosing and opening the backend ---------------------------------------------------

    @Override
    public Future<HttpClientRequest> create(ProxyContext ctx) {
        Exchange ex = ctx.get(Exchange.KEY, Exchange.class);
        return open(ctx, ex, null).recover(failure -> retryConnect(ctx, ex, failure));
    }

    /** Nothing reached the backend: any request may be tried on another server, within the pool's retries. */
    private Future<HttpClientRequest> retryConnect(ProxyContext ctx, Exchange ex, Throwable failure) {
        if (ex.backend == null || !isConnectFailure(failure) || ex.attempts > ex.pool.settings.limits().retries()) {
            return Future.failedFuture(failure);
        }
        countFailure(ex);
        return open(ctx, ex, ex.backend).recover(next -> retryConnect(ctx, ex, next));
    }

    private Future<HttpClientRequest> open(ProxyContext ctx, Exchange ex, Backend exclude) {
        PoolTable pool = ex.pool;
        Backend backend = pick(pool, ex, exclude);
        if (backend != null && ex.failed != null && ex.failed.contains(backend)) {
            // A policy avoids only the server that failed last; from the third try on, an
            // earlier failure could come back. Take the first server not tried yet instead.
            backend = untried(pool, ex.failed);
        }
        if (backend == null) {
            if (exclude != null) {
                return Future.failedFuture(new ConnectException("no other server to retry on"));
            }
            return Future.failedFuture(new NoBackendException(pool.size == 0
                    ? "the pool is empty" : "no server in the pool is active"));
        }
        int cap = pool.settings.limits().maxRequests();
        if (cap > 0 && backend.inFlight() >= cap) {
            // Circuit breaking: a full server is skipped; when the next one is full too, 503 at once.
            Backend other = pick(pool, ex, backend);
            if (other == null || other.inFlight() >= cap) {
                return Future.failedFuture(new NoBackendException("every server of the pool is at its request limit"));
            }
            backend = other;
        }
        release(ex);
        ex.backend = backend;
        ex.attempts++;
        backend.inFlight.incrementAndGet();
        ex.holding = backend;
        boolean bodyless = !hasBody(ctx.request().proxiedRequest());
        return client.request(backend.requestOptions(connectTimeoutMs, bodyless ? readTimeoutMs : 0))
                .onSuccess(r -> ex.backendRequest = r);
    }

    /** The balancer of this event loop for the pool's current table (built when the table changes). */
    private Backend pick(PoolTable pool, RequestKey key, Backend exclude) {
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

    // ---- failures ---------------------------------------------------------------------------

    private Future<ProxyResponse> retryOrFail(ProxyContext ctx, Exchange ex, Throwable failure) {
        countFailure(ex);
        HttpServerRequest in = ctx.request().proxiedRequest();
        boolean sent = ex.backendRequest != null;
        // A reset before the response: only a request that is safe to repeat and whose body did
        // not reach the backend (it had none) may go to another server.
        if (sent && ex.attempts <= ex.pool.settings.limits().retries() && !(failure instanceof TimeoutException)
                && isIdempotent(in.method()) && !hasBody(in)) {
            ctx.request().setBody(null);
            ex.backendRequest = null;
            return open(ctx, ex, ex.backend)
                    .recover(next -> retryConnect(ctx, ex, next))
                    .compose(r -> ctx.request().send(r))
                    .recover(next -> retryOrFail(ctx, ex, next));
        }
        return Future.succeededFuture(errorResponse(ctx, ex, failure));
    }

    private static Backend untried(PoolTable pool, List<Backend> failed) {
        for (Backend b : pool.routable) {
            if (!failed.contains(b)) {
                return b;
            }
        }
        return null;
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

    /** The exchange no longer occupies its backend. */
    static void release(Exchange ex) {
        if (ex.holding != null) {
            ex.holding.inFlight.decrementAndGet();
            ex.holding = null;
        }
    }

    private ProxyResponse errorResponse(ProxyContext ctx, Exchange ex, Throwable failure) {
        ex.ownAnswer = true;
        int status;
        String text;
        if (failure instanceof NoBackendException) {
            status = 503;
            text = "503 Service Unavailable: " + failure.getMessage() + "\n";
        } else if (failure instanceof TimeoutException || failure instanceof ConnectTimeoutException) {
            status = 504;
            text = "504 Gateway Timeout: the backend did not answer in time\n";
        } else {
            status = 502;
            text = "502 Bad Gateway: the backend could not be reached or closed the connection\n";
        }
        return ctx.request().release().response()
                .setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .putHeader("via", VIA)
                .setBody(Body.body(Buffer.buffer(text)));
    }

    private static boolean isConnectFailure(Throwable failure) {
        return failure instanceof ConnectException || failure instanceof TimeoutException;
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                || method == HttpMethod.TRACE || method == HttpMethod.PUT || method == HttpMethod.DELETE;
    }

    private static boolean hasBody(HttpServerRequest in) {
        String length = in.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            return !length.equals("0");
        }
        return in.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    }

    /** The request's host, lower case and without port, for routing. */
    private static String hostOf(HttpServerRequest in) {
        HostAndPort authority = in.authority();
        return authority == null ? "" : authority.host().toLowerCase(java.util.Locale.ROOT);
    }

    private static String clientAddress(HttpServerRequest in) {
        var remote = in.remoteAddress();
        return remote == null ? "unknown" : remote.hostAddress();
    }
}
