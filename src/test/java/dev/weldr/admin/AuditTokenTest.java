package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** With weldr.admin.token, /audit needs the token like the pool does, and names the token that made each change. */
@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class AuditTokenTest {

    private static final String BEARER = "Bearer s3cret";

    @Test
    void shouldNeedTheTokenAndNameIt() {
        AdminApi.awaitReady();
        assertError(given().get("/audit").then(), 401, "unauthorized");
        assertError(given().header("Authorization", "Bearer wrong").get("/audit").then(), 401, "unauthorized");

        given().header("Authorization", BEARER).contentType("application/json").body("{\"pathPrefix\":\"/t\",\"pool\":\"default\"}")
                .put("/routes/token-audit").then().statusCode(200);
        given().header("Authorization", BEARER).delete("/routes/token-audit").then().statusCode(204);

        List<Map<String, Object>> entries = given().header("Authorization", BEARER).get("/audit?limit=2").then().statusCode(200)
                .extract().jsonPath().getList("entries");
        assertEquals(List.of("delete-route", "put-route"), entries.stream().map(e -> e.get("action")).toList());
        entries.forEach(e -> assertEquals("admin", e.get("token"), e.toString()));
    }
}
