package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pools, routes, draining, passive health checks, request caps and retries, with real backends. */
@QuarkusTest
class TrafficManagementTest extends ProxyTestBase {

    @BeforeEach
    @AfterEach
    void noRoutesNorExtraPools() {
        removeRoutesAndExtraPools();
    }

    private static void createPool(String json) {
        given().contentType("application/json").body(json).post("/pools").then().statusCode(201);
    }

    private static void addTo(String pool, int port) {
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + port + "\"}")
                .post("/pools/" + pool + "/servers").then().statusCode(201);
    }

    private static void route(String name, String json) {
        given().contentType("application/json").body(json).put("/routes/" + name).then().statusCode(200);
    }

    private TestBackend named(String name) throws Exception {
        return backend(TestBackend.options().responder((seen, response) -> response.end(name)));
    }

    private String body(RawHttp.Response r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private RawHttp.Response get(String host, String path) throws Exception {
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            client.sendHead("GET " + path + " HTTP/1.1", "Host: " + host);
            return client.read(false);
        }
    }

    @Test
    void shouldSendARequestToThePoolOfTheLongestMatchingPrefixForItsHost() throws Exception {
        TestBackend fallback = named("default");
        TestBackend api = named("api");
        TestBackend v2 = named("v2");
        TestBackend shop = named("shop");
        addServer(fallback.port());
        for (String pool : new String[]{"api", "v2", "shop"}) {
            createPool("{\"name\":\"" + pool + "\"}");
        }
        addTo("api", api.port());
        addTo("v2", v2.port());
        addTo("shop", shop.port());
        route("api", "{\"pathPrefix\":\"/api\",\"pool\":\"api\"}");
        route("v2", "{\"pathPrefix\":\"/api/v2\",\"pool\":\"v2\"}");
        route("shop", "{\"host\":\"shop.example\",\"pathPrefix\":\"/\",\"pool\":\"shop\"}");

        assertEquals("api", body(get("any.example", "/api/users")));
        assertEquals("v2", body(get("any.example", "/api/v2/users")));
        assertEquals("shop", body(get("shop.example:8080", "/cart")), "the port of the Host header is not part of the match");
        assertEquals("v2", body(get("shop.example", "/api/v2/x")), "the longest prefix wins over the host");
        assertEquals("default", body(get("any.example", "/cart")), "no route: the default pool");
    }

    @Test
    void shouldRouteAnAbsoluteFormRequestByItsTargetsHostAndForwardItInOriginForm() throws Exception {
        // RFC 9112 §3.2.2: the target's authority replaces the Host header, for routing and upstream.
        TestBackend fallback = named("default");
        TestBackend shop = named("shop");
        addServer(fallback.port());
        createPool("{\"name\":\"shop\"}");
        addTo("shop", shop.port());
        route("shop", "{\"host\":\"shop.example\",\"pathPrefix\":\"/cart\",\"pool\":\"shop\"}");

        assertEquals("shop", body(get("other.example", "http://Shop.Example:8080/cart/items?id=7")));
        TestBackend.Seen seen = shop.seen().get(0);
        assertEquals("/cart/items?id=7", seen.uri());
        assertEquals("Shop.Example:8080", seen.headers().get("Host"));
        assertEquals("Shop.Example:8080", seen.headers().get("X-Forwarded-Host"));

        assertEquals("default", body(get("shop.example", "http://other.example/cart")), "the Host header is ignored");
        assertEquals("/cart", fallback.seen().get(0).uri());
        assertEquals("other.example", fallback.seen().get(0).headers().get("Host"));
        assertEquals("default", body(get("shop.example", "http://other.example?q=1")));
        assertEquals("/?q=1", fallback.seen().get(1).uri(), "an empty path goes out as /");

        RawHttp.Response refused = get("shop.example", "http://user@shop.example/cart");
        assertEquals(400, refused.status());
        assertEquals(1, shop.requestCount());
    }

    @Test
    void shouldLetADrainingServerFinishItsRequestAndSendItNoNewOne() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                release.thenRun(() -> backendVertx.runOnContext(v -> response.end("slow")))));
        addServer(slow.port());
        RawHttp held = connect();
        held.sendHead("GET /held HTTP/1.1", "Host: weldr.test");
        await("a request to reach the slow server", () -> slow.requestCount() == 1);
        TestBackend other = named("other");
        addServer(other.port());

        given().contentType("application/json").body("{\"draining\":true}")
                .patch("/servers/127.0.0.1/" + slow.port()).then().statusCode(200)
                .body("state", org.hamcrest.Matchers.equalTo("draining"))
                .body("draining", org.hamcrest.Matchers.equalTo(true));
        for (int i = 0; i < 10; i++) {
            assertEquals("other", body(get("weldr.test", "/new")));
        }
        assertEquals(1, slow.requestCount(), "a draining server gets no new request");

        release.complete(null);
        RawHttp.Response finished = held.read(false);
        assertEquals(200, finished.status());
        assertEquals("slow", body(finished), "the in-flight request finished on the draining server");
    }

    @Test
    void shouldAnswerARemovalOnceTheServersInFlightRequestHasFinished() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                release.thenRun(() -> backendVertx.runOnContext(v -> response.end("slow")))));
        addServer(slow.port());
        RawHttp held = connect();
        held.sendHead("GET /held HTTP/1.1", "Host: weldr.test");
        await("the request to reach the server", () -> slow.requestCount() == 1);

        CompletableFuture<Integer> removal = CompletableFuture.supplyAsync(() ->
                given().delete("/servers/127.0.0.1/" + slow.port()).then().extract().statusCode());
        Thread.sleep(500);
        assertTrue(!removal.isDone(), "the removal waits for the request in flight");
        assertEquals(503, get("weldr.test", "/new").status(), "a server being removed gets no new request");

        release.complete(null);
        assertEquals(204, removal.get(10, TimeUnit.SECONDS));
        RawHttp.Response finished = held.read(false);
        assertEquals("slow", body(finished), "the request in flight was not cut");
    }

    @Test
    void shouldCheckAPoolsServersWithItsOwnPathAndExpectedStatus() throws Exception {
        createPool("{\"name\":\"checked\",\"healthCheck\":{\"path\":\"/healthz\",\"expectedStatus\":\"200-399\","
                + "\"interval\":\"100ms\",\"failures\":2}}");
        java.util.concurrent.atomic.AtomicInteger status = new java.util.concurrent.atomic.AtomicInteger(302);
        java.util.List<String> checked = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestBackend b = backend(TestBackend.options().answeringHealthChecksLikeAnyRequest().responder((seen, response) -> {
            checked.add(seen.uri());
            response.setStatusCode(status.get()).end();
        }));
        addTo("checked", b.port());
        await("a few checks", () -> checked.size() >= 3);
        assertTrue(checked.stream().allMatch("/healthz"::equals), "checked on its pool's path: " + checked);
        assertEquals("active", state("checked", b.port()), "302 is within 200-399");
        status.set(404);
        await("the server to go down on 404", () -> "down".equals(state("checked", b.port())));
    }

    @Test
    void shouldEjectAServerThatResetsConnectionsAndReadmitItAfterTheCoolDown() throws Exception {
        createPool("{\"name\":\"passive\",\"outlier\":{\"consecutiveFailures\":3,\"baseEjection\":\"1s\","
                + "\"maxEjectionPercent\":50},\"limits\":{\"retries\":1}}");
        route("all", "{\"pathPrefix\":\"/\",\"pool\":\"passive\"}");
        ResettingBackend resetting = closeLater(new ResettingBackend());
        TestBackend good = named("good");
        addTo("passive", resetting.port());
        addTo("passive", good.port());

        // Every request that meets the resetting server is retried on the good one.
        for (int i = 0; i < 8; i++) {
            assertEquals("good", body(get("weldr.test", "/x" + i)));
        }
        int seenBefore = resetting.seen().size();
        assertTrue(seenBefore >= 3, "the resetting server was tried " + seenBefore + " times");
        await("the server to be ejected", () -> "down".equals(state("passive", resetting.port())));
        for (int i = 0; i < 10; i++) {
            assertEquals("good", body(get("weldr.test", "/y" + i)));
        }
        assertEquals(seenBefore, resetting.seen().size(), "an ejected server gets no traffic");
        await("the server to be readmitted after its cool-down", () -> "active".equals(state("passive", resetting.port())));
    }

    @Test
    void shouldAnswer503AtOnceWhenEveryServerIsAtItsRequestLimit() throws Exception {
        createPool("{\"name\":\"capped\",\"limits\":{\"maxRequests\":1}}");
        route("all", "{\"pathPrefix\":\"/\",\"pool\":\"capped\"}");
        CompletableFuture<Void> release = new CompletableFuture<>();
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                release.thenRun(() -> backendVertx.runOnContext(v -> response.end("slow")))));
        addTo("capped", slow.port());

        RawHttp held = connect();
        held.sendHead("GET /held HTTP/1.1", "Host: weldr.test");
        await("the first request to reach the server", () -> slow.requestCount() == 1);
        long start = System.nanoTime();
        RawHttp.Response full = get("weldr.test", "/more");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(503, full.status());
        assertTrue(body(full).contains("request limit"), body(full));
        assertTrue(ms < 1000, "answered at once, not after a timeout: " + ms + " ms");
        assertEquals(1, slow.requestCount());
        release.complete(null);
        assertEquals("slow", body(held.read(false)));
        assertEquals(200, get("weldr.test", "/again").status(), "the cap frees up when the request ends");
    }

    @Test
    void shouldRetryAConnectFailureAsManyTimesAsThePoolAllows() throws Exception {
        // Health checks (an interval of an hour) and passive checks are kept out of the way, so
        // that the dead servers stay in the rotation and only retries save the requests.
        createPool("{\"name\":\"retry\",\"policy\":\"round-robin\",\"limits\":{\"retries\":2},"
                + "\"healthCheck\":{\"interval\":\"1h\"},\"outlier\":{\"consecutiveFailures\":0}}");
        route("all", "{\"pathPrefix\":\"/\",\"pool\":\"retry\"}");
        TestBackend live = named("live");
        addTo("retry", deadPort());
        addTo("retry", deadPort());
        addTo("retry", live.port());
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            for (int i = 0; i < 6; i++) {
                assertEquals(200, client.get("/r" + i).status(), "two dead servers and two retries");
            }
        }
        given().contentType("application/json").body("{\"limits\":{\"retries\":0}}").patch("/pools/retry").then().statusCode(200);
        int failures = 0;
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            // One connection, one event loop: six round-robin picks meet each dead server twice.
            for (int i = 0; i < 6; i++) {
                failures += client.get("/n" + i).status() == 502 ? 1 : 0;
            }
        }
        assertEquals(4, failures, "without retries, every request to a dead server fails");
    }

    @Test
    void shouldNeverRetryOnAServerThatAlreadyFailedTheRequest() throws Exception {
        // A consistent-hash ring walks on to the next server from the key; excluding only the last
        // failure, the third try would go back to the first one.
        createPool("{\"name\":\"ring\",\"policy\":\"consistent-hash\",\"hashOn\":\"header:X-User\","
                + "\"limits\":{\"retries\":2},\"outlier\":{\"consecutiveFailures\":0}}");
        route("all", "{\"pathPrefix\":\"/\",\"pool\":\"ring\"}");
        addTo("ring", deadPort());
        addTo("ring", deadPort());
        TestBackend live = named("live");
        addTo("ring", live.port());
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            for (int i = 0; i < 30; i++) {
                client.sendHead("GET /k HTTP/1.1", "Host: weldr.test", "X-User: user" + i);
                RawHttp.Response r = client.read(false);
                assertEquals(200, r.status(), "user" + i + ": " + body(r));
            }
        }
    }

    private static String state(String pool, int port) {
        return given().get("/pools/" + pool + "/servers/127.0.0.1/" + port).then().statusCode(200).extract().path("state");
    }
}
