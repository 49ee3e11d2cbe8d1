package dev.weldr.admin;

import dev.weldr.proxy.ProxyServer;
import dev.weldr.ui.SwitchableBackend;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /events}: what this node saw, each event recorded by a real change of state (a real
 * backend that starts failing its checks, real traffic that fails until passive checks eject the
 * server), newest first, and the {@code ejectedUntil} of {@code /stats/detail} that goes with an
 * ejection.
 */
@QuarkusTest
class EventsResourceTest {

    @Inject
    ProxyServer proxy;
    private final List<SwitchableBackend> backends = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void setUp() {
        AdminApi.removeRoutesAndPools();
        AdminApi.emptyPool();
    }

    @AfterEach
    void tearDown() {
        given().get("/pools").then().extract().jsonPath().getList("pools.name", String.class).forEach(pool ->
                given().get("/pools/" + pool + "/servers").then().extract().jsonPath().getList("servers.id", String.class)
                        .forEach(id -> given().delete("/pools/" + pool + "/servers/" + id.replace(':', '/')).then().statusCode(204)));
        AdminApi.removeRoutesAndPools();
        backends.forEach(SwitchableBackend::close);
    }

    @Test
    void shouldRecordAServerThatStartsFailingItsChecksAndComesBack() {
        SwitchableBackend b = backend();
        AdminApi.add(b.url());
        long before = lastId();
        AdminApi.await("the server to be active", () -> "active".equals(state(b)));

        b.fail(true);
        Map<String, Object> down = awaitEvent(before, "down", b.id());
        assertEquals("default", down.get("pool"));
        assertTrue(String.valueOf(down.get("detail")).contains("HTTP 500"), "the reason: " + down);
        assertNull(down.get("until"), "only an ejection has an end: " + down);
        assertEquals("down", state(b));

        b.fail(false);
        Map<String, Object> up = awaitEvent(before, "up", b.id());
        assertTrue(((Number) up.get("id")).longValue() > ((Number) down.get("id")).longValue(), up + " after " + down);
        List<Map<String, Object>> newest = events("/events?limit=500");
        assertEquals(up, newest.stream().filter(e -> b.id().equals(e.get("server"))).findFirst().orElseThrow(),
                "newest first: " + newest);
        assertTrue(Instant.parse((String) up.get("time")).compareTo(Instant.parse((String) down.get("time"))) >= 0, up + " " + down);
    }

    @Test
    void shouldRecordAPassiveEjectionWithItsEndAndTheReadmission() {
        // No active check for an hour: only traffic decides, and each 500 counts as a failure.
        given().contentType("application/json").body("{\"name\":\"ejecting\",\"healthCheck\":{\"interval\":\"1h\"},"
                + "\"outlier\":{\"consecutiveFailures\":3,\"count5xx\":true,\"baseEjection\":\"5s\",\"maxEjection\":\"5s\"}}")
                .post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"pathPrefix\":\"/\",\"pool\":\"ejecting\"}").put("/routes/all")
                .then().statusCode(200);
        SwitchableBackend b = backend();
        b.fail(true);
        given().contentType("application/json").body(AdminApi.json(b.url())).post("/pools/ejecting/servers").then().statusCode(201);
        long before = lastId();

        Map<String, Object>[] stats = new Map[1];
        AdminApi.await("passive checks to eject the server", () -> {
            proxyGet();
            stats[0] = detail(b);
            return Boolean.TRUE.equals(stats[0].get("ejected"));
        });
        Map<String, Object> ejected = awaitEvent(before, "ejected", b.id());
        assertEquals("ejecting", ejected.get("pool"));
        Instant until = Instant.parse((String) ejected.get("until"));
        Instant seen = Instant.parse((String) ejected.get("time"));
        assertTrue(until.isAfter(seen) && !until.isAfter(seen.plusSeconds(5)), "a 5 s ejection seen at " + seen + " ends at " + until);
        // Read while ejected, /stats/detail names the same end (or had no end yet, read in the instant between).
        if (stats[0].get("ejectedUntil") != null) {
            assertEquals(until, Instant.parse((String) stats[0].get("ejectedUntil")), "the end /stats/detail gives: " + stats[0]);
        }
        Map<String, Object> now = detail(b);
        if (Boolean.TRUE.equals(now.get("ejected"))) {
            assertEquals(until, Instant.parse((String) now.get("ejectedUntil")), "the end /stats/detail gives: " + now);
        }

        Map<String, Object> readmitted = awaitEvent(before, "readmitted", b.id());
        assertTrue(!Instant.parse((String) readmitted.get("time")).isBefore(until.minusMillis(50)),
                "readmitted at " + readmitted.get("time") + ", before the ejection's end " + until);
        AdminApi.await("/stats/detail to say the server is back", () -> !Boolean.TRUE.equals(detail(b).get("ejected")));
        assertNull(detail(b).get("ejectedUntil"), "a server not ejected has no end: " + detail(b));
    }

    @Test
    void shouldGiveAtMostLimitEventsNewestFirst() {
        SwitchableBackend b = backend();
        AdminApi.add(b.url());
        long before = lastId();
        b.fail(true);
        awaitEvent(before, "down", b.id());
        b.fail(false);
        awaitEvent(before, "up", b.id());

        List<Map<String, Object>> two = events("/events?limit=2");
        assertEquals(2, two.size(), two.toString());
        List<Long> ids = events("/events?limit=500").stream().map(e -> ((Number) e.get("id")).longValue()).toList();
        assertTrue(ids.size() >= 2 && ids.size() <= 500, ids.toString());
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i - 1) > ids.get(i), "newest first: " + ids);
        }
        assertEquals(ids.subList(0, 2), two.stream().map(e -> ((Number) e.get("id")).longValue()).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"limit=0", "limit=501", "limit=ten", "limit=1.5", "limit=-1"})
    void shouldRefuseABadLimit(String query) {
        assertError(given().get("/events?" + query).then(), 400, "bad_request");
    }

    private SwitchableBackend backend() {
        SwitchableBackend b = new SwitchableBackend();
        backends.add(b);
        return b;
    }

    private static long lastId() {
        List<Map<String, Object>> newest = events("/events?limit=1");
        return newest.isEmpty() ? -1 : ((Number) newest.get(0).get("id")).longValue();
    }

    private static List<Map<String, Object>> events(String path) {
        return given().get(path).then().statusCode(200).contentType("application/json").extract().jsonPath().getList("events");
    }

    /** Waits for an event of {@code kind} about {@code server} recorded after the event {@code after}, and returns it. */
    private static Map<String, Object> awaitEvent(long after, String kind, String server) {
        @SuppressWarnings("unchecked")
        Optional<Map<String, Object>>[] found = new Optional[]{Optional.empty()};
        AdminApi.await("a " + kind + " event of " + server, () -> {
            found[0] = events("/events?limit=500").stream()
                    .filter(e -> ((Number) e.get("id")).longValue() > after && kind.equals(e.get("kind")) && server.equals(e.get("server")))
                    .findFirst();
            return found[0].isPresent();
        });
        return found[0].orElseThrow();
    }

    private static String state(SwitchableBackend b) {
        return given().get("/servers/" + b.id().replace(':', '/')).then().statusCode(200).extract().path("state");
    }

    private static Map<String, Object> detail(SwitchableBackend b) {
        List<Map<String, Object>> all = given().get("/stats/detail").then().statusCode(200).extract().jsonPath().getList("$");
        return all.stream().filter(d -> b.id().equals(d.get("id"))).findFirst().orElseThrow(() -> new AssertionError(b.id() + " in " + all));
    }

    private void proxyGet() {
        try {
            http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
