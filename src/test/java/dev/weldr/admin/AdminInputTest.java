package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Inputs that used to be taken and must be refused with a 400 (a health check that can never
 * pass, intervals that flood backends, unbounded names and prefixes, a malformed flag or peer),
 * and the leader's name on every answer of the admin listener, errors included.
 */
@QuarkusTest
class AdminInputTest {

    private static String leader;

    @BeforeEach
    @AfterEach
    void clean() {
        AdminApi.removeRoutesAndPools();
        leader = given().get("/cluster").then().statusCode(200).extract().jsonPath().getString("leader");
    }

    private static ValidatableResponse send(String method, String path, String json) {
        return given().contentType("application/json").body(json).request(method, path).then();
    }

    private static ValidatableResponse refused(ValidatableResponse response) {
        return assertError(response, 400, "bad_request").header("X-Weldr-Leader", equalTo(leader));
    }

    private static List<Object> state() {
        return List.of(given().get("/pools").then().extract().jsonPath().getList("pools"),
                given().get("/routes").then().extract().jsonPath().getList("routes"));
    }

    @ParameterizedTest(name = "shouldRefuseAHealthCheckPathThatCannotBeSentAsItIs: {0}")
    @ValueSource(strings = {"/health\\r\\nX-Injected: 1", "/health\\n", "/he alth", "/health\\t", "/health\\u0000",
            "/health\\u007f", "/caf\\u00e9", "/health#frag", "health"})
    void shouldRefuseAHealthCheckPathThatCannotBeSentAsItIs(String jsonPath) {
        List<Object> before = state();
        refused(send("POST", "/pools", "{\"name\":\"hc\",\"healthCheck\":{\"path\":\"" + jsonPath + "\"}}"));
        refused(send("PATCH", "/pools/default", "{\"healthCheck\":{\"path\":\"" + jsonPath + "\"}}"));
        assertEquals(before, state());
    }

    @Test
    void shouldRefuseAHealthCheckPathLongerThan1024Characters() {
        String longest = "/" + "a".repeat(1023);
        send("PATCH", "/pools/default", "{\"healthCheck\":{\"path\":\"" + longest + "\"}}").statusCode(200);
        refused(send("PATCH", "/pools/default", "{\"healthCheck\":{\"path\":\"" + longest + "a\"}}"));
        send("PATCH", "/pools/default", "{\"healthCheck\":{\"path\":\"/ready?probe=1&x=%20\"}}").statusCode(200)
                .body("settings.healthCheck.path", equalTo("/ready?probe=1&x=%20"));
        send("PATCH", "/pools/default", "{\"healthCheck\":{\"path\":\"/\"}}").statusCode(200);
    }

    @ParameterizedTest(name = "shouldRefuseAHealthCheckIntervalOrTimeoutBelow100ms: {0}")
    @ValueSource(strings = {"1ms", "99ms", "0.05s", "1ns"})
    void shouldRefuseAHealthCheckIntervalOrTimeoutBelow100ms(String duration) {
        List<Object> before = state();
        refused(send("POST", "/pools", "{\"name\":\"hc\",\"healthCheck\":{\"interval\":\"" + duration + "\"}}"));
        refused(send("PATCH", "/pools/default", "{\"healthCheck\":{\"interval\":\"" + duration + "\"}}"));
        refused(send("PATCH", "/pools/default", "{\"healthCheck\":{\"timeout\":\"" + duration + "\"}}"));
        assertEquals(before, state());
    }

    @Test
    void shouldTakeAHealthCheckIntervalAndTimeoutOf100ms() {
        send("POST", "/pools", "{\"name\":\"hc\",\"healthCheck\":{\"interval\":\"100ms\",\"timeout\":\"100ms\"}}")
                .statusCode(201).body("settings.healthCheck.interval", equalTo("100ms"));
    }

    @Test
    void shouldRefuseARoutePrefixLongerThan1024CharactersOrWithASpace() {
        send("POST", "/pools", "{\"name\":\"api\"}").statusCode(201);
        String longest = "/" + "p".repeat(1023);
        send("PUT", "/routes/long", "{\"pathPrefix\":\"" + longest + "\",\"pool\":\"api\"}").statusCode(200);
        List<Object> before = state();

        refused(send("PUT", "/routes/longer", "{\"pathPrefix\":\"" + longest + "p\",\"pool\":\"api\"}"));
        refused(send("PUT", "/routes/longer", "{\"pathPrefix\":\"/" + "p".repeat(60_000) + "\",\"pool\":\"api\"}"));
        refused(send("PUT", "/routes/space", "{\"pathPrefix\":\"/a b\",\"pool\":\"api\"}"));
        refused(send("PUT", "/routes/crlf", "{\"pathPrefix\":\"/a\\r\\n\",\"pool\":\"api\"}"));
        refused(send("PUT", "/routes/host", "{\"host\":\"" + "h".repeat(254) + "\",\"pool\":\"api\"}"));
        refused(send("PUT", "/routes/" + "n".repeat(64), "{\"pool\":\"api\"}"));

        assertEquals(before, state());
    }

    @Test
    void shouldRefuseAPoolPastTheCapOf1000() throws Exception {
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Integer>> created = new java.util.ArrayList<>();
            for (int i = 1; i < 1000; i++) {
                String body = "{\"name\":\"cap" + i + "\"}";
                created.add(clients.submit(() -> AdminApi.rawPost("/pools", HttpRequest.BodyPublishers.ofString(body),
                        "Content-Type", "application/json").statusCode()));
            }
            for (java.util.concurrent.Future<Integer> f : created) {
                assertEquals(201, f.get());
            }
            assertEquals(1000, given().get("/pools").then().extract().jsonPath().getList("pools").size());

            assertError(send("POST", "/pools", "{\"name\":\"one-more\"}"), 400, "too_many")
                    .header("X-Weldr-Leader", equalTo(leader));
            assertEquals(404, given().get("/pools/one-more").statusCode());
        } finally {
            List<java.util.concurrent.Future<?>> deleted = new java.util.ArrayList<>();
            for (int i = 1; i < 1000; i++) {
                String path = "/pools/cap" + i;
                deleted.add(clients.submit(() -> given().delete(path).statusCode()));
            }
            for (java.util.concurrent.Future<?> f : deleted) {
                f.get();
            }
            clients.shutdownNow();
        }
    }

    @ParameterizedTest(name = "shouldRefuseAConsistentFlagThatIsNeitherTrueNorFalse: {0}")
    @ValueSource(strings = {"/servers?consistent=banana", "/servers?consistent=1",
            "/pools/default/servers?consistent=yes"})
    void shouldRefuseAConsistentFlagThatIsNeitherTrueNorFalse(String path) {
        refused(given().get(path).then());
    }

    @Test
    void shouldTakeConsistentTrueAndFalse() {
        given().get("/servers?consistent=true").then().statusCode(200);
        given().get("/servers?consistent=false").then().statusCode(200);
        given().get("/pools/default/servers?consistent=true").then().statusCode(200);
    }

    @ParameterizedTest(name = "shouldRefuseAPeerThatIsNotHostAndPort: {0}")
    @ValueSource(strings = {"127.0.0.1:1:2:3", "127.0.0.1:1:2", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
            ":8688", "127.0.0.1:x", "a b:1"})
    void shouldRefuseAPeerThatIsNotHostAndPort(String peer) {
        Object members = given().get("/cluster").then().extract().jsonPath().getList("peers");
        refused(send("POST", "/cluster/peers", "{\"peer\":\"" + peer + "\"}"));
        refused(send("POST", "/cluster/leader", "{\"peer\":\"" + peer + "\"}"));
        assertEquals(members, given().get("/cluster").then().extract().jsonPath().getList("peers"));
    }

    @Test
    void shouldRefuseToRemoveAPeerThatIsNotHostAndPort() {
        refused(given().urlEncodingEnabled(false).delete("/cluster/peers/127.0.0.1:1:2/3").then());
    }

    @Test
    void shouldNameTheLeaderOnEveryAnswer() {
        given().get("/").then().statusCode(200).header("X-Weldr-Leader", equalTo(leader));
        given().get("/servers").then().statusCode(200).header("X-Weldr-Leader", equalTo(leader));
        given().get("/q/health/ready").then().statusCode(200).header("X-Weldr-Leader", equalTo(leader));
        given().get("/q/metrics").then().statusCode(200).header("X-Weldr-Leader", equalTo(leader));
        assertError(given().get("/no/such/path").then(), 404, "not_found").header("X-Weldr-Leader", equalTo(leader));
        assertError(given().get("/servers/127.0.0.1/1").then(), 404, "not_found").header("X-Weldr-Leader", equalTo(leader));
        assertError(given().put("/servers").then(), 405, "method_not_allowed").header("X-Weldr-Leader", equalTo(leader));
        assertError(send("POST", "/servers", "{\"url\":\"banana\"}"), 400, "bad_request").header("X-Weldr-Leader", equalTo(leader));
        assertError(send("POST", "/servers", "{"), 400, "bad_json").header("X-Weldr-Leader", equalTo(leader));
        assertError(send("POST", "/servers", "x".repeat(70_000)), 413, "body_too_large").header("X-Weldr-Leader", equalTo(leader));
        HttpResponse<String> chunked = AdminApi.rawPost("/servers",
                HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream("{}".getBytes())),
                "Content-Type", "application/json");
        assertEquals(411, chunked.statusCode());
        assertEquals(leader, chunked.headers().firstValue("X-Weldr-Leader").orElse(null));
    }

    @Test
    void shouldAnswerACallOnANameThatCannotExistAsTheLeaderWould() {
        assertError(given().urlEncodingEnabled(false).delete("/routes/..%2Fpools%2Fapi").then(), 404, "not_found");
        assertError(given().urlEncodingEnabled(false).delete("/routes/api%3Fx").then(), 404, "not_found");
        assertError(given().urlEncodingEnabled(false).delete("/pools/%7Bx%7D").then(), 404, "not_found");
        assertError(given().urlEncodingEnabled(false).delete("/routes/%7Bx%7D").then(), 404, "not_found");
    }
}
