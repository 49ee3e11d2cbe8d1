package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** /pools, /pools/{name}/servers, /routes and PATCH of a server: every call and every refusal. */
@QuarkusTest
class PoolsAndRoutesApiTest {

    @BeforeEach
    @AfterEach
    void clean() {
        AdminApi.removeRoutesAndPools();
        AdminApi.emptyPool();
    }

    private static ValidatableResponse post(String path, String json) {
        return given().contentType("application/json").body(json).post(path).then();
    }

    private static ValidatableResponse patch(String path, String json) {
        return given().contentType("application/json").body(json).patch(path).then();
    }

    private static ValidatableResponse put(String path, String json) {
        return given().contentType("application/json").body(json).put(path).then();
    }

    /**
     * Everything the API shows of pools, routes and servers, to check that a refusal changed
     * nothing; a server's state is left out: it is this node's health view, not desired state.
     */
    private static List<Object> state() {
        List<Map<String, Object>> servers = given().get("/servers").then().extract().jsonPath().getList("servers");
        servers.forEach(s -> s.remove("state"));
        return List.of(given().get("/pools").then().extract().jsonPath().getList("pools"),
                given().get("/routes").then().extract().jsonPath().getList("routes"), servers);
    }

    private static void refused(ValidatableResponse response, int status, String code, List<Object> before) {
        assertError(response, status, code);
        assertEquals(before, state(), "nothing may change");
    }

    @Test
    void shouldListTheDefaultPoolWithItsSettings() {
        given().get("/pools").then().statusCode(200)
                .body("pools.name", contains("default"))
                .body("pools[0].settings.policy", equalTo("round-robin"))
                .body("pools[0].settings.healthCheck.interval", nullValue())
                .body("pools[0].settings.outlier.consecutiveFailures", equalTo(5))
                .body("pools[0].settings.limits.retries", equalTo(1));
    }

    @Test
    void shouldListEveryPoolWithItsServersInOneCallWhenAsked() {
        // No health check for an hour: the servers' state stays as it is between the two reads.
        post("/pools", "{\"name\":\"api\",\"healthCheck\":{\"interval\":\"1h\"}}").statusCode(201);
        post("/pools/api/servers", "{\"url\":\"http://127.0.0.1:9301\",\"weight\":4}").statusCode(201);
        post("/pools/api/servers", "{\"url\":\"http://127.0.0.1:9302\",\"draining\":true}").statusCode(201);
        post("/servers", "{\"url\":\"http://127.0.0.1:9303\"}").statusCode(201);

        Map<String, Object> api = given().get("/pools/api/servers").then().statusCode(200).extract().jsonPath().getMap("");
        given().get("/pools?expand=servers").then().statusCode(200)
                .body("pools.name", hasItems("api", "default"))
                .body("pools.find { it.name == 'api' }.servers", equalTo(2))
                .body("pools.find { it.name == 'api' }.serverList", equalTo(api.get("servers")))
                .body("pools.find { it.name == 'default' }.serverList.url", contains("http://127.0.0.1:9303"))
                .body("pools.find { it.name == 'default' }.serverList[0].links.find { it.rel == 'self' }.href",
                        equalTo("/pools/default/servers/127.0.0.1/9303"));
        // Without it, the list stays as it was: no servers' list.
        given().get("/pools").then().statusCode(200)
                .body("pools.find { it.name == 'api' }", not(hasKey("serverList")));
        assertError(given().get("/pools?expand=routes").then(), 400, "bad_request");
    }

    @Test
    void shouldCreateChangeAndDeleteAPool() {
        post("/pools", "{\"name\":\"api\",\"policy\":\"consistent-hash\",\"hashOn\":\"header:X-User\","
                + "\"healthCheck\":{\"interval\":\"5s\",\"path\":\"/health\",\"expectedStatus\":\"200-399\"},"
                + "\"limits\":{\"maxRequests\":100}}")
                .statusCode(201).header("Location", "/pools/api")
                .body("settings.policy", equalTo("consistent-hash"))
                .body("settings.hashOn", equalTo("header:X-User"))
                .body("settings.healthCheck.interval", equalTo("5000ms"))
                .body("settings.healthCheck.expectedStatus", equalTo("200-399"))
                .body("settings.limits.maxRequests", equalTo(100));
        patch("/pools/api", "{\"policy\":\"least-requests\"}").statusCode(200)
                .body("settings.policy", equalTo("least-requests"))
                .body("settings.healthCheck.path", equalTo("/health"));
        post("/pools/api/servers", "{\"url\":\"http://127.0.0.1:9\",\"weight\":3}").statusCode(201)
                .header("Location", "/pools/api/servers/127.0.0.1/9").body("weight", equalTo(3));
        given().get("/pools/api/servers").then().statusCode(200).body("servers.id", contains("127.0.0.1:9"));
        given().get("/servers").then().body("servers.id", org.hamcrest.Matchers.empty());
        given().delete("/pools/api").then().statusCode(204);
        assertError(given().get("/pools/api").then(), 404, "not_found");
    }

    @Test
    void shouldChangeAServersWeightAndDrainIt() {
        post("/servers", "{\"url\":\"http://127.0.0.1:9\"}").statusCode(201).body("weight", equalTo(1));
        patch("/servers/127.0.0.1/9", "{\"weight\":4}").statusCode(200).body("weight", equalTo(4)).body("draining", equalTo(false));
        patch("/servers/127.0.0.1/9", "{\"draining\":true}").statusCode(200).body("weight", equalTo(4))
                .body("draining", equalTo(true)).body("state", equalTo("draining"));
        given().get("/servers/127.0.0.1/9").then().body("state", equalTo("draining"));
        assertError(patch("/servers/127.0.0.1/10", "{\"weight\":2}"), 404, "not_found");
    }

    @ParameterizedTest(name = "shouldRefuseAWeightOf {0}")
    @ValueSource(strings = {"-1", "0", "1000000000", "1.5", "\"3\"", "true", "1001"})
    void shouldRefuseABadWeight(String weight) {
        post("/servers", "{\"url\":\"http://127.0.0.1:9\"}").statusCode(201);
        List<Object> before = state();
        refused(patch("/servers/127.0.0.1/9", "{\"weight\":" + weight + "}"), 400, "bad_request", before);
        refused(post("/servers", "{\"url\":\"http://127.0.0.1:10\",\"weight\":" + weight + "}"), 400, "bad_request", before);
    }

    @Test
    void shouldRefuseAnEmptyOrUnknownPatch() {
        post("/servers", "{\"url\":\"http://127.0.0.1:9\"}").statusCode(201);
        List<Object> before = state();
        refused(patch("/servers/127.0.0.1/9", "{}"), 400, "bad_request", before);
        refused(patch("/servers/127.0.0.1/9", "{\"url\":\"http://127.0.0.1:10\"}"), 400, "bad_request", before);
        refused(patch("/servers/127.0.0.1/9", "{\"draining\":\"yes\"}"), 400, "bad_request", before);
    }

    @ParameterizedTest(name = "shouldRefuseABadPool: {0}")
    @ValueSource(strings = {
            "{\"name\":\"api\",\"policy\":\"fastest\"}",
            "{\"name\":\"api\",\"policy\":\"consistent-hash\"}",
            "{\"name\":\"api\",\"policy\":\"consistent-hash\",\"hashOn\":\"header\"}",
            "{\"name\":\"api\",\"policy\":\"consistent-hash\",\"hashOn\":\"header:\"}",
            "{\"name\":\"api\",\"policy\":\"consistent-hash\",\"hashOn\":\"cookie:\"}",
            "{\"name\":\"api\",\"policy\":\"consistent-hash\",\"hashOn\":\"body:x\"}",
            "{\"name\":\"api\",\"policy\":\"round-robin\",\"hashOn\":\"client-address\"}",
            "{\"name\":\"Bad Name\"}",
            "{\"name\":\"\"}",
            "{\"policy\":\"round-robin\"}",
            "{\"name\":\"api\",\"healthCheck\":{\"interval\":\"banana\"}}",
            "{\"name\":\"api\",\"healthCheck\":{\"interval\":\"0s\"}}",
            "{\"name\":\"api\",\"healthCheck\":{\"path\":\"health\"}}",
            "{\"name\":\"api\",\"healthCheck\":{\"expectedStatus\":\"300-200\"}}",
            "{\"name\":\"api\",\"healthCheck\":{\"failures\":0}}",
            "{\"name\":\"api\",\"healthCheck\":{\"colour\":1}}",
            "{\"name\":\"api\",\"outlier\":{\"maxEjectionPercent\":101}}",
            "{\"name\":\"api\",\"outlier\":{\"baseEjection\":\"60s\",\"maxEjection\":\"1s\"}}",
            "{\"name\":\"api\",\"limits\":{\"retries\":-1}}",
            "{\"name\":\"api\",\"limits\":5}",
            "{\"name\":\"api\",\"colour\":\"blue\"}"})
    void shouldRefuseABadPool(String json) {
        List<Object> before = state();
        refused(post("/pools", json), 400, "bad_request", before);
    }

    @Test
    void shouldRefuseADuplicatePoolAndDeletingTheDefaultOrARoutedPool() {
        post("/pools", "{\"name\":\"api\"}").statusCode(201);
        put("/routes/api", "{\"pathPrefix\":\"/api\",\"pool\":\"api\"}").statusCode(200);
        List<Object> before = state();
        refused(post("/pools", "{\"name\":\"api\"}"), 409, "conflict", before);
        refused(given().delete("/pools/default").then(), 409, "in_use", before);
        refused(given().delete("/pools/api").then(), 409, "in_use", before);
        refused(given().delete("/pools/nope").then(), 404, "not_found", before);
        refused(patch("/pools/nope", "{\"policy\":\"least-requests\"}"), 404, "not_found", before);
        refused(post("/pools/nope/servers", "{\"url\":\"http://127.0.0.1:9\"}"), 404, "not_found", before);
    }

    @Test
    void shouldCreateReplaceAndDeleteARoute() {
        post("/pools", "{\"name\":\"api\"}").statusCode(201);
        put("/routes/r", "{\"host\":\"Shop.Example\",\"pathPrefix\":\"/v1\",\"pool\":\"api\"}").statusCode(200)
                .body("host", equalTo("shop.example")).body("pathPrefix", equalTo("/v1")).body("pool", equalTo("api"));
        put("/routes/r", "{\"pathPrefix\":\"/v2\",\"pool\":\"default\"}").statusCode(200);
        given().get("/routes").then().body("routes.name", contains("r")).body("routes[0].pathPrefix", equalTo("/v2"))
                .body("routes[0].host", equalTo(""));
        given().get("/routes/r").then().statusCode(200).body("pool", equalTo("default"));
        given().delete("/routes/r").then().statusCode(204);
        assertError(given().delete("/routes/r").then(), 404, "not_found");
    }

    @ParameterizedTest(name = "shouldRefuseABadRoute: {0}")
    @ValueSource(strings = {"{\"pathPrefix\":\"/x\",\"pool\":\"ghost\"}", "{\"pathPrefix\":\"x\",\"pool\":\"default\"}",
            "{\"pathPrefix\":\"/x\"}", "{\"host\":\"a b\",\"pool\":\"default\"}", "{\"host\":\"a:80\",\"pool\":\"default\"}",
            "{\"pool\":\"default\",\"weight\":1}", "[]"})
    void shouldRefuseABadRoute(String json) {
        List<Object> before = state();
        ValidatableResponse r = put("/routes/r", json);
        refused(r, 400, json.contains("ghost") ? "no_such_pool" : "bad_request", before);
    }

    @Test
    void shouldListEveryResourceFromTheRoot() {
        given().get("/").then().body("links.href", hasItem("/pools")).body("links.href", hasItem("/routes"));
        Map<String, Object> openapi = given().get("/q/openapi?format=json").then().statusCode(200).extract().jsonPath().getMap("paths");
        for (String path : List.of("/pools", "/pools/{name}", "/pools/{name}/servers", "/routes", "/routes/{name}")) {
            org.junit.jupiter.api.Assertions.assertTrue(openapi.containsKey(path), path + " in " + openapi.keySet());
        }
    }
}
