package dev.weldr.health;

import dev.weldr.proxy.ProxyServer;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.weldr.admin.AdminApi.emptyPool;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Active health checks against a real backend whose health the test switches. The %test profile
 * checks every 200 ms with weldr's default thresholds (3 failures down, 2 passes back).
 */
@QuarkusTest
class HealthCheckTest {

    @Inject
    ProxyServer proxy;

    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicBoolean healthy = new AtomicBoolean(true);
    private final AtomicInteger failedChecks = new AtomicInteger();
    private final AtomicInteger passedChecks = new AtomicInteger();
    private final AtomicInteger traffic = new AtomicInteger();
    private HttpServer flaky;
    private HttpServer steady;

    @BeforeEach
    void setUp() throws Exception {
        emptyPool();
        flaky = vertx.createHttpServer().requestHandler(req -> {
            boolean check = "weldr-health-check".equals(req.getHeader("user-agent"));
            if (!check) {
                traffic.incrementAndGet();
                req.response().end("flaky");
            } else if (healthy.get()) {
                passedChecks.incrementAndGet();
                req.response().end("ok");
            } else {
                failedChecks.incrementAndGet();
                req.response().setStatusCode(500).end("sick");
            }
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        steady = vertx.createHttpServer().requestHandler(req -> req.response().end("steady"))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        add(flaky.actualPort());
        add(steady.actualPort());
    }

    @AfterEach
    void tearDown() {
        emptyPool();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void shouldMarkAFailingServerDownAfterThreeChecksAndSendItNoTraffic() throws Exception {
        healthy.set(false);
        awaitState(flaky.actualPort(), "down");
        assertTrue(failedChecks.get() >= 3, "marked down after only " + failedChecks.get() + " failed checks");

        traffic.set(0);
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = proxyGet();
            assertEquals(200, r.statusCode());
            assertEquals("steady", r.body());
        }
        assertEquals(0, traffic.get(), "a down server got traffic");
    }

    @Test
    void shouldBringAServerBackAfterTwoPasses() throws Exception {
        healthy.set(false);
        awaitState(flaky.actualPort(), "down");
        passedChecks.set(0);
        healthy.set(true);
        awaitState(flaky.actualPort(), "active");
        assertTrue(passedChecks.get() >= 2, "back after only " + passedChecks.get() + " passed checks");

        List<String> bodies = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            bodies.add(proxyGet().body());
        }
        assertTrue(bodies.contains("flaky"), "the server that came back gets traffic again: " + bodies);
    }

    @Test
    void shouldAnswer503WhenEveryServerIsDown() throws Exception {
        given().delete("/servers/127.0.0.1/" + steady.actualPort()).then().statusCode(204);
        healthy.set(false);
        awaitState(flaky.actualPort(), "down");
        HttpResponse<String> r = proxyGet();
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.body().contains("no server in the pool is active"), r.body());
    }

    @Test
    void shouldJudgeAStreamingBodyByItsStatusAndCloseTheConnectionWithoutReadingIt() throws Exception {
        try (StreamingCheckBackend streaming = new StreamingCheckBackend(500)) {
            add(streaming.port());
            awaitState(streaming.port(), "down");
            streaming.status(200);
            awaitState(streaming.port(), "active");

            List<StreamingCheckBackend.Answer> answers = streaming.answers();
            assertTrue(answers.stream().filter(a -> a.status() == 500).count() >= 3, "checks seen: " + answers);
            assertTrue(answers.stream().filter(a -> a.status() == 200).count() >= 2, "checks seen: " + answers);
            for (StreamingCheckBackend.Answer a : answers) {
                assertTrue(a.closedByClient(), "a check read " + a.written() + " bytes of an endless body without closing: " + answers);
            }
            given().delete("/servers/127.0.0.1/" + streaming.port()).then().statusCode(204);
        }
    }

    private HttpResponse<String> proxyGet() throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void add(int port) {
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + port + "\"}")
                .post("/servers").then().statusCode(201);
    }

    private static void awaitState(int port, String state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String seen = null;
        while (System.nanoTime() < deadline) {
            seen = given().get("/servers/127.0.0.1/" + port).then().statusCode(200).extract().path("state");
            if (state.equals(seen)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("server 127.0.0.1:" + port + " stayed " + seen + ", expected " + state);
    }
}
