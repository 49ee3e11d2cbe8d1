package dev.weldr.admin;

import dev.weldr.tls.TestCertificates;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.empty;

/** The token rules of the pool apply to certificates: private keys go in only with the token. */
@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class CertificatesTokenTest {

    private static final String TOKEN = "s3cret";

    @Test
    void shouldNeedTheTokenToReadOrChangeCertificates() {
        TestCertificates.Issued leaf = TestCertificates.leaf(TestCertificates.ca("root"), "shop.example");
        String body = TestCertificates.body(leaf);
        assertError(given().get("/certificates").then(), 401, "unauthorized");
        assertError(given().get("/certificates/shop").then(), 401, "unauthorized");
        assertError(given().contentType("application/json").body(body).put("/certificates/shop").then(), 401, "unauthorized");
        assertError(given().header("Authorization", "Bearer wrong").contentType("application/json").body(body)
                .put("/certificates/shop").then(), 401, "unauthorized");
        given().header("Authorization", "Bearer " + TOKEN).get("/certificates").then().statusCode(200)
                .body("certificates", empty());

        given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body(body)
                .put("/certificates/shop").then().statusCode(200);
        assertError(given().delete("/certificates/shop").then(), 401, "unauthorized");
        given().header("Authorization", "Bearer " + TOKEN).delete("/certificates/shop").then().statusCode(204);
    }
}
