package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy's Prometheus metrics on {@code /q/metrics}. */
@QuarkusTest
class MetricsTest extends ProxyTestBase {

    static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** The value of one sample, the line that starts with {@code name{labels} }; 0 when absent. */
    static double sample(String metrics, String nameAndLabels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(nameAndLabels) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    static boolean present(String metrics, String nameAndLabels) {
        return Pattern.compile("^" + Pattern.quote(nameAndLabels) + " ", Pattern.MULTILINE).matcher(metrics).find();
    }

    @Test
    void shouldCountRequestsByServerAndStatusCode() throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) ->
                response.setStatusCode(seen.uri().startsWith("/missing") ? 404 : 200).end()));
        addServer(backend.port());
        String ok = "weldr_requests_total{code=\"200\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}";
        String missing = "weldr_requests_total{code=\"404\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}";
        String before = metrics();
        RawHttp client = connect();

        for (int i = 0; i < 3; i++) {
            assertEquals(200, client.get("/found/" + i).status());
        }
        assertEquals(404, client.get("/missing").status());

        await(ok + " counts 3 and " + missing + " 1", () -> {
            String now = metrics();
            return sample(now, ok) - sample(before, ok) >= 3 && sample(now, missing) - sample(before, missing) >= 1;
        });
        String after = metrics();
        assertEquals(3.0, sample(after, ok) - sample(before, ok));
        assertEquals(1.0, sample(after, missing) - sample(before, missing));
    }

    @Test
    void shouldCountARequestWhoseClientLeftBeforeItsAnswerAs499() throws Exception {
        java.util.concurrent.CompletableFuture<Void> release = new java.util.concurrent.CompletableFuture<>();
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                release.thenRun(() -> backendVertx.runOnContext(v -> response.end("late")))));
        addServer(slow.port());
        String gone = "weldr_requests_total{code=\"499\",protocol=\"HTTP/1.1\",server=\"" + slow.id() + "\"}";
        io.restassured.path.json.JsonPath statsBefore = given().get("/stats").then().statusCode(200).extract().jsonPath();
        try {
            RawHttp client = connect();
            client.sendHead("GET /slow HTTP/1.1", "Host: weldr.test");
            await("the request to reach the backend", () -> slow.requestCount() == 1);
            client.close();

            await(gone + " to count 1", () -> sample(metrics(), gone) == 1);
            io.restassured.path.json.JsonPath stats = given().get("/stats").then().statusCode(200).extract().jsonPath();
            assertEquals(statsBefore.getLong("client.success"), stats.getLong("client.success"), "not a success");
            assertEquals(statsBefore.getLong("client.failed"), stats.getLong("client.failed"), "nor a failure of weldr's");
        } finally {
            release.complete(null);
        }
        // A request answered whole is not counted as left, even when its client closes right after.
        TestBackend quick = backend();
        addServer(quick.port());
        // Drained rather than removed: a removed server's series are dropped.
        given().contentType("application/json").body("{\"draining\":true}")
                .patch("/servers/127.0.0.1/" + slow.port()).then().statusCode(200);
        try (RawHttp client = connect()) {
            assertEquals(200, client.get("/quick").status());
        }
        String quickOk = "weldr_requests_total{code=\"200\",protocol=\"HTTP/1.1\",server=\"" + quick.id() + "\"}";
        await(quickOk + " to count 1", () -> sample(metrics(), quickOk) == 1);
        assertEquals(0.0, sample(metrics(), "weldr_requests_total{code=\"499\",protocol=\"HTTP/1.1\",server=\"" + quick.id() + "\"}"));
        assertEquals(1.0, sample(metrics(), gone));
    }

    @Test
    void shouldRecordTheDurationOfEveryRequest() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        String count = "weldr_request_duration_seconds_count";
        double before = sample(metrics(), count);
        RawHttp client = connect();

        for (int i = 0; i < 4; i++) {
            assertEquals(200, client.get("/timed/" + i).status());
        }

        await(count + " grew by 4", () -> sample(metrics(), count) - before >= 4);
        String after = metrics();
        assertEquals(4.0, sample(after, count) - before);
        assertTrue(present(after, "weldr_request_duration_seconds_sum"), "no duration sum");
    }

    @Test
    void shouldShowWhetherEachServerIsUp() throws Exception {
        TestBackend up = backend();
        TestBackend failing = backend(TestBackend.options().healthStatus(500));
        addServer(up.port());
        addServer(failing.port());
        awaitState(failing.port(), "down");
        String upSample = "weldr_server_up{pool=\"default\",server=\"" + up.id() + "\"}";
        String downSample = "weldr_server_up{pool=\"default\",server=\"" + failing.id() + "\"}";

        // The gauges follow the pool within about a second.
        await(upSample + " is 1 and " + downSample + " is 0", () -> {
            String now = metrics();
            return present(now, upSample) && sample(now, upSample) == 1.0
                    && present(now, downSample) && sample(now, downSample) == 0.0;
        });
    }

    @Test
    void shouldRemoveAServersSeriesOnceItHasLeftEveryPool() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        given().contentType("application/json").body("{\"name\":\"metrics\"}").post("/pools").then().statusCode(201);
        try {
            given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + backend.port() + "\"}")
                    .post("/pools/metrics/servers").then().statusCode(201);
            try (RawHttp client = connect()) {
                assertEquals(200, client.get("/counted").status());
            }
            String requests = "weldr_requests_total{code=\"200\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}";
            String upInDefault = "weldr_server_up{pool=\"default\",server=\"" + backend.id() + "\"}";
            String upInMetrics = "weldr_server_up{pool=\"metrics\",server=\"" + backend.id() + "\"}";
            await("the server's series to appear", () -> {
                String now = metrics();
                return present(now, requests) && present(now, upInDefault) && present(now, upInMetrics);
            });

            removeServer(backend.port());
            await(upInDefault + " to go", () -> !present(metrics(), upInDefault));
            String stillInAPool = metrics();
            assertTrue(present(stillInAPool, requests), "the server is still in pool metrics: its requests stay");
            assertTrue(present(stillInAPool, upInMetrics));

            given().delete("/pools/metrics/servers/127.0.0.1/" + backend.port()).then().statusCode(204);
            await("every series of " + backend.id() + " to go", () -> !metrics().contains("server=\"" + backend.id() + "\""));
        } finally {
            removeRoutesAndExtraPools();
        }
    }

    @Test
    void shouldLabelCodesOutsideTheStandardOnesByTheirClass() throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) ->
                response.setStatusCode(Integer.parseInt(seen.uri().substring(1))).end()));
        addServer(backend.port());
        RawHttp client = connect();
        for (int code : new int[] {209, 277, 299, 404}) {
            assertEquals(code, client.get("/" + code).status());
        }

        String byClass = "weldr_requests_total{code=\"2xx\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}";
        String notFound = "weldr_requests_total{code=\"404\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}";
        await(byClass + " to count 3", () -> sample(metrics(), byClass) == 3);
        String now = metrics();
        assertEquals(1.0, sample(now, notFound), "a standard code keeps its own label");
        for (String code : new String[] {"209", "277", "299"}) {
            assertFalse(present(now, "weldr_requests_total{code=\"" + code + "\",protocol=\"HTTP/1.1\",server=\"" + backend.id() + "\"}"), code);
        }
    }

    @Test
    void shouldKeepTheCodeLabelToAFixedSet() {
        java.util.Set<String> labels = new java.util.HashSet<>();
        for (int status = -1; status <= 1000; status++) {
            labels.add(ProxyStats.codeLabel(status));
        }
        assertEquals(69, labels.size(), labels.toString());
        assertEquals("499", ProxyStats.codeLabel(499));
        assertEquals("5xx", ProxyStats.codeLabel(599));
        assertEquals("other", ProxyStats.codeLabel(600));
    }
}
