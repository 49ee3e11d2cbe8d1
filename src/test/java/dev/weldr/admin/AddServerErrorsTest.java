package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static dev.weldr.admin.AdminApi.noStackTrace;
import static dev.weldr.admin.AdminApi.pool;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way {@code POST /servers} can be refused (400, 409 aside, 413): each answer is a JSON
 * error without a stack trace, and the pool is exactly as it was before the call.
 */
@QuarkusTest
class AddServerErrorsTest {

    private static final int LIMIT = 64 * 1024;

    private static TestBackend backend;
    private List<Map<String, Object>> before;

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

    /** A pool of one server, so that "unchanged" means more than "still empty". */
    @BeforeEach
    void startFromAPoolOfOneServer() {
        AdminApi.emptyPool();
        AdminApi.add(backend.url());
        before = pool();
        assertEquals(1, before.size());
    }

    private ValidatableResponse post(String body) {
        return given().contentType("application/json").body(body).post("/servers").then();
    }

    private void assertRefused(ValidatableResponse response, int status, String code) {
        assertError(response, status, code);
        assertEquals(before, pool(), "the pool must be unchanged");
    }

    private void assertBadUrl(String url, String message) {
        assertRefused(post(json(url)).body("message", equalTo(message)), 400, "bad_request");
    }

    @ParameterizedTest(name = "shouldRejectMalformedJson: {0}")
    @ValueSource(strings = {"{\"url\": ", "{url: \"http://127.0.0.1:8000\"}", "not json", "{\"url\": \"http://127.0.0.1:8000\",}",
            "{\"url\": \"http://127.0.0.1:8000\"} {}", "{\"url\": \"http://127.0.0.1:8000\"}]", "\u0000"})
    void shouldRejectMalformedJson(String body) {
        assertRefused(post(body).body("message", containsString("not valid JSON")), 400, "bad_json");
    }

    @Test
    void shouldRejectABodyThatGoesOnAfterItsJsonValue() {
        assertRefused(post("{\"url\": \"http://127.0.0.1:8000\"} {\"url\": \"http://127.0.0.1:8001\"}")
                .body("message", equalTo("the body is not valid JSON: it goes on after the first JSON value")), 400, "bad_json");
    }

    @ParameterizedTest(name = "shouldRejectABodyOfTheWrongType: {0}")
    @ValueSource(strings = {"{\"url\": 5}", "[]", "\"x\"", "null", "5", "true", "{\"url\": null}", "{\"url\": [\"http://127.0.0.1:8000\"]}",
            "{\"url\": {\"host\": \"127.0.0.1\"}}", "{\"url\": true}", "{}", "[{\"url\": \"http://127.0.0.1:8000\"}]"})
    void shouldRejectABodyOfTheWrongType(String body) {
        assertRefused(post(body), 400, "bad_request");
    }

    @Test
    void shouldRejectAUrlThatIsNotAString() {
        assertRefused(post("{\"url\": 5}").body("message", equalTo("url must be a string")), 400, "bad_request");
    }

    @Test
    void shouldRejectABodyThatIsNotAnObject() {
        assertRefused(post("[]").body("message", equalTo("the body must be a JSON object, not array")), 400, "bad_request");
        assertRefused(post("\"x\"").body("message", equalTo("the body must be a JSON object, not string")), 400, "bad_request");
    }

    @ParameterizedTest(name = "shouldRejectAnEmptyBody: \"{0}\"")
    @ValueSource(strings = {"", " ", "\n\t "})
    void shouldRejectAnEmptyBody(String body) {
        assertRefused(post(body).body("message", containsString("url")), 400, "bad_request");
    }

    @Test
    void shouldRejectAPostWithNoBodyAtAll() {
        assertRefused(given().post("/servers").then(), 400, "bad_request");
    }

    @Test
    void shouldRejectAKeyGivenTwice() {
        assertRefused(post("{\"url\": \"http://127.0.0.1:8000\", \"url\": \"http://127.0.0.1:8001\"}")
                .body("message", containsString("Duplicate field 'url'")), 400, "bad_json");
    }

    @Test
    void shouldRejectAnUnknownField() {
        assertRefused(post("{\"url\": \"http://127.0.0.1:8000\", \"colour\": \"blue\"}")
                .body("message", containsString("colour")), 400, "bad_request");
        assertRefused(post("{\"colour\": \"blue\"}"), 400, "bad_request");
    }

    @Test
    void shouldRejectAUrlWithoutHost() {
        assertBadUrl("http://:80", "url has no host");
        assertBadUrl("http:///", "url has no host");
    }

    @Test
    void shouldRejectASchemeOtherThanHttpOrHttps() {
        assertBadUrl("ftp://127.0.0.1:21", "url scheme must be http or https");
        assertBadUrl("ws://127.0.0.1:8000", "url scheme must be http or https");
        assertBadUrl("localhost:8000", "url scheme must be http or https");
        assertBadUrl("//127.0.0.1:8000", "url scheme must be http or https");
    }

    @Test
    void shouldRejectAUrlWithoutScheme() {
        assertRefused(post(json("127.0.0.1:8000")).body("message", containsString("url")), 400, "bad_request");
    }

    @Test
    void shouldRejectPortZero() {
        assertBadUrl("http://127.0.0.1:0", "url port must be a number from 1 to 65535");
    }

    @Test
    void shouldRejectAPortAbove65535() {
        assertBadUrl("http://127.0.0.1:70000", "url port must be a number from 1 to 65535");
        assertBadUrl("http://127.0.0.1:65536", "url port must be a number from 1 to 65535");
    }

    @Test
    void shouldRejectANonNumericPort() {
        assertBadUrl("http://127.0.0.1:http", "url port must be a number from 1 to 65535");
        assertBadUrl("http://127.0.0.1:-1", "url port must be a number from 1 to 65535");
    }

    @Test
    void shouldRejectAUrlWithAPathQueryOrFragment() {
        assertBadUrl("http://127.0.0.1:8000/api", "url must not have a path, query or fragment");
        assertBadUrl("http://127.0.0.1:8000?x=1", "url must not have a path, query or fragment");
        assertBadUrl("http://127.0.0.1:8000/?x=1", "url must not have a path, query or fragment");
        assertBadUrl("http://127.0.0.1:8000#top", "url must not have a path, query or fragment");
    }

    @Test
    void shouldRejectAUrlWithUserInformation() {
        assertBadUrl("http://user:secret@127.0.0.1:8000", "url must not contain user information");
    }

    @Test
    void shouldRejectAnEmptyUrl() {
        assertBadUrl("", "url is required");
        assertBadUrl("  ", "url is required");
    }

    @Test
    void shouldRejectABodyOverTheLimitAnnouncedByContentLength() {
        byte[] body = paddedBody(LIMIT + 1);

        assertRefused(given().contentType("application/json").body(body).post("/servers").then(), 413, "body_too_large");
    }

    @ParameterizedTest(name = "shouldRefuseAChunkedBodyOfAnySize: {0} bytes")
    @ValueSource(ints = {40, LIMIT + 1, 16 * LIMIT})
    void shouldRefuseAChunkedBodyOfAnySize(int size) {
        // No Content-Length: the size is unknown until the body is read, so the admin API asks for one.
        HttpResponse<String> response = AdminApi.rawPost("/servers",
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(paddedBody(size))),
                "Content-Type", "application/json");

        assertEquals(411, response.statusCode(), response.body());
        assertThat(response.body(), noStackTrace());
        assertTrue(response.body().contains("\"error\":\"length_required\""), response.body());
        assertEquals(before, pool(), "the pool must be unchanged");
    }

    @Test
    void shouldAcceptABodyOfExactlyTheLimit() {
        given().contentType("application/json").body(paddedBody(LIMIT)).post("/servers").then()
                .statusCode(201)
                .body("url", equalTo("http://127.0.0.1:1"));
    }

    /** A valid body for a server not in the pool, padded with spaces to exactly {@code size} bytes. */
    private static byte[] paddedBody(int size) {
        return paddedBody(size, "http://127.0.0.1:1");
    }

    private static byte[] paddedBody(int size, String url) {
        String json = json(url);
        String padded = json.substring(0, json.length() - 1) + " ".repeat(size - json.length()) + "}";
        byte[] bytes = padded.getBytes(StandardCharsets.US_ASCII);
        assertEquals(size, bytes.length);
        return bytes;
    }
}
