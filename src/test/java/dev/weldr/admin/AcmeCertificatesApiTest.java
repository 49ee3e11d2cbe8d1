package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * A managed certificate asked for badly is refused with a JSON error and nothing stored; asked
 * for well on a node with no ACME account settings (this test node has none), it is refused
 * too, with the reason, rather than stored to fail later.
 */
@QuarkusTest
class AcmeCertificatesApiTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"acme\": {\"names\": [\"*.shop.example\"]}}",
            "{\"acme\": {\"names\": [\"shop example\"]}}",
            "{\"acme\": {\"names\": [\"10.0.0.1\"]}}",
            "{\"acme\": {\"names\": [\"localhost\"]}}",
            "{\"acme\": {\"names\": []}}",
            "{\"acme\": {\"names\": \"shop.example\"}}",
            "{\"acme\": {\"names\": [7]}}",
            "{\"acme\": {}}",
            "{\"acme\": [\"shop.example\"]}",
            "{\"acme\": {\"names\": [\"shop.example\"], \"challenge\": \"dns-01\"}}",
            "{\"acme\": {\"names\": [\"shop.example\"]}, \"chain\": \"x\"}",
    })
    void shouldRefuseBadRequestsAndStoreNothing(String body) {
        assertError(given().contentType("application/json").body(body).put("/certificates/managed").then(), 400, "bad_request");
        assertError(given().get("/certificates/managed").then(), 404, "not_found");
    }

    @Test
    void shouldRefuseMoreNamesThanACertificateMayHave() {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 101; i++) {
            names.append(i == 0 ? "" : ",").append("\"n").append(i).append(".shop.example\"");
        }
        given().contentType("application/json").body("{\"acme\": {\"names\": [" + names + "]}}").put("/certificates/managed")
                .then().statusCode(400).body("message", containsString("101 names"));
        assertError(given().get("/certificates/managed").then(), 404, "not_found");
    }

    @Test
    void shouldSayWhyWithoutAnAccountConfiguration() {
        given().contentType("application/json").body("{\"acme\": {\"names\": [\"shop.example\"]}}").put("/certificates/managed")
                .then().statusCode(409).body("error", equalTo("acme_not_configured"))
                .body("message", containsString("weldr.acme.directory"));
        assertError(given().get("/certificates/managed").then(), 404, "not_found");
    }
}
