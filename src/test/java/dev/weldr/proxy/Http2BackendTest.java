package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pools of protocol h2c with a real HTTP/2 backend (Vert.x's): requests translated to HTTP/2 for it,
 * its answers and trailers passed on, and back-pressure per stream from the client to the backend.
 */
@QuarkusTest
class Http2BackendTest extends ProxyTestBase {

    private static final long WAIT_S = 30;

    @BeforeEach
    @AfterEach
    void noRoutesNorExtraPools() {
        removeRoutesAndExtraPools();
    }

    /** An h2c backend, pool "h2" routed from /h2/, its health checks on /healthz. */
    private HttpServer backend(Consumer<HttpServerRequest> handler) throws Exception {
        HttpServer server = backendVertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(req -> {
                    if (req.path().equals("/healthz")) {
                        req.response().end("ok");
                    } else {
                        handler.accept(req);
                    }
                })
                .listen().toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
        closeLater(() -> server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        poolOf(server);
        return server;
    }

    /** Pool "h2" (h2c, health checks on /healthz) with this server, routed from /h2/, once the server is active. */
    private static void poolOf(HttpServer server) {
        given().contentType("application/json")
                .body("{\"name\":\"h2\",\"protocol\":\"h2c\",\"healthCheck\":{\"path\":\"/healthz\",\"interval\":\"200ms\",\"timeout\":\"2s\"}}")
                .post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"pathPrefix\":\"/h2/\",\"pool\":\"h2\"}").put("/routes/h2").then().statusCode(200);
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + server.actualPort() + "\"}").post("/pools/h2/servers")
                .then().statusCode(201);
        await("the h2c server is active", () -> "active".equals(given().get("/pools/h2/servers/127.0.0.1/" + server.actualPort())
                .then().statusCode(200).extract().path("state")));
    }

    private HttpClient h2c() {
        HttpClient client = backendVertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false).setHttp2MaxPoolSize(1).setDefaultHost("127.0.0.1").setDefaultPort(proxyPort())
                // A stream the client does not read must not shut the connection's window for the others on the client's own side.
                .setHttp2ConnectionWindowSize(4 * 1024 * 1024));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        return client;
    }

    private record Seen(HttpVersion version, String authority, String scheme, String uri, MultiMap headers, String body) {
    }

    @Test
    void shouldTranslateAnHttp2ClientsRequestForTheBackendAndPassItsAnswerAndTrailersBack() throws Exception {
        AtomicReference<Seen> seen = new AtomicReference<>();
        backend(req -> req.body().onSuccess(b -> {
            seen.set(new Seen(req.version(), req.authority().toString(), req.scheme(), req.uri(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()),
                    b.toString()));
            HttpServerResponse r = req.response().putHeader("x-answer", "yes").setChunked(true);
            r.write("part one,");
            r.putTrailer("x-checksum", "abc");
            r.end("part two");
        }));
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI("/h2/echo?q=1")
                .addHeader("x-custom", "1").addHeader("te", "trailers").addHeader("x-forwarded-for", "10.0.0.1");
        Map<String, String> got = h2c().request(options)
                .compose(req -> req.send(Buffer.buffer("hello backend")))
                .compose(r -> r.body().map(b -> Map.of("status", Integer.toString(r.statusCode()), "version", r.version().name(),
                        "body", b.toString(), "x-answer", String.valueOf(r.getHeader("x-answer")), "via", String.valueOf(r.getHeader("via")),
                        "x-checksum", String.valueOf(r.getTrailer("x-checksum")))))
                .toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
        assertEquals("200", got.get("status"), got.toString());
        assertEquals("HTTP_2", got.get("version"));
        assertEquals("part one,part two", got.get("body"));
        assertEquals("yes", got.get("x-answer"));
        assertEquals("2.0 weldr", got.get("via"));
        assertEquals("abc", got.get("x-checksum"), "the backend's trailers reach the client as trailers");

        Seen s = seen.get();
        assertEquals(HttpVersion.HTTP_2, s.version());
        assertEquals("127.0.0.1:" + proxyPort(), s.authority());
        assertEquals("/h2/echo?q=1", s.uri());
        assertEquals("hello backend", s.body());
        assertEquals("1", s.headers().get("x-custom"));
        assertEquals("trailers", s.headers().get("te"));
        assertEquals("10.0.0.1, 127.0.0.1", s.headers().get("x-forwarded-for"));
        assertEquals("http", s.headers().get("x-forwarded-proto"));
        assertEquals("2.0 weldr", s.headers().get("via"));
        assertNull(s.headers().get("host"), "the host goes as :authority");
    }

    @Test
    void shouldTranslateAnHttp11ClientsRequestDroppingHopByHopHeaders() throws Exception {
        AtomicReference<Seen> seen = new AtomicReference<>();
        backend(req -> req.body().onSuccess(b -> {
            seen.set(new Seen(req.version(), req.authority().toString(), req.scheme(), req.uri(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()),
                    b.toString()));
            req.response().end("fine");
        }));
        RawHttp client = connect();
        client.sendHead("POST /h2/form HTTP/1.1", "Host: shop.example:8080", "Connection: keep-alive, X-Private", "X-Private: secret",
                "Keep-Alive: timeout=5", "TE: gzip", "X-Mixed-Case: Value", "Transfer-Encoding: chunked");
        client.send("5\r\nhello\r\n0\r\n\r\n");
        RawHttp.Response r = client.read(false);
        assertEquals(200, r.status());
        assertEquals("fine", r.text());
        assertEquals("2.0 weldr", r.header("via"));
        Seen s = seen.get();
        assertEquals(HttpVersion.HTTP_2, s.version());
        assertEquals("shop.example:8080", s.authority());
        assertEquals("hello", s.body());
        assertEquals("Value", s.headers().get("x-mixed-case"));
        for (String gone : new String[]{"connection", "x-private", "keep-alive", "te", "transfer-encoding", "host"}) {
            assertNull(s.headers().get(gone), gone + " is not for the backend: " + s.headers());
        }
        assertEquals("1.1 weldr", s.headers().get("via"));
    }

    @Test
    void shouldGiveAnHttp10RequestWithoutHostTheServerAsItsAuthority() throws Exception {
        AtomicReference<String> authority = new AtomicReference<>();
        HttpServer server = backend(req -> {
            authority.set(req.authority().toString());
            req.response().end("old but served");
        });
        RawHttp client = connect();
        client.sendHead("GET /h2/old HTTP/1.0");
        RawHttp.Response r = client.read(false);
        assertEquals(200, r.status(), r.text());
        assertEquals("old but served", r.text());
        assertEquals("127.0.0.1:" + server.actualPort(), authority.get(), "HTTP/2 needs an authority: the server's");
    }

    /**
     * A client that stops reading one stream: the backend of that stream is stopped by its window
     * (weldr holds at most a few windows of it), and another stream of the same client connection
     * to the same backend connection is answered meanwhile. The body comes whole once it reads again.
     */
    @Test
    void shouldStopTheBackendOfAStalledStreamOnlyAndHoldLittleOfIt() throws Exception {
        long total = 64L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        AtomicLong writtenWhenBlocked = new AtomicLong(-1);
        Map<String, Boolean> blocked = new ConcurrentHashMap<>();
        backend(req -> {
            if (req.path().equals("/h2/small")) {
                req.response().end("small");
                return;
            }
            HttpServerResponse r = req.response().setChunked(true);
            Buffer chunk = Buffer.buffer(new byte[16 * 1024]);
            Runnable[] pump = new Runnable[1];
            pump[0] = () -> {
                while (written.get() < total && !r.writeQueueFull()) {
                    r.write(chunk);
                    written.addAndGet(chunk.length());
                }
                if (written.get() >= total) {
                    r.end();
                } else {
                    blocked.put("yes", true);
                    writtenWhenBlocked.compareAndSet(-1, written.get());
                    r.drainHandler(v -> pump[0].run());
                }
            };
            pump[0].run();
        });
        HttpClient client = h2c();
        CompletableFuture<HttpClientResponse> big = client.request(HttpMethod.GET, "/h2/big")
                .compose(req -> req.send())
                .map(resp -> {
                    resp.pause();
                    return resp;
                })
                .toCompletionStage().toCompletableFuture();
        HttpClientResponse stalled = big.get(WAIT_S, TimeUnit.SECONDS);
        await("the backend is stopped by the stalled stream's window", () -> blocked.containsKey("yes"));
        long before = written.get();
        // The same client connection, the same backend connection: another stream goes on.
        String small = client.request(HttpMethod.GET, "/h2/small").compose(req -> req.send().compose(HttpClientResponse::body))
                .toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS).toString();
        assertEquals("small", small);
        assertTrue(written.get() < 16L * 1024 * 1024,
                "the backend could write " + written.get() + " bytes to a stream nobody reads (blocked first at " + writtenWhenBlocked.get()
                        + ", " + before + " when checked)");

        AtomicLong received = new AtomicLong();
        CompletableFuture<Void> end = new CompletableFuture<>();
        stalled.handler(b -> received.addAndGet(b.length())).endHandler(v -> end.complete(null)).exceptionHandler(end::completeExceptionally);
        stalled.resume();
        try {
            end.get(WAIT_S * 4, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the body did not end: " + received.get() + " of " + total + " received, the backend wrote " + written.get());
        }
        assertEquals(total, received.get(), "the whole body once the client reads again");
    }


    /**
     * A server that takes one stream per connection, and holds every answer: four requests get a
     * connection each (the bound), the fifth waits for a stream and gives up after the connect
     * timeout (1 s in the tests), having reached no server; the four are answered. The requests
     * are gRPC calls with a long deadline, so that the held ones outlive the read timeout (1 s too).
     */
    @Test
    void shouldOpenAtMostFourConnectionsAndFailARequestThatFindsNoStreamInTime() throws Exception {
        List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
        Set<Object> connections = ConcurrentHashMap.newKeySet();
        HttpServer server = backendVertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setInitialSettings(new io.vertx.core.http.Http2Settings().setMaxConcurrentStreams(1)))
                .requestHandler(req -> {
                    if (req.path().equals("/healthz")) {
                        req.response().end("ok");
                        return;
                    }
                    connections.add(req.connection());
                    held.add(req);
                })
                .listen().toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
        closeLater(() -> server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        poolOf(server);

        HttpClient client = h2c();
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            RequestOptions call = new RequestOptions().setMethod(HttpMethod.POST).setURI("/h2/hold/" + i)
                    .addHeader("content-type", "application/grpc").addHeader("grpc-timeout", "20S");
            answers.add(client.request(call)
                    .compose(req -> req.send().compose(r -> r.body().map(b -> r.statusCode() + " " + r.getHeader("grpc-status") + " " + b)))
                    .toCompletionStage().toCompletableFuture());
        }
        await("four requests reach the server", () -> held.size() >= 4);
        String refused = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (refused == null && System.nanoTime() < deadline) {
            for (CompletableFuture<String> a : answers) {
                if (a.isDone()) {
                    refused = a.get();
                }
            }
            Thread.onSpinWait();
        }
        assertTrue(refused != null && refused.startsWith("200 14 "), "UNAVAILABLE for the request with no stream: " + refused);
        assertEquals(4, held.size(), "no fifth request reached the server");
        assertEquals(4, connections.size(), "one connection per stream the server allows, four at most");
        held.forEach(r -> r.response().end("held"));
        int answered = 0;
        for (CompletableFuture<String> a : answers) {
            if (a.get(WAIT_S, TimeUnit.SECONDS).equals("200 null held")) {
                answered++;
            }
        }
        assertEquals(4, answered);
    }

    /**
     * The other way: a server that stops reading a big upload stops the client of that stream
     * (weldr stops reading it, so its window stays shut), and the upload goes on whole once the
     * server reads again.
     */
    @Test
    void shouldStopAnUploadWhileTheServerDoesNotReadAndFinishItWhenItDoes() throws Exception {
        long total = 32L * 1024 * 1024;
        AtomicLong received = new AtomicLong();
        AtomicReference<HttpServerRequest> paused = new AtomicReference<>();
        backend(req -> {
            req.pause();
            paused.set(req);
            req.handler(b -> received.addAndGet(b.length()));
            req.endHandler(v -> req.response().end("got " + received.get()));
        });
        HttpClient client = h2c();
        AtomicLong sent = new AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean blocked = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<String> answer = new CompletableFuture<>();
        client.request(HttpMethod.POST, "/h2/upload").onSuccess(req -> {
            req.response().compose(r -> r.body().map(b -> r.statusCode() + " " + b)).onComplete(ar -> {
                if (ar.succeeded()) {
                    answer.complete(ar.result());
                } else {
                    answer.completeExceptionally(ar.cause());
                }
            });
            req.setChunked(true);
            Buffer chunk = Buffer.buffer(new byte[16 * 1024]);
            Runnable[] pump = new Runnable[1];
            pump[0] = () -> {
                while (sent.get() < total && !req.writeQueueFull()) {
                    req.write(chunk);
                    sent.addAndGet(chunk.length());
                }
                if (sent.get() >= total) {
                    req.end();
                } else {
                    blocked.set(true);
                    req.drainHandler(v -> {
                        blocked.set(false);
                        pump[0].run();
                    });
                }
            };
            pump[0].run();
        }).onFailure(answer::completeExceptionally);
        await("the server has the request", () -> paused.get() != null);
        // Without back-pressure weldr would take it all (and hold it): the client would never block.
        await("the client is stopped, or has sent everything", () -> blocked.get() || sent.get() >= total);
        assertTrue(blocked.get() && sent.get() < 16L * 1024 * 1024, "the client could send " + sent.get() + " bytes nobody read");
        paused.get().resume();
        assertEquals("200 got " + total, answer.get(WAIT_S * 4, TimeUnit.SECONDS));
    }
}
