package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With {@code weldr.admin.token} set, {@code /servers}, {@code /stats}, {@code /pools},
 * {@code /routes} and {@code /cluster} need
 * {@code Authorization: Bearer <token>}; health, metrics and the root stay open.
 */
@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class AdminTokenTest {

    public static class WithToken implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("weldr.admin.token", TOKEN);
        }
    }

    private static final String TOKEN = "s3cret";
    private static TestBackend backend;
    private static TestBackend other;

    @BeforeAll
    static void startBackends() {
        backend = TestBackend.start();
        other = TestBackend.start();
    }

    @AfterAll
    static void stopBackends() {
        if (backend != null) {
            backend.close();
        }
        if (other != null) {
            other.close();
        }
    }

    @BeforeEach
    void startFromAPoolOfOneServer() {
        asAdmin(() -> {
            AdminApi.emptyPool();
            AdminApi.add(backend.url());
            return null;
        });
    }

    @AfterEach
    void forgetTheToken() {
        RestAssured.requestSpecification = null;
    }

    /** Runs {@link AdminApi} helpers with the token; the tests themselves choose their own header. */
    private static <T> T asAdmin(Supplier<T> helper) {
        RestAssured.requestSpecification = given().auth().oauth2(TOKEN);
        try {
            return helper.get();
        } finally {
            RestAssured.requestSpecification = null;
        }
    }

    private static List<Map<String, Object>> pool() {
        return asAdmin(AdminApi::pool);
    }

    private static RequestSpecification withToken() {
        return given().header("Authorization", "Bearer " + TOKEN);
    }

    @ParameterizedTest(name = "shouldRefuseACallWithoutToken: GET {0}")
    @ValueSource(strings = {"/servers", "/stats", "/stats/detail", "/servers/127.0.0.1/8000",
            "/pools", "/pools/default", "/pools/default/servers", "/routes", "/routes/any", "/cluster", "/events",
            "/audit", "/certificates", "/tokens/self", "/a-resource-added-later"})
    void shouldRefuseACallWithoutToken(String path) {
        assertError(given().get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"))
                .header("X-Weldr-Leader", not(emptyOrNullString()));
    }

    @Test
    void shouldRefuseEveryChangeOfPoolsRoutesAndClusterWithoutToken() {
        List<Map<String, Object>> before = pool();
        assertError(given().contentType("application/json").body("{\"name\":\"api\"}").post("/pools").then(), 401, "unauthorized");
        assertError(given().contentType("application/json").body("{\"limits\":{\"retries\":2}}").patch("/pools/default").then(),
                401, "unauthorized");
        assertError(given().delete("/pools/default").then(), 401, "unauthorized");
        assertError(given().contentType("application/json").body(json(other.url())).post("/pools/default/servers").then(),
                401, "unauthorized");
        assertError(given().contentType("application/json").body("{\"pool\":\"default\"}").put("/routes/all").then(),
                401, "unauthorized");
        assertError(given().delete("/routes/all").then(), 401, "unauthorized");
        assertError(given().contentType("application/json").body("{\"peer\":\"127.0.0.1:1\"}").post("/cluster/peers").then(),
                401, "unauthorized");
        assertError(given().contentType("application/json").body("{\"peer\":\"127.0.0.1:1\"}").post("/cluster/leader").then(),
                401, "unauthorized");
        assertError(given().delete("/cluster/peers/127.0.0.1/1").then(), 401, "unauthorized");

        assertEquals(before, pool());
        withToken().get("/pools").then().statusCode(200).body("pools.name", contains("default"))
                .body("pools[0].settings.limits.retries", equalTo(1));
        withToken().get("/routes").then().statusCode(200).body("routes", org.hamcrest.Matchers.empty());
    }

    @Test
    void shouldAnswerABrowserAtAnyNameWhenTheNodeNeedsAToken() {
        // The token is what a rebound page cannot have; the name guard is for nodes without one.
        String name = "weldr.example:" + RestAssured.port;
        withToken().header("Host", name).header("Origin", "http://" + name).header("Sec-Fetch-Site", "same-origin")
                .get("/servers").then().statusCode(200);
        // A write from another site's page stays refused, token or not.
        assertError(withToken().header("Origin", "http://evil.example").header("Sec-Fetch-Site", "cross-site")
                .contentType("application/json").body(json(other.url())).post("/servers").then(), 403, "cross_site");
    }

    @ParameterizedTest(name = "shouldRefuseACallWithAWrongToken: GET {0}")
    @ValueSource(strings = {"/servers", "/stats", "/stats/detail"})
    void shouldRefuseACallWithAWrongToken(String path) {
        assertError(given().header("Authorization", "Bearer wrong").get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
        assertError(given().header("Authorization", "Bearer s3cret-and-more").get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
        assertError(given().header("Authorization", "Bearer ").get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
        assertError(given().header("Authorization", "Basic czNjcmV0OnMzY3JldA==").get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
        // The token alone, without the Bearer scheme, is not enough either.
        assertError(given().header("Authorization", TOKEN).get(path).then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
    }

    @ParameterizedTest(name = "shouldAnswerACallWithTheToken: GET {0}")
    @ValueSource(strings = {"/servers", "/stats", "/stats/detail", "/pools", "/pools/default", "/pools/default/servers",
            "/routes", "/cluster"})
    void shouldAnswerACallWithTheToken(String path) {
        withToken().get(path).then().statusCode(200);
    }

    @Test
    void shouldChangeThePoolWithTheToken() {
        withToken().contentType("application/json").body(json(other.url())).post("/servers").then()
                .statusCode(201);
        withToken().delete("/servers/127.0.0.1/" + backend.port()).then()
                .statusCode(204);

        withToken().get("/servers").then().body("servers.url", contains(other.url()));
    }

    @Test
    void shouldLeaveThePoolUnchangedWhenAPostHasAWrongToken() {
        List<Map<String, Object>> before = pool();

        assertError(given().header("Authorization", "Bearer wrong").contentType("application/json")
                .body(json(other.url())).post("/servers").then(), 401, "unauthorized")
                .header("WWW-Authenticate", startsWith("Bearer"));
        assertError(given().contentType("application/json").body(json(other.url())).post("/servers").then(),
                401, "unauthorized");

        assertEquals(before, pool());
    }

    @Test
    void shouldLeaveThePoolUnchangedWhenADeleteHasNoToken() {
        List<Map<String, Object>> before = pool();

        assertError(given().delete("/servers/127.0.0.1/" + backend.port()).then(), 401, "unauthorized");

        assertEquals(before, pool());
    }

    @Test
    void shouldNotBeBypassedByAnUnusualSpellingOfThePath() {
        List<Map<String, Object>> before = pool();

        for (String path : List.of("//servers", "/./servers", "/stats/../servers", "/%73ervers", "/servers/", "/servers;x=1")) {
            int status = given().urlEncodingEnabled(false).get(path).statusCode();
            assertTrue(status == 401 || status == 404 || status == 400,
                    "GET " + path + " without a token must not be answered, got " + status);
        }
        int status = given().urlEncodingEnabled(false).contentType("application/json").body(json(other.url()))
                .post("//servers").statusCode();
        assertTrue(status == 401 || status == 404 || status == 400, "POST //servers without a token got " + status);

        assertEquals(before, pool());
    }

    @Test
    void shouldKeepHealthMetricsAndTheRootOpen() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/metrics").then().statusCode(200);
        given().get("/").then().statusCode(200);
    }
}
