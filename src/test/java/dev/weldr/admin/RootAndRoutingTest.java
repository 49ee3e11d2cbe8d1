package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static dev.weldr.admin.AdminApi.pool;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /}, and the JSON answers to unknown paths (404) and wrong methods (405). */
@QuarkusTest
class RootAndRoutingTest {

    @BeforeEach
    void startFromAnEmptyPool() {
        AdminApi.emptyPool();
    }

    @Test
    void shouldDescribeTheApiWithLinksAtTheRoot() {
        given().get("/").then()
                .statusCode(200)
                .contentType("application/json")
                .body("about", not(emptyOrNullString()))
                .body("links", not(empty()))
                .body("links", everyItem(hasKey("rel")))
                .body("links", everyItem(hasKey("href")))
                .body("links", everyItem(hasKey("method")))
                .body("links.rel", everyItem(notNullValue()))
                .body("links.href", everyItem(notNullValue()))
                .body("links.method", everyItem(notNullValue()))
                .body("links.href", hasItems("/servers", "/stats", "/stats/detail", "/events"))
                .body("links.findAll { it.href == '/servers' }.method", containsInAnyOrder("GET", "POST"));
    }

    @Test
    void shouldFollowEveryGetLinkOfTheRootToA200() {
        List<String> hrefs = given().get("/").then().extract().jsonPath().getList("links.findAll { it.method == 'GET' }.href");
        for (String href : hrefs) {
            given().get(href).then().statusCode(200);
        }
    }

    @Test
    void shouldAnswerAnUnknownPathWithA404Json() {
        assertError(given().get("/nope").then(), 404, "not_found");
        assertError(given().get("/servers/a/b/c").then(), 404, "not_found");
        assertError(given().get("/stats/nope").then(), 404, "not_found");
        assertError(given().contentType("application/json").body(json("http://127.0.0.1:8000")).post("/nope").then(),
                404, "not_found");
    }

    @Test
    void shouldAnswerAWrongMethodWithA405Json() {
        List<Map<String, Object>> before = pool();

        assertError(given().contentType("application/json").body(json("http://127.0.0.1:8000")).put("/servers").then(),
                405, "method_not_allowed");
        assertError(given().delete("/servers").then(), 405, "method_not_allowed");
        assertError(given().post("/stats").then(), 405, "method_not_allowed");
        assertError(given().contentType("application/json").body(json("http://127.0.0.1:8000")).put("/servers/127.0.0.1/8000").then(),
                405, "method_not_allowed");

        assertEquals(before, pool());
    }

    @Test
    void shouldListTheMethodsAPathAnswersInTheAllowHeaderOfA405() {
        // RFC 9110 §15.5.6: a 405 carries Allow, the methods the target resource does answer.
        assertAllow(given().delete("/servers").then(), "GET", "HEAD", "POST", "OPTIONS");
        assertAllow(given().post("/stats").then(), "GET", "HEAD", "OPTIONS");
        assertAllow(given().post("/stats/detail").then(), "GET", "HEAD", "OPTIONS");
        assertAllow(given().put("/servers/127.0.0.1/8000").then(), "GET", "HEAD", "PATCH", "DELETE", "OPTIONS");
        assertAllow(given().post("/pools/web/servers/127.0.0.1/8000").then(), "GET", "HEAD", "PATCH", "DELETE", "OPTIONS");
        assertAllow(given().put("/pools/web/servers").then(), "GET", "HEAD", "POST", "OPTIONS");
        assertAllow(given().post("/routes/r1").then(), "GET", "HEAD", "PUT", "DELETE", "OPTIONS");
        assertAllow(given().delete("/cluster").then(), "GET", "HEAD", "OPTIONS");
        assertAllow(given().get("/cluster/peers").then(), "POST", "OPTIONS");
        assertAllow(given().delete("/").then(), "GET", "HEAD", "OPTIONS");
    }

    @Test
    void shouldSayWhenTheNodeLastSawTheLeaderChangeAndThatItHasNoVirtualIp() {
        AdminApi.awaitReady();
        io.restassured.path.json.JsonPath cluster = given().get("/cluster").then().statusCode(200)
                .body("$", hasKey("vip")).body("vip", org.hamcrest.Matchers.nullValue())
                .extract().jsonPath();
        java.time.Instant since = java.time.Instant.parse(cluster.getString("leaderSince"));
        // The single node elected itself after it started, and before now.
        java.time.Instant started = java.time.Instant.now().minus(java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(),
                java.time.temporal.ChronoUnit.MILLIS);
        assertTrue(!since.isBefore(started) && !since.isAfter(java.time.Instant.now()), "leaderSince " + since);
    }

    private static void assertAllow(io.restassured.response.ValidatableResponse r, String... methods) {
        r.statusCode(405).contentType("application/json");
        String allow = r.extract().header("Allow");
        assertEquals(java.util.Set.of(methods), java.util.Set.of(allow.split("\\s*,\\s*")), "Allow: " + allow);
    }
}
