package dev.weldr.admin;

import dev.weldr.tls.TestCertificates;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /audit on one node: changes made through the API, newest first, with the token's name and the node; paging; bad parameters. */
@QuarkusTest
class AuditApiTest {

    private static String self;

    @BeforeEach
    void ready() {
        AdminApi.removeRoutesAndPools();
        AdminApi.emptyPool();
        self = given().get("/cluster").then().statusCode(200).extract().path("self");
    }

    /** The entries newer than {@code after}, newest first (the app, and so its audit log, is shared by the tests). */
    private static List<Map<String, Object>> since(long after) {
        List<Map<String, Object>> entries = given().get("/audit?limit=500").then().statusCode(200)
                .extract().jsonPath().getList("entries");
        return entries.stream().filter(e -> ((Number) e.get("id")).longValue() > after).toList();
    }

    private static long newest() {
        List<Map<String, Object>> entries = given().get("/audit?limit=1").then().statusCode(200).extract().jsonPath().getList("entries");
        return entries.isEmpty() ? 0 : ((Number) entries.get(0).get("id")).longValue();
    }

    private static void send(String method, String path, String json, int status) {
        var request = given().contentType("application/json");
        if (json != null) {
            request.body(json);
        }
        request.request(method, path).then().statusCode(status);
    }

    @Test
    void shouldListEveryChangeNewestFirstWithTheTokenNameAndTheNode() {
        long before = newest();
        Instant start = Instant.now().minusSeconds(1);
        send("POST", "/pools", "{\"name\":\"audited\"}", 201);
        send("PATCH", "/pools/audited", "{\"policy\":\"least-requests\"}", 200);
        send("POST", "/pools/audited/servers", "{\"url\":\"http://127.0.0.1:9001\"}", 201);
        send("PATCH", "/pools/audited/servers/127.0.0.1/9001", "{\"weight\":4}", 200);
        send("PUT", "/routes/audited", "{\"pathPrefix\":\"/a\",\"pool\":\"audited\"}", 200);
        send("DELETE", "/routes/audited", null, 204);
        send("DELETE", "/pools/audited/servers/127.0.0.1/9001", null, 204);
        send("DELETE", "/pools/audited", null, 204);
        // Refused: nothing changed, nothing recorded.
        send("DELETE", "/routes/audited", null, 404);
        send("POST", "/servers", "{\"url\":\"http://127.0.0.1:9002\"}", 201);
        send("POST", "/servers", "{\"url\":\"http://127.0.0.1:9002\"}", 409);

        List<Map<String, Object>> entries = since(before);
        assertEquals(List.of("add-server", "delete-pool", "remove-server", "delete-route", "put-route", "update-server",
                "add-server", "update-pool", "create-pool"), entries.stream().map(e -> e.get("action")).toList(), entries.toString());
        List<Long> ids = entries.stream().map(e -> ((Number) e.get("id")).longValue()).toList();
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i - 1) > ids.get(i), "newest first, ids decreasing: " + ids);
        }
        for (Map<String, Object> e : entries) {
            assertEquals(Caller.ANONYMOUS, e.get("token"), "no token is required here: " + e);
            assertEquals(self, e.get("node"), e.toString());
            Instant time = Instant.parse((String) e.get("time"));
            assertTrue(!time.isBefore(start) && time.isBefore(Instant.now().plusSeconds(1)), e.toString());
            assertTrue(((String) e.get("time")).endsWith("Z"), "UTC: " + e);
        }
        assertEquals("default/127.0.0.1:9002", entries.get(0).get("target"));
        assertEquals("added http://127.0.0.1:9002 to pool default (weight 1)", entries.get(0).get("summary"));
        assertEquals("set weight 4 on 127.0.0.1:9001 in pool audited", entries.get(5).get("summary"));
        assertEquals("route audited: host any, path prefix /a to pool audited", entries.get(4).get("summary"));
    }

    @Test
    void shouldNameTheForwardingFollowerOnlyWhenItIsAMember() {
        long before = newest();
        given().header("X-Weldr-Forwarded-By", "10.9.9.9:8688").contentType("application/json")
                .body("{\"url\":\"http://127.0.0.1:9003\"}").post("/servers").then().statusCode(201);
        List<Map<String, Object>> entries = since(before);
        assertEquals(1, entries.size(), entries.toString());
        assertEquals(self, entries.get(0).get("node"), "a node that is not a member is not named");
    }

    @Test
    void shouldRecordACertificateByNameNamesAndExpiryNeverItsKey() {
        long before = newest();
        TestCertificates.Issued leaf = TestCertificates.leaf(TestCertificates.ca("root"), "audit.example");
        String key = TestCertificates.pem(leaf.keys().getPrivate());
        send("PUT", "/certificates/audited", TestCertificates.body(leaf), 200);
        send("DELETE", "/certificates/audited", null, 204);

        String body = given().get("/audit").then().statusCode(200).extract().asString();
        assertFalse(body.contains("PRIVATE KEY"), body);
        assertFalse(body.contains(key.substring(key.length() / 2, key.length() / 2 + 32)), body);
        List<Map<String, Object>> entries = since(before);
        assertEquals(List.of("delete-certificate", "put-certificate"), entries.stream().map(e -> e.get("action")).toList());
        String summary = (String) entries.get(1).get("summary");
        assertTrue(summary.startsWith("uploaded certificate audited for audit.example, valid until "
                + leaf.certificate().getNotAfter().toInstant()), summary);
    }

    @Test
    void shouldPageOlderEntriesWithTheNextLink() {
        for (int i = 0; i < 5; i++) {
            send("PUT", "/routes/page" + i, "{\"pathPrefix\":\"/p" + i + "\",\"pool\":\"default\"}", 200);
        }
        List<Long> all = pages(500);
        assertTrue(all.size() >= 5, all.toString());
        List<Long> paged = pages(7);
        assertEquals(all, paged, "pages of 7, one after the other, are the whole log newest first, as pages of 500 are");
        assertEquals(all.stream().sorted(java.util.Comparator.reverseOrder()).distinct().toList(), all, "newest first, each once");

        long third = all.get(2);
        List<Long> older = given().get("/audit?before=" + third + "&limit=500").then().statusCode(200)
                .extract().jsonPath().getList("entries.id", Long.class);
        assertEquals(all.subList(3, Math.min(all.size(), 503)), older, "before=id: strictly older than that entry");
        JsonPath last = given().get("/audit?before=" + all.get(all.size() - 1)).then().statusCode(200).extract().jsonPath();
        assertTrue(last.getList("entries").isEmpty());
        assertNull(last.getString("next"));
        given().get("/audit").then().statusCode(200).body("entries.size()", org.hamcrest.Matchers.lessThanOrEqualTo(50));
        given().get("/audit?consistent=true&limit=1").then().statusCode(200).body("entries[0].id", org.hamcrest.Matchers.equalTo(all.get(0).intValue()));
    }

    /**
     * A membership change is recorded before it is carried out: one that then fails (here, a
     * peer that never answers cannot catch up) leaves the record of the request, and its error.
     */
    @Test
    void shouldKeepTheRecordOfAMembershipChangeThatFailed() throws Exception {
        long before = newest();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String peer = "127.0.0.1:" + port;
        assertError(given().contentType("application/json").body("{\"peer\":\"" + peer + "\"}").post("/cluster/peers").then(),
                409, "peer_not_caught_up");
        given().get("/cluster").then().statusCode(200).body("peers.id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(peer)));
        List<Map<String, Object>> entries = since(before);
        assertEquals(1, entries.size(), entries.toString());
        assertEquals("add-member", entries.get(0).get("action"));
        assertEquals(peer, entries.get(0).get("target"));
        assertEquals("asked to add member " + peer, entries.get(0).get("summary"));
    }

    /** The ids of the whole log, read a page of {@code limit} at a time, following {@code next}. */
    private static List<Long> pages(int limit) {
        List<Long> ids = new ArrayList<>();
        String next = "/audit?limit=" + limit;
        while (next != null) {
            JsonPath page = given().get(next).then().statusCode(200).extract().jsonPath();
            List<Long> some = page.getList("entries.id", Long.class);
            assertTrue(!some.isEmpty() && some.size() <= limit, next + ": " + some);
            ids.addAll(some);
            next = page.getString("next");
        }
        return ids;
    }

    @ParameterizedTest
    @ValueSource(strings = {"limit=0", "limit=501", "limit=ten", "limit=1.5", "before=0", "before=-3", "before=x",
            "before=99999999999999999999", "consistent=maybe"})
    void shouldRefuseBadParameters(String query) {
        assertError(given().get("/audit?" + query).then(), 400, "bad_request");
    }

    @Test
    void shouldAnswer405WithAllowForAWrite() {
        given().contentType("application/json").body("{}").post("/audit").then().statusCode(405)
                .header("Allow", org.hamcrest.Matchers.containsString("GET"));
    }

}
