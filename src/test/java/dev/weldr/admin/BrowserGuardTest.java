package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What another site's page can make an operator's browser do to a node without a token: no write
 * (a text/plain POST needs no preflight), and nothing at all through a name rebound to the node.
 * Programs that send neither Origin nor Sec-Fetch-Site, like curl, are untouched.
 */
@QuarkusTest
class BrowserGuardTest {

    private static TestBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = TestBackend.start();
    }

    @AfterAll
    static void stopBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void startFromAnEmptyPool() {
        AdminApi.emptyPool();
    }

    private static String self() {
        return java.net.URI.create(RestAssured.baseURI).getHost() + ":" + RestAssured.port;
    }

    @Test
    void shouldRefuseAWriteFromAnotherSitesPage() {
        // What fetch(..., {method: 'POST', mode: 'no-cors', body: '{"url": ...}'}) sends from evil.example.
        assertError(given().header("Origin", "http://evil.example").header("Sec-Fetch-Site", "cross-site")
                .contentType("text/plain").body(json(backend.url())).post("/servers").then(), 403, "cross_site");
        assertError(given().header("Origin", "http://evil.example").contentType("application/json")
                .body(json(backend.url())).post("/pools/default/servers").then(), 403, "cross_site");
        assertError(given().header("Sec-Fetch-Site", "cross-site").contentType("application/json")
                .body("{\"peer\":\"127.0.0.1:1\"}").post("/cluster/peers").then(), 403, "cross_site");
        // Another port of the same host is another origin: anyone's service may run there.
        assertError(given().header("Origin", "http://localhost:1").header("Sec-Fetch-Site", "same-site")
                .contentType("application/json").body(json(backend.url())).post("/servers").then(), 403, "cross_site");
        assertError(given().header("Origin", "null").delete("/pools/default").then(), 403, "cross_site");

        assertEquals(List.of(), AdminApi.pool());
    }

    @Test
    void shouldAnswerTheNodesOwnPageAndProgramsWithoutABrowser() {
        given().header("Origin", "http://" + self()).header("Sec-Fetch-Site", "same-origin")
                .contentType("application/json").body(json(backend.url())).post("/servers").then().statusCode(201);
        given().header("Sec-Fetch-Site", "none").get("/servers").then().statusCode(200);
        // curl through a name: no Origin, no Sec-Fetch-Site.
        given().header("Host", "weldr.example:" + RestAssured.port).get("/servers").then().statusCode(200);

        List<Map<String, Object>> pool = AdminApi.pool();
        assertEquals(1, pool.size());
    }

    @Test
    void shouldAnswerABrowserOnlyAtLocalhostOrAnAddressWithoutAToken() {
        // A page of rebind.example whose name now resolves to this node: same-origin to the browser.
        String rebound = "rebind.example:" + RestAssured.port;
        assertError(given().header("Host", rebound).header("Origin", "http://" + rebound)
                .header("Sec-Fetch-Site", "same-origin").get("/servers").then(), 403, "host_not_allowed");
        assertError(given().header("Host", rebound).header("Origin", "http://" + rebound)
                .header("Sec-Fetch-Site", "same-origin").contentType("application/json").body(json(backend.url()))
                .post("/servers").then(), 403, "host_not_allowed");
        assertEquals(List.of(), AdminApi.pool());

        given().header("Host", "127.0.0.1:" + RestAssured.port).header("Sec-Fetch-Site", "same-origin")
                .get("/servers").then().statusCode(200);
        given().header("Host", "[::1]:" + RestAssured.port).header("Sec-Fetch-Site", "same-origin")
                .get("/servers").then().statusCode(200);
    }

    @Test
    void shouldTellLocalNamesAndAddresses() {
        assertTrue(BrowserGuard.local("localhost:8687"));
        assertTrue(BrowserGuard.local("LOCALHOST."));
        assertTrue(BrowserGuard.local("ui.localhost:8687"));
        assertTrue(BrowserGuard.local("10.0.0.7:8687"));
        assertTrue(BrowserGuard.local("[fe80::1]:8687"));
        assertTrue(BrowserGuard.local("[::1]"));
        assertFalse(BrowserGuard.local("weldr.example:8687"));
        assertFalse(BrowserGuard.local("localhost.evil.example"));
        assertFalse(BrowserGuard.local("127.0.0.1.nip.io:8687"));
        assertFalse(BrowserGuard.local(null));
    }

    @Test
    void shouldCompareAnOriginWithTheHostAskedFor() {
        assertTrue(BrowserGuard.sameAuthority("http://127.0.0.1:8687", "127.0.0.1:8687"));
        assertTrue(BrowserGuard.sameAuthority("https://weldr.example", "weldr.example:443"));
        assertTrue(BrowserGuard.sameAuthority("http://weldr.example", "WELDR.example"));
        assertTrue(BrowserGuard.sameAuthority("http://[::1]:8687", "[::1]:8687"));
        assertFalse(BrowserGuard.sameAuthority("http://127.0.0.1:8688", "127.0.0.1:8687"));
        assertFalse(BrowserGuard.sameAuthority("https://weldr.example", "weldr.example:80"));
        assertFalse(BrowserGuard.sameAuthority("null", "127.0.0.1:8687"));
        assertFalse(BrowserGuard.sameAuthority("http://127.0.0.1:8687", null));
    }
}
