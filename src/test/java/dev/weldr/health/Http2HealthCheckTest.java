package dev.weldr.health;

import dev.weldr.grpc.GrpcFixture;
import dev.weldr.tls.TestCertificates;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static dev.weldr.admin.AdminApi.emptyPool;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health checks of pools whose servers speak HTTP/2: h2c with prior knowledge, h2 through ALPN, and
 * the standard gRPC health service, against real servers (grpc-java's, Vert.x's) on loopback.
 */
@QuarkusTest
class Http2HealthCheckTest {

    private static final String POOL = "h2pool";
    /** Checks every 200 ms; a generous timeout, so that a slow machine does not fail a check that should pass. */
    private static final String TIMING = "\"interval\":\"200ms\",\"timeout\":\"2s\"";

    private final Vertx vertx = Vertx.vertx();

    @BeforeEach
    void setUp() {
        emptyPool();
        given().delete("/pools/" + POOL);
    }

    @AfterEach
    void tearDown() {
        given().delete("/pools/" + POOL);
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void shouldMarkAGrpcServerDownWhenNotServingAndBackWhenServing() throws Exception {
        try (GrpcFixture grpc = GrpcFixture.plain()) {
            createPool("{\"name\":\"" + POOL + "\",\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"grpc\"," + TIMING + "}}");
            addServer("http://127.0.0.1:" + grpc.port());
            await("the health service is asked", () -> grpc.healthChecks.get() >= 3);
            assertEquals("active", state(grpc.port()));

            grpc.health.setStatus("", ServingStatus.NOT_SERVING);
            awaitState(grpc.port(), "down");
            grpc.health.setStatus("", ServingStatus.SERVING);
            awaitState(grpc.port(), "active");

            // Asked about one service: unknown to the health service (NOT_FOUND), then serving, then not.
            patch("{\"healthCheck\":{\"grpcService\":\"" + GrpcFixture.SERVICE + "\"}}").statusCode(200);
            awaitState(grpc.port(), "down");
            grpc.health.setStatus(GrpcFixture.SERVICE, ServingStatus.SERVING);
            awaitState(grpc.port(), "active");
            grpc.health.setStatus(GrpcFixture.SERVICE, ServingStatus.NOT_SERVING);
            awaitState(grpc.port(), "down");
        }
    }

    @Test
    void shouldCheckAGrpcServerOverTlsThroughAlpn() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("weldr gRPC health CA");
        try (GrpcFixture grpc = GrpcFixture.tls(TestCertificates.leaf(ca, "grpc.backend.test"))) {
            createPool("{\"name\":\"" + POOL + "\",\"protocol\":\"h2\",\"healthCheck\":{\"mode\":\"grpc\"," + TIMING + "},"
                    + "\"tls\":{\"ca\":" + json(ca.chainPem()) + ",\"serverName\":\"grpc.backend.test\"}}");
            addServer("https://127.0.0.1:" + grpc.port());
            await("the health service is asked over TLS", () -> grpc.healthChecks.get() >= 3);
            grpc.health.setStatus("", ServingStatus.NOT_SERVING);
            awaitState(grpc.port(), "down");
            grpc.health.setStatus("", ServingStatus.SERVING);
            awaitState(grpc.port(), "active");
        }
    }

    /** An HTTP/2 check of a path, as an HTTP/1.1 pool's; a server that speaks only HTTP/1.1 fails it. */
    @Test
    void shouldCheckAPathInCleartextHttp2WithPriorKnowledge() throws Exception {
        ConcurrentLinkedQueue<HttpVersion> versions = new ConcurrentLinkedQueue<>();
        AtomicInteger status = new AtomicInteger(200);
        AtomicInteger connections = new AtomicInteger();
        HttpServer h2c = listen(new HttpServerOptions(), versions, status, connections);
        HttpServer http1Only = listen(new HttpServerOptions().setHttp2ClearTextEnabled(false), new ConcurrentLinkedQueue<>(), status,
                new AtomicInteger());
        createPool("{\"name\":\"" + POOL + "\",\"protocol\":\"h2c\",\"healthCheck\":{\"path\":\"/healthz\"," + TIMING + "}}");
        addServer("http://127.0.0.1:" + h2c.actualPort());
        addServer("http://127.0.0.1:" + http1Only.actualPort());

        awaitState(http1Only.actualPort(), "down");
        await("the h2c server is checked", () -> versions.size() >= 3);
        assertEquals(List.of(HttpVersion.HTTP_2), versions.stream().distinct().toList(), "every check in HTTP/2");
        assertEquals("active", state(h2c.actualPort()));
        assertEquals(1, connections.get(), "one connection kept for " + versions.size() + " checks");

        status.set(503);
        awaitState(h2c.actualPort(), "down");
        status.set(200);
        awaitState(h2c.actualPort(), "active");
    }

    /** Only h2 is offered in ALPN: an HTTPS server that agrees to HTTP/1.1 only cannot serve an h2 pool. */
    @Test
    void shouldCheckAPathOverTlsInHttp2AndFailAServerThatOnlyAgreesToHttp1() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("weldr h2 health CA");
        TestCertificates.Issued leaf = TestCertificates.leaf(ca, "h2.backend.test");
        ConcurrentLinkedQueue<HttpVersion> versions = new ConcurrentLinkedQueue<>();
        AtomicInteger status = new AtomicInteger(200);
        HttpServer h2 = listen(tls(leaf).setUseAlpn(true), versions, status, new AtomicInteger());
        ConcurrentLinkedQueue<HttpVersion> http1Versions = new ConcurrentLinkedQueue<>();
        HttpServer http1Only = listen(tls(leaf).setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_1_1)), http1Versions, status,
                new AtomicInteger());
        createPool("{\"name\":\"" + POOL + "\",\"protocol\":\"h2\",\"healthCheck\":{\"path\":\"/healthz\"," + TIMING + "},"
                + "\"tls\":{\"ca\":" + json(ca.chainPem()) + ",\"serverName\":\"h2.backend.test\"}}");
        addServer("https://127.0.0.1:" + h2.actualPort());
        addServer("https://127.0.0.1:" + http1Only.actualPort());

        awaitState(http1Only.actualPort(), "down");
        await("the h2 server is checked", () -> versions.size() >= 3);
        assertEquals(List.of(HttpVersion.HTTP_2), versions.stream().distinct().toList(), "every check in HTTP/2");
        assertEquals("active", state(h2.actualPort()));
        assertEquals(List.of(), List.copyOf(http1Versions), "no check reached the HTTP/1.1-only server");
        status.set(500);
        awaitState(h2.actualPort(), "down");
    }

    private HttpServer listen(HttpServerOptions options, ConcurrentLinkedQueue<HttpVersion> versions, AtomicInteger status,
                              AtomicInteger connections) throws Exception {
        return vertx.createHttpServer(options.setHost("127.0.0.1").setPort(0)).connectionHandler(c -> connections.incrementAndGet()).requestHandler(req -> {
            if ("/healthz".equals(req.path())) {
                versions.add(req.version());
            }
            req.response().setStatusCode(status.get()).end("health");
        }).listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static HttpServerOptions tls(TestCertificates.Issued leaf) {
        return new HttpServerOptions().setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(leaf.chainPem())).setKeyValue(Buffer.buffer(leaf.keyPem())));
    }

    private static void createPool(String json) {
        given().contentType("application/json").body(json).post("/pools").then().statusCode(201);
    }

    private static ValidatableResponse patch(String json) {
        return given().contentType("application/json").body(json).patch("/pools/" + POOL).then();
    }

    private static void addServer(String url) {
        given().contentType("application/json").body("{\"url\":\"" + url + "\"}").post("/pools/" + POOL + "/servers")
                .then().statusCode(201);
    }

    private static String state(int port) {
        return given().get("/pools/" + POOL + "/servers/127.0.0.1/" + port).then().statusCode(200).extract().path("state");
    }

    private static void awaitState(int port, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String seen;
        while (!expected.equals(seen = state(port))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("server 127.0.0.1:" + port + " stayed " + seen + ", expected " + expected);
            }
            Thread.sleep(20);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
