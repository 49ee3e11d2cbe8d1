package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.config.EncoderConfig;
import io.restassured.config.RestAssuredConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.add;
import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static dev.weldr.admin.AdminApi.pool;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code GET/POST /servers}, {@code GET/DELETE /servers/{ip}/{port}}: the successful calls, 409 and 404. */
@QuarkusTest
class ServersResourceTest {

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
    void shouldListAnEmptyPoolWithLinks() {
        given().get("/servers").then()
                .statusCode(200)
                .contentType("application/json")
                .body("servers", empty())
                .body("links", hasSize(2))
                .body("links.rel", contains("self", "add"))
                .body("links.href", everyItem(equalTo("/servers")))
                .body("links.method", contains("GET", "POST"));
    }

    @Test
    void shouldAddAServerAndAnswerWithTheStoredServerAndItsLocation() {
        given().contentType("application/json").body(json(one.url())).post("/servers").then()
                .statusCode(201)
                .contentType("application/json")
                .header("Location", "/servers/127.0.0.1/" + one.port())
                .body("id", equalTo("127.0.0.1:" + one.port()))
                .body("url", equalTo(one.url()))
                .body("state", equalTo("active"))
                .body("weight", equalTo(1))
                .body("links.rel", contains("self", "update", "remove"))
                .body("links.href", everyItem(equalTo("/servers/127.0.0.1/" + one.port())))
                .body("links.method", contains("GET", "PATCH", "DELETE"));
    }

    @Test
    void shouldListEveryAddedServerInOrderWithItsState() {
        add(one.url());
        add(two.url());

        given().get("/servers").then()
                .statusCode(200)
                .body("servers", hasSize(2))
                .body("servers.id", contains("127.0.0.1:" + one.port(), "127.0.0.1:" + two.port()))
                .body("servers.url", contains(one.url(), two.url()))
                .body("servers.state", everyItem(equalTo("active")))
                .body("servers.weight", everyItem(equalTo(1)))
                .body("servers.links", everyItem(hasSize(3)))
                .body("servers[0].links.rel", contains("self", "update", "remove"))
                .body("servers[0].links.href", everyItem(equalTo("/servers/127.0.0.1/" + one.port())))
                .body("servers[0].links.method", contains("GET", "PATCH", "DELETE"))
                .body("links.rel", contains("self", "add"));
    }

    @Test
    void shouldShowAnAddedServerAtItsLocation() {
        String location = given().contentType("application/json").body(json(one.url())).post("/servers").then()
                .statusCode(201).extract().header("Location");

        given().get(location).then()
                .statusCode(200)
                .contentType("application/json")
                .body("id", equalTo("127.0.0.1:" + one.port()))
                .body("url", equalTo(one.url()))
                .body("state", equalTo("active"))
                .body("weight", equalTo(1))
                .body("links.rel", contains("self", "update", "remove"));
    }

    @Test
    void shouldAcceptAJsonBodySentAsAFormLikeCurlDashD() {
        // curl -d '{"url": ...}' http://127.0.0.1:8687/servers sends exactly this content type.
        given().config(RestAssuredConfig.config().encoderConfig(
                        EncoderConfig.encoderConfig().appendDefaultContentCharsetToContentTypeIfUndefined(false)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(json(one.url()))
                .post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/127.0.0.1/" + one.port())
                .body("url", equalTo(one.url()));

        given().get("/servers").then().body("servers.url", contains(one.url()));
    }

    @Test
    void shouldAcceptAJsonBodyWithoutContentType() {
        HttpResponse<String> response = AdminApi.rawPost("/servers", HttpRequest.BodyPublishers.ofString(json(one.url())));

        assertEquals(201, response.statusCode(), response.body());
        assertEquals("/servers/127.0.0.1/" + one.port(), response.headers().firstValue("Location").orElse(null));
        given().get("/servers").then().body("servers.url", contains(one.url()));
    }

    @Test
    void shouldAcceptAJsonBodyWhateverItsContentType() {
        given().contentType("text/plain").body(json(one.url())).post("/servers").then()
                .statusCode(201)
                .body("url", equalTo(one.url()));
        given().contentType("application/octet-stream").body(json(two.url()).getBytes()).post("/servers").then()
                .statusCode(201)
                .body("url", equalTo(two.url()));
    }

    @Test
    void shouldStoreAnIpv6ServerWithItsAddressInBrackets() {
        // No backend needs to listen on [::1]: the pool takes any address, and a new server starts active.
        int port = one.port();
        given().contentType("application/json").body(json("http://[::1]:" + port)).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/::1/" + port)
                .body("id", equalTo("[::1]:" + port))
                .body("url", equalTo("http://[::1]:" + port))
                .body("state", equalTo("active"))
                .body("links.href", everyItem(equalTo("/servers/::1/" + port)));

        given().get("/servers/::1/" + port).then()
                .statusCode(200)
                .body("url", equalTo("http://[::1]:" + port));
        given().get("/servers").then().body("servers.id", contains("[::1]:" + port));
        // The same address spelled with an upper-case scheme and a trailing slash is the same server.
        assertError(given().contentType("application/json").body(json("HTTP://[::1]:" + port + "/")).post("/servers").then(),
                409, "conflict");

        given().delete("/servers/::1/" + port).then().statusCode(204);
        given().get("/servers").then().body("servers", empty());
    }

    @Test
    void shouldLowerCaseTheLettersOfAnIpv6Address() {
        given().contentType("application/json").body(json("http://[FD00::AB]:8000")).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/fd00::ab/8000")
                .body("id", equalTo("[fd00::ab]:8000"))
                .body("url", equalTo("http://[fd00::ab]:8000"));
        given().get("/servers/FD00::AB/8000").then().statusCode(200).body("id", equalTo("[fd00::ab]:8000"));
    }

    @Test
    void shouldNormaliseSchemeAndHostToLowerCaseAndAddTheDefaultPort() {
        given().contentType("application/json").body(json("HTTP://LOCALHOST:" + one.port())).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/localhost/" + one.port())
                .body("id", equalTo("localhost:" + one.port()))
                .body("url", equalTo("http://localhost:" + one.port()));
        given().contentType("application/json").body(json("https://LocalHost/")).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/localhost/443")
                .body("id", equalTo("localhost:443"))
                .body("url", equalTo("https://localhost:443"));
        given().contentType("application/json").body(json("http://127.0.0.1")).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/127.0.0.1/80")
                .body("url", equalTo("http://127.0.0.1:80"));

        given().get("/servers/LOCALHOST/" + one.port()).then().statusCode(200).body("id", equalTo("localhost:" + one.port()));
    }

    @Test
    void shouldTakeAHostNameWithUnderscoresAsContainerPlatformsNameThem() {
        // Docker Compose names containers project_service_1; nginx and HAProxy take such names.
        given().contentType("application/json").body(json("http://MyApp_Web_1:8080")).post("/servers").then()
                .statusCode(201)
                .header("Location", "/servers/myapp_web_1/8080")
                .body("id", equalTo("myapp_web_1:8080"))
                .body("url", equalTo("http://myapp_web_1:8080"));
        given().get("/servers/myapp_web_1/8080").then().statusCode(200).body("id", equalTo("myapp_web_1:8080"));
        given().delete("/servers/myapp_web_1/8080").then().statusCode(204);
        given().get("/servers/myapp_web_1/8080").then().statusCode(404);
    }

    @Test
    void shouldRejectDuplicateServer() {
        add(one.url());
        List<Map<String, Object>> before = pool();

        assertError(given().contentType("application/json").body(json(one.url())).post("/servers").then(), 409, "conflict");

        assertEquals(before, pool());
    }

    @Test
    void shouldRejectTheSameServerSpelledDifferently() {
        add("http://localhost:" + one.port());
        List<Map<String, Object>> before = pool();

        // Same host and port: upper case, a trailing slash, or another scheme name the same server.
        for (String spelling : List.of("HTTP://LocalHost:" + one.port(), "http://localhost:" + one.port() + "/",
                "https://localhost:" + one.port())) {
            assertError(given().contentType("application/json").body(json(spelling)).post("/servers").then(), 409, "conflict");
        }

        assertEquals(before, pool());
    }

    @Test
    void shouldRemoveAServer() {
        add(one.url());
        add(two.url());

        given().delete("/servers/127.0.0.1/" + one.port()).then()
                .statusCode(204)
                .body(equalTo(""));

        given().get("/servers").then().body("servers.id", contains("127.0.0.1:" + two.port()));
        assertError(given().get("/servers/127.0.0.1/" + one.port()).then(), 404, "not_found");
    }

    @Test
    void shouldAnswerNotFoundWhenRemovingAServerThatIsNotInThePool() {
        add(one.url());
        List<Map<String, Object>> before = pool();

        assertError(given().delete("/servers/127.0.0.1/" + two.port()).then(), 404, "not_found");
        assertError(given().delete("/servers/10.9.8.7/" + one.port()).then(), 404, "not_found");
        assertError(given().delete("/servers/127.0.0.1/not-a-port").then(), 404, "not_found");
        assertError(given().delete("/servers/127.0.0.1/70000").then(), 404, "not_found");

        assertEquals(before, pool());
    }

    @Test
    void shouldAnswerNotFoundWhenRemovingTheSameServerTwice() {
        add(one.url());
        given().delete("/servers/127.0.0.1/" + one.port()).then().statusCode(204);

        assertError(given().delete("/servers/127.0.0.1/" + one.port()).then(), 404, "not_found");
        assertEquals(List.of(), pool());
    }

    @Test
    void shouldAnswerNotFoundForAServerThatIsNotInThePool() {
        assertError(given().get("/servers/127.0.0.1/" + one.port()).then(), 404, "not_found");
        assertError(given().get("/servers/127.0.0.1/zero").then(), 404, "not_found");
    }

    @Test
    void shouldAddAServerAgainAfterItWasRemoved() {
        add(one.url());
        given().delete("/servers/127.0.0.1/" + one.port()).then().statusCode(204);

        given().contentType("application/json").body(json(one.url())).post("/servers").then().statusCode(201);
        given().get("/servers").then().body("servers.id", contains("127.0.0.1:" + one.port()));
    }

    @Test
    void shouldGiveEachListedServerEveryField() {
        add(one.url());
        given().get("/servers").then()
                .body("servers[0]", hasKey("id"))
                .body("servers[0]", hasKey("url"))
                .body("servers[0]", hasKey("state"))
                .body("servers[0]", hasKey("weight"))
                .body("servers[0]", hasKey("links"))
                .body("servers[0].links", everyItem(notNullValue()))
                .body("servers[0].links[0].keySet()", containsInAnyOrder("rel", "href", "method"))
                .body("links[0].keySet()", hasItems("rel", "href", "method"));
    }
}
