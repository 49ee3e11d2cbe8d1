package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import dev.weldr.proxy.ProxyServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.weldr.admin.AdminApi.add;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.instanceOf;

/**
 * {@code GET /stats} and {@code GET /stats/detail}: their shape, one detail per server of the pool,
 * and that what the proxy does is counted.
 */
@QuarkusTest
class StatsResourceTest {

    @Inject
    ProxyServer proxy;

    private static TestBackend one;
    private static TestBackend two;

    @BeforeAll
    static void startBackends() {
        one = TestBackend.start();
        two = TestBackend.start();
    }

    @AfterAll
    static void stopBackends() {
        if (one != null) {
            one.close();
        }
        if (two != null) {
            two.close();
        }
    }

    @BeforeEach
    void startFromAnEmptyPool() {
        AdminApi.emptyPool();
    }

    @Test
    void shouldGiveClientAndServerCounters() {
        given().get("/stats").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", aMapWithSize(2))
                .body("client.keySet()", containsInAnyOrder("success", "failed"))
                .body("server.keySet()", containsInAnyOrder("success", "failed"))
                .body("client.success", instanceOf(Number.class))
                .body("client.success.toLong()", greaterThanOrEqualTo(0L))
                .body("client.failed.toLong()", greaterThanOrEqualTo(0L))
                .body("server.success.toLong()", greaterThanOrEqualTo(0L))
                .body("server.failed.toLong()", greaterThanOrEqualTo(0L));
    }

    @Test
    void shouldGiveNoDetailForAnEmptyPool() {
        given().get("/stats/detail").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", empty());
    }

    @Test
    void shouldGiveOneDetailPerServerOfThePool() {
        add(one.url());
        add(two.url());

        given().get("/stats/detail").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", hasSize(2))
                .body("id", contains("127.0.0.1:" + one.port(), "127.0.0.1:" + two.port()))
                .body("ip", contains("127.0.0.1", "127.0.0.1"))
                .body("port", contains(one.port(), two.port()))
                .body("pool", contains("default", "default"))
                .body("success", everyItem(instanceOf(Number.class)))
                .body("failed", everyItem(instanceOf(Number.class)))
                .body("findAll { it.success < 0 || it.failed < 0 }", empty())
                .body("collect { it.keySet() }", everyItem(containsInAnyOrder("id", "ip", "port", "pool", "success", "failed")));

        given().delete("/servers/127.0.0.1/" + one.port()).then().statusCode(204);

        given().get("/stats/detail").then()
                .statusCode(200)
                .body("id", contains("127.0.0.1:" + two.port()));
    }

    @Test
    void shouldCountARequestForwardedToAServer() {
        add(one.url());
        add(two.url());
        long clientSuccess = counter("client.success");
        long serverSuccess = counter("server.success");

        given().port(proxy.port()).get("/anything").then().statusCode(200).body(equalTo("ok"));

        // The counters are updated as the response ends, so they may trail the client by a moment.
        AdminApi.await("the forwarded request is counted", () -> counter("client.success") == clientSuccess + 1
                && counter("server.success") == serverSuccess + 1);
        given().get("/stats/detail").then()
                .body("success.sum()", equalTo(1))
                .body("failed.sum()", equalTo(0));
    }

    @Test
    void shouldCountARequestTheProxyAnsweredItselfAsFailed() {
        long clientFailed = counter("client.failed");

        given().port(proxy.port()).get("/").then().statusCode(503);

        AdminApi.await("the refused request is counted", () -> counter("client.failed") == clientFailed + 1);
    }

    private static long counter(String path) {
        return ((Number) given().get("/stats").then().statusCode(200).extract().path(path)).longValue();
    }
}
