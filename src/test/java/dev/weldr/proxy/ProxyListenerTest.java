package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The data plane has a listener of its own, apart from the admin API. */
@QuarkusTest
class ProxyListenerTest extends ProxyTestBase {

    @Test
    void shouldListenOnItsOwnPortApartFromTheAdminApi() throws Exception {
        assertNotEquals(RestAssured.port, proxyPort(), "the proxy and the admin API share a port");
        // Fresh connections, so that a socket shared between the two servers would show: an
        // accepted connection would then go to one or the other.
        for (int i = 0; i < 4; i++) {
            try (RawHttp client = RawHttp.connect(proxyPort())) {
                assertEquals(503, client.get("/servers").status(), "an empty pool answers 503 on the proxy port");
            }
            given().get("/servers").then().statusCode(200);
        }
    }
}
