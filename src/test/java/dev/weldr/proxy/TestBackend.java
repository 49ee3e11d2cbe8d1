package dev.weldr.proxy;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real backend: a Vert.x {@link HttpServer} on 127.0.0.1, port 0. weldr's own health checks
 * (user agent {@code weldr-health-check}) get {@link Options#healthStatus} and are not recorded;
 * every other request is recorded as {@link Seen}, whole body included, and then answered by
 * the {@link Responder}, or handed as it is to {@link Options#raw} for streaming tests.
 */
final class TestBackend implements AutoCloseable {

    static final String HEALTH_CHECK_AGENT = "weldr-health-check";

    /** One proxied request as this backend received it. */
    record Seen(HttpMethod method, String uri, MultiMap headers, Buffer body, int connection) {
        String header(String name) {
            return headers.get(name);
        }

        boolean chunked() {
            return "chunked".equalsIgnoreCase(headers.get(HttpHeaders.TRANSFER_ENCODING));
        }
    }

    @FunctionalInterface
    interface Responder {
        void respond(Seen request, HttpServerResponse response);
    }

    static final class Options {
        int healthStatus = 200;
        /** When true, health checks are answered like any other request (and recorded). */
        boolean healthChecksToo;
        Responder responder = (seen, response) -> response.end("ok");
        Handler<HttpServerRequest> raw;
        int receiveBufferSize = -1;
        int sendBufferSize = -1;

        Options healthStatus(int status) {
            this.healthStatus = status;
            return this;
        }

        Options answeringHealthChecksLikeAnyRequest() {
            this.healthChecksToo = true;
            return this;
        }

        Options responder(Responder responder) {
            this.responder = responder;
            return this;
        }

        /** Proxied requests go to this handler unread and unrecorded. */
        Options raw(Handler<HttpServerRequest> handler) {
            this.raw = handler;
            return this;
        }

        Options receiveBufferSize(int bytes) {
            this.receiveBufferSize = bytes;
            return this;
        }

        Options sendBufferSize(int bytes) {
            this.sendBufferSize = bytes;
            return this;
        }
    }

    static Options options() {
        return new Options();
    }

    private final HttpServer server;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final Map<HttpConnection, Integer> connectionIds = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();

    private TestBackend(HttpServer server) {
        this.server = server;
    }

    static TestBackend ok(Vertx vertx) throws Exception {
        return start(vertx, options());
    }

    static TestBackend start(Vertx vertx, Options options) throws Exception {
        HttpServerOptions serverOptions = new HttpServerOptions().setHost("127.0.0.1").setPort(0);
        if (options.receiveBufferSize > 0) {
            serverOptions.setReceiveBufferSize(options.receiveBufferSize);
        }
        if (options.sendBufferSize > 0) {
            serverOptions.setSendBufferSize(options.sendBufferSize);
        }
        HttpServer server = vertx.createHttpServer(serverOptions);
        TestBackend backend = new TestBackend(server);
        server.connectionHandler(connection -> {
            backend.connectionIds.put(connection, backend.connections.incrementAndGet());
            backend.open.incrementAndGet();
            connection.closeHandler(closed -> backend.open.decrementAndGet());
        });
        server.requestHandler(request -> backend.handle(request, options));
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return backend;
    }

    private void handle(HttpServerRequest request, Options options) {
        if (!options.healthChecksToo && HEALTH_CHECK_AGENT.equals(request.getHeader(HttpHeaders.USER_AGENT))) {
            request.response().setStatusCode(options.healthStatus).end();
            return;
        }
        if (options.raw != null) {
            options.raw.handle(request);
            return;
        }
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(request.headers());
        int connection = connectionIds.getOrDefault(request.connection(), -1);
        request.body().onSuccess(body -> {
            Seen s = new Seen(request.method(), request.uri(), headers, body, connection);
            seen.add(s);
            options.responder.respond(s, request.response());
        });
    }

    int port() {
        return server.actualPort();
    }

    String id() {
        return "127.0.0.1:" + port();
    }

    /** Every proxied request this backend received, in order. */
    List<Seen> seen() {
        return List.copyOf(seen);
    }

    int requestCount() {
        return seen.size();
    }

    /** Every TCP connection accepted, weldr's health checks included. */
    int connectionsAccepted() {
        return connections.get();
    }

    /** TCP connections open now, weldr's health checks included. */
    int openConnections() {
        return open.get();
    }

    /** The id (order of acceptance) of the connection a request arrived on. */
    int connectionOf(HttpServerRequest request) {
        return connectionIds.getOrDefault(request.connection(), -1);
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
