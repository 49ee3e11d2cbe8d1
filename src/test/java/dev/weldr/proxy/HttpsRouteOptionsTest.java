package dev.weldr.proxy;

import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import static dev.weldr.tls.TestCertificates.body;
import static dev.weldr.tls.TestCertificates.leaf;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A route's HTTPS options with real clients on both listeners and a backend that records every
 * byte: the 308 from plain HTTP (nothing reaches the backend), and Strict-Transport-Security on
 * the HTTPS listener only, once.
 */
@QuarkusTest
class HttpsRouteOptionsTest extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr redirect test root");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());
    private static final String YEAR = "31536000";

    @BeforeEach
    void uploadACertificate() {
        given().contentType("application/json").body(body(leaf(CA, "shop.example", "*.shop.example")))
                .put("/certificates/shop").then().statusCode(200);
    }

    @AfterEach
    void removeRoutesAndCertificates() {
        removeRoutesAndExtraPools();
        given().delete("/certificates/shop").then().statusCode(204);
    }

    private static ValidatableResponse putRoute(String name, String json) {
        return given().contentType("application/json").body(json).put("/routes/" + name).then();
    }

    private RawHttp https(String serverName) throws IOException {
        return closeLater(RawHttp.over(TlsClient.connect(CLIENT, tlsPort(), serverName, true)));
    }

    private RecordingBackend recording(String response) throws Exception {
        RecordingBackend backend = closeLater(new RecordingBackend(n -> response));
        addServer(backend.port());
        return backend;
    }

    private static long clientSuccesses() {
        return given().get("/stats").then().statusCode(200).extract().jsonPath().getLong("client.success");
    }

    @Test
    void shouldRedirectPlainHttpWith308KeepingPathAndQueryAndSendNothingToTheBackend() throws Exception {
        RecordingBackend backend = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"default\", \"httpsRedirect\": true}").statusCode(200)
                .body("httpsRedirect", equalTo(true)).body("hsts", nullValue());
        long successes = clientSuccesses();

        RawHttp plain = connect();
        plain.sendHead("GET /cart/items?id=7&q=a%20b HTTP/1.1", "Host: Shop.Example:8080");
        RawHttp.Response r = plain.read(false);
        assertEquals(308, r.status(), r.text());
        assertEquals("https://Shop.Example:" + tlsPort() + "/cart/items?id=7&q=a%20b", r.header("location"));
        assertEquals(0, r.body().length);
        // A body the redirect does not need is read and dropped: the connection carries the next request.
        plain.sendHead("POST /form HTTP/1.1", "Host: shop.example", "Content-Length: 5").send("a=b&c");
        RawHttp.Response post = plain.read(false);
        assertEquals(308, post.status());
        assertEquals("https://shop.example:" + tlsPort() + "/form", post.header("location"));
        assertNull(post.header("connection"));
        plain.sendHead("HEAD /x? HTTP/1.1", "Host: shop.example");
        RawHttp.Response head = plain.read(true);
        assertEquals(308, head.status());
        assertEquals("https://shop.example:" + tlsPort() + "/x?", head.header("location"));
        // An absolute-form target names the host, and its missing path is "/".
        plain.sendHead("GET http://shop.example?q=1 HTTP/1.1", "Host: elsewhere.example");
        assertEquals("https://shop.example:" + tlsPort() + "/?q=1", plain.read(false).header("location"));

        RawHttp secure = https("shop.example");
        secure.sendHead("GET /cart/items?id=7 HTTP/1.1", "Host: shop.example");
        assertEquals(200, secure.read(false).status(), "over HTTPS the route goes to its pool");
        assertEquals(1, backend.requests());
        assertTrue(backend.received().startsWith("GET /cart/items?id=7 HTTP/1.1\r\n"),
                "the backend received only the HTTPS request: " + backend.received());
        assertEquals(successes + 5, clientSuccesses(), "a redirect is a success, as the backend's answer is");
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("weldr_requests_total{code=\"308\",protocol=\"HTTP/1.1\",server=\"none\"}"), "counted with no server");
    }

    @Test
    void shouldCloseTheConnectionAfterRedirectingARequestWhoseBodyIsChunkedOrLarge() throws Exception {
        RecordingBackend backend = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"default\", \"httpsRedirect\": true}").statusCode(200);

        RawHttp chunked = connect();
        chunked.sendHead("POST /upload HTTP/1.1", "Host: shop.example", "Transfer-Encoding: chunked").send("5\r\nhello\r\n");
        RawHttp.Response r = chunked.read(false);
        assertEquals(308, r.status());
        assertEquals("close", r.header("connection"));
        assertEquals(-1, chunked.in().read(), "the connection is closed");

        RawHttp large = connect();
        large.sendHead("PUT /big HTTP/1.1", "Host: shop.example", "Content-Length: " + (HttpsRedirect.MAX_DISCARDED + 1));
        RawHttp.Response big = large.read(false);
        assertEquals(308, big.status());
        assertEquals("close", big.header("connection"));
        assertEquals(0, backend.requests());
        assertEquals("", backend.received());
    }

    @Test
    void shouldRefuseToRedirectToAHostThatIsNotAHostName() throws Exception {
        RecordingBackend backend = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        putRoute("any", "{\"pool\": \"default\", \"httpsRedirect\": true}").statusCode(200);
        for (String host : List.of("evil.example/x", "a%2eb", "a@b", "a_b.example", "shop.example:80x", "[::1", "[zz]")) {
            RawHttp plain = connect();
            plain.sendHead("GET /login HTTP/1.1", "Host: " + host);
            RawHttp.Response r = plain.read(false);
            assertEquals(400, r.status(), host);
            assertNull(r.header("location"), host);
        }
        assertEquals("", backend.received());
    }

    @Test
    void shouldLetAnAcmeChallengeThroughToTheBackendOverPlainHttp() throws Exception {
        RecordingBackend backend = recording("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ntoken");
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"default\", \"httpsRedirect\": true}").statusCode(200);
        RawHttp plain = connect();
        plain.sendHead("GET /.well-known/acme-challenge/abc123 HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = plain.read(false);
        assertEquals(200, r.status());
        assertEquals("token", r.text());
        plain.sendHead("GET /.well-known/acme-challengeX HTTP/1.1", "Host: shop.example");
        assertEquals(308, plain.read(false).status(), "only the challenge's own directory is spared");
        assertEquals(1, backend.requests());
    }

    @Test
    void shouldSendHstsOverHttpsOnlyAndReplaceTheBackendsOwn() throws Exception {
        recording("HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=60\r\nContent-Length: 2\r\n\r\nok");
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"default\","
                + " \"hsts\": {\"maxAge\": " + YEAR + ", \"includeSubDomains\": true}}").statusCode(200)
                .body("hsts.maxAge", equalTo(31536000)).body("hsts.includeSubDomains", equalTo(true))
                .body("hsts.preload", equalTo(false)).body("httpsRedirect", equalTo(false));

        RawHttp secure = https("shop.example");
        secure.sendHead("GET / HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = secure.read(false);
        assertEquals(200, r.status());
        assertEquals(List.of("max-age=" + YEAR + "; includeSubDomains"), r.head().all("strict-transport-security"));

        // RFC 6797 §7.2: never over plain HTTP; the backend's own goes on there as it came.
        RawHttp plain = connect();
        plain.sendHead("GET / HTTP/1.1", "Host: shop.example");
        assertEquals(List.of("max-age=60"), plain.read(false).head().all("strict-transport-security"));

        // A route without options: the backend's header passes unchanged over HTTPS too.
        secure.sendHead("GET / HTTP/1.1", "Host: other.shop.example");
        assertEquals(List.of("max-age=60"), secure.read(false).head().all("strict-transport-security"));
    }

    @Test
    void shouldSendHstsOnWeldrsOwnAnswersOverHttps() throws Exception {
        given().contentType("application/json").body("{\"name\": \"empty\"}").post("/pools").then().statusCode(201);
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"empty\", \"httpsRedirect\": true,"
                + " \"hsts\": {\"maxAge\": 63072000, \"includeSubDomains\": true, \"preload\": true}}").statusCode(200);
        RawHttp secure = https("shop.example");
        secure.sendHead("GET / HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = secure.read(false);
        assertEquals(503, r.status());
        assertEquals(List.of("max-age=63072000; includeSubDomains; preload"), r.head().all("strict-transport-security"));
        RawHttp plain = connect();
        plain.sendHead("GET / HTTP/1.1", "Host: shop.example");
        RawHttp.Response redirect = plain.read(false);
        assertEquals(308, redirect.status());
        assertNull(redirect.header("strict-transport-security"), "never over plain HTTP");
    }

    @Test
    void shouldProxyARouteWithoutOptionsAsBefore() throws Exception {
        RecordingBackend backend = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        putRoute("plain", "{\"host\": \"shop.example\", \"pool\": \"default\"}").statusCode(200)
                .body("httpsRedirect", equalTo(false)).body("hsts", nullValue());
        RawHttp plain = connect();
        plain.sendHead("GET /x?y HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = plain.read(false);
        assertEquals(200, r.status());
        assertNull(r.header("strict-transport-security"));
        RawHttp secure = https("shop.example");
        secure.sendHead("GET /x?y HTTP/1.1", "Host: shop.example");
        RawHttp.Response s = secure.read(false);
        assertEquals(200, s.status());
        assertNull(s.header("strict-transport-security"));
        assertEquals(2, backend.requests());
    }

    @Test
    void shouldDocumentTheOptionsInOpenApi() {
        io.restassured.path.json.JsonPath openapi = given().get("/q/openapi?format=json").then().statusCode(200).extract().jsonPath();
        String put = openapi.getString("paths.'/routes/{name}'.put.description");
        assertTrue(put != null && put.contains("httpsRedirect") && put.contains("hsts"), put);
        Map<String, Object> view = openapi.getMap("components.schemas.RouteView.properties");
        assertTrue(view.containsKey("httpsRedirect") && view.containsKey("hsts"), String.valueOf(view));
    }

    @Test
    void shouldRefuseBadOptionsWithA400AndChangeNothing() {
        putRoute("shop", "{\"host\": \"shop.example\", \"pool\": \"default\", \"hsts\": {\"maxAge\": 600}}").statusCode(200);
        Map<String, Object> before = given().get("/routes/shop").then().statusCode(200).extract().jsonPath().getMap("$");
        for (String options : List.of(
                "\"httpsRedirect\": \"yes\"",
                "\"hsts\": true",
                "\"hsts\": {}",
                "\"hsts\": {\"maxAge\": -1}",
                "\"hsts\": {\"maxAge\": 1.5}",
                "\"hsts\": {\"maxAge\": \"31536000\"}",
                "\"hsts\": {\"maxAge\": 99999999999}",
                "\"hsts\": {\"maxAge\": 31536000, \"includeSubdomains\": true}",
                "\"hsts\": {\"maxAge\": 31536000, \"includeSubDomains\": 1}",
                "\"hsts\": {\"maxAge\": 31536000, \"preload\": true}",
                "\"hsts\": {\"maxAge\": 31535999, \"includeSubDomains\": true, \"preload\": true}",
                "\"httpsPort\": 443")) {
            putRoute("shop", "{\"host\": \"other.example\", \"pool\": \"default\", " + options + "}")
                    .statusCode(400).body("error", equalTo("bad_request"));
        }
        assertEquals(before, given().get("/routes/shop").then().statusCode(200).extract().jsonPath().getMap("$"));
    }
}
