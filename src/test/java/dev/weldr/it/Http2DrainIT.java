package dev.weldr.it;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node that stops (SIGTERM) tells its HTTP/2 clients to go away and lets the streams in flight
 * finish within the drain time, with a real process, a real backend and Vert.x's HTTP/2 client.
 */
class Http2DrainIT {

    @TempDir
    Path data;
    private WeldrProcess node;
    private Vertx vertx;

    @AfterEach
    void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldSendGoAwayOnSigtermAndFinishTheStreamInFlight() throws Exception {
        vertx = Vertx.vertx();
        AtomicReference<HttpServerRequest> held = new AtomicReference<>();
        HttpServer backend = vertx.createHttpServer().requestHandler(req -> {
            if (req.path().equals("/slow")) {
                held.set(req);
            } else {
                req.response().end("ok");
            }
        });
        int backendPort = backend.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        node = WeldrProcess.create("h2-drain", data, Map.of("weldr.ha.stop-drain", "20s")).start();
        HttpResponse<String> added = node.post("/servers", "{\"url\":\"http://127.0.0.1:" + backendPort + "\"}");
        assertEquals(201, added.statusCode(), added.body());
        WeldrProcess.await(Duration.ofSeconds(20), () -> node.proxyGet("/").statusCode() == 200, "the server to serve");

        AtomicLong goAwayCode = new AtomicLong(-1);
        HttpClient client = vertx.httpClientBuilder()
                .with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false))
                .withConnectHandler(conn -> conn.goAwayHandler(ga -> goAwayCode.set(ga.getErrorCode())))
                .build();
        CompletableFuture<String> answer = client.request(HttpMethod.GET, node.proxyPort, "127.0.0.1", "/slow")
                .compose(req -> req.send().compose(r -> r.body().map(b -> r.statusCode() + " " + b)))
                .toCompletionStage().toCompletableFuture();
        WeldrProcess.await(Duration.ofSeconds(20), () -> held.get() != null, "the request to reach the backend");

        node.terminate();
        WeldrProcess.await(Duration.ofSeconds(20), () -> goAwayCode.get() >= 0, "a GOAWAY from the stopping node");
        assertEquals(0, goAwayCode.get(), "NO_ERROR: a graceful goodbye");
        assertTrue(node.alive(), "the node waits for the stream in flight");
        held.get().response().end("late but whole");
        assertEquals("200 late but whole", answer.get(20, TimeUnit.SECONDS));
        // Then it stops, without waiting out the rest of the 20 s drain (128 + SIGTERM, as the JVM ends on it).
        assertEquals(143, node.awaitExit(Duration.ofSeconds(15)), node.output());
    }
}
