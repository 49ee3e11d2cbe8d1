package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each load-balancing policy, through the real proxy to real backends. */
@QuarkusTest
class LoadBalancingTest extends ProxyTestBase {

    @BeforeEach
    @AfterEach
    void noRoutesNorExtraPools() {
        removeRoutesAndExtraPools();
    }

    private void pool(String settings) {
        String body = settings.isEmpty() ? "{\"name\":\"lb\"}" : "{\"name\":\"lb\"," + settings + "}";
        given().contentType("application/json").body(body).post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"pathPrefix\":\"/\",\"pool\":\"lb\"}").put("/routes/all").then().statusCode(200);
    }

    private void add(TestBackend b, int weight) {
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + b.port() + "\",\"weight\":" + weight + "}")
                .post("/pools/lb/servers").then().statusCode(201);
    }

    private TestBackend named(String name) throws Exception {
        return backend(TestBackend.options().responder((seen, response) -> response.end(name)));
    }

    private static String body(RawHttp.Response r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    @Test
    void shouldSplitTrafficThreeToOneWithWeightsThreeAndOneUnderTheDefaultPolicy() throws Exception {
        pool("");
        assertThreeToOne();
    }

    @Test
    void shouldSplitTrafficThreeToOneUnderWeightedRoundRobin() throws Exception {
        pool("\"policy\":\"weighted-round-robin\"");
        assertThreeToOne();
    }

    private void assertThreeToOne() throws Exception {
        add(named("heavy"), 3);
        add(named("light"), 1);
        Map<String, Integer> counts = new HashMap<>();
        // Two connections, most likely on different event loops, each with its own balancer.
        try (RawHttp one = RawHttp.connect(proxyPort()); RawHttp two = RawHttp.connect(proxyPort())) {
            for (int i = 0; i < 2000; i++) {
                counts.merge(body(one.get("/w")), 1, Integer::sum);
                counts.merge(body(two.get("/w")), 1, Integer::sum);
            }
        }
        double heavyShare = counts.getOrDefault("heavy", 0) / 4000.0;
        assertTrue(Math.abs(heavyShare - 0.75) <= 0.05, "heavy got " + counts);
        assertEquals(4000, counts.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void shouldSendFewerRequestsToASlowServerWithLeastRequests() throws Exception {
        pool("\"policy\":\"least-requests\"");
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                backendVertx.setTimer(150, id -> response.end("slow"))));
        add(slow, 1);
        add(named("fast"), 1);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<Map<String, Integer>>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                results.add(clients.submit(() -> {
                    Map<String, Integer> seen = new HashMap<>();
                    try (RawHttp client = RawHttp.connect(proxyPort())) {
                        for (int i = 0; i < 25; i++) {
                            seen.merge(body(client.get("/lr")), 1, Integer::sum);
                        }
                    }
                    return seen;
                }));
            }
            Map<String, Integer> total = new HashMap<>();
            for (Future<Map<String, Integer>> f : results) {
                f.get().forEach((k, v) -> total.merge(k, v, Integer::sum));
            }
            int slowCount = total.getOrDefault("slow", 0);
            assertEquals(200, slowCount + total.getOrDefault("fast", 0));
            assertTrue(slowCount < 60, "the slow server got " + slowCount + " of 200 (round-robin would give it 100)");
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void shouldKeepAKeyOnOneServerAndMoveFewKeysWhenAServerIsAdded() throws Exception {
        pool("\"policy\":\"consistent-hash\",\"hashOn\":\"header:X-User\"");
        for (int i = 0; i < 4; i++) {
            add(named("s" + i), 1);
        }
        Map<String, String> before = new HashMap<>();
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            for (int k = 0; k < 300; k++) {
                before.put("user" + k, send(client, "user" + k));
            }
            for (int k = 0; k < 300; k += 10) {
                assertEquals(before.get("user" + k), send(client, "user" + k), "the same key, the same server");
            }
        }
        add(named("s4"), 1);
        int moved = 0;
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            for (int k = 0; k < 300; k++) {
                String now = send(client, "user" + k);
                if (!now.equals(before.get("user" + k))) {
                    moved++;
                    assertEquals("s4", now, "a key only ever moves to the new server");
                }
            }
        }
        assertTrue(moved >= 30 && moved <= 105, moved + " of 300 keys moved; about a fifth should");
    }

    private static String send(RawHttp client, String user) throws Exception {
        client.sendHead("GET /h HTTP/1.1", "Host: weldr.test", "X-User: " + user);
        return body(client.read(false));
    }
}
