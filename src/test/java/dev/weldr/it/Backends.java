package dev.weldr.it;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Real HTTP backends on free loopback ports, each answering its own name. Vert.x servers: the
 * JDK's HttpServer tops out near a thousand requests a second, too few for a load phase.
 * A test holds them as an extension ({@code @RegisterExtension}), which closes them after each test.
 */
public final class Backends implements AutoCloseable, AfterEachCallback {

    private Vertx vertx;

    /** Starts a backend that answers 200 with {@code name} on every path; returns its port. */
    public int start(String name) {
        return start(name, request -> {
        });
    }

    /** The same, showing every request to {@code seen} first (on the backend's event loop). */
    public int start(String name, Consumer<HttpServerRequest> seen) {
        return start(name, "127.0.0.1", 0, seen);
    }

    /** A backend answering {@code name} on {@code host} (any loopback address) and {@code port} (0: a free one). */
    public synchronized int start(String name, String host, int port, Consumer<HttpServerRequest> seen) {
        if (vertx == null) {
            vertx = Vertx.vertx();
        }
        try {
            HttpServer server = vertx.createHttpServer()
                    .requestHandler(req -> {
                        seen.accept(req);
                        req.body().onComplete(ignored -> req.response().end(name));
                    })
                    .listen(port, host)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return server.actualPort();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start a backend", e);
        }
    }

    /** As a test's extension ({@code @RegisterExtension}): closed after each test, after its {@code @AfterEach}. */
    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public synchronized void close() {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().join();
            vertx = null;
        }
    }
}
