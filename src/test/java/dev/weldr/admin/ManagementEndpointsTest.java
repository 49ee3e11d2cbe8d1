package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

/** What the admin listener serves besides the API: health, metrics, OpenAPI and Swagger UI. */
@QuarkusTest
class ManagementEndpointsTest {

    @BeforeEach
    void startFromAnEmptyPool() {
        AdminApi.emptyPool();
    }

    @Test
    void shouldBeLive() {
        given().get("/q/health/live").then()
                .statusCode(200)
                .body("status", equalTo("UP"));
    }

    @Test
    void shouldBeReadyAsTheLeaderOfASingleNodeCluster() {
        given().get("/q/health/ready").then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'weldr' }.data.role", equalTo("leader"))
                .body("checks.find { it.name == 'weldr' }.data.mode", equalTo("active-passive"));
    }

    @Test
    void shouldListTheAdminResourcesInTheOpenApiDocument() {
        given().queryParam("format", "json").get("/q/openapi").then()
                .statusCode(200)
                .body("paths.'/servers'", notNullValue())
                .body("paths.'/servers'.get", notNullValue())
                .body("paths.'/servers'.post", notNullValue())
                .body("paths.'/servers/{ip}/{port}'.delete", notNullValue())
                .body("paths.'/stats'.get", notNullValue())
                .body("paths.'/stats/detail'.get", notNullValue())
                .body("paths.'/audit'.get", notNullValue())
                .body("paths.'/audit'.get.parameters.name", org.hamcrest.Matchers.hasItems("limit", "before", "consistent"));
        given().get("/q/openapi").then()
                .statusCode(200)
                .body(containsString("/servers"))
                .body(containsString("/stats"));
    }

    @Test
    void shouldServeSwaggerUi() {
        given().redirects().follow(true).get("/q/swagger-ui").then()
                .statusCode(200)
                .contentType(containsString("text/html"));
    }

    @Test
    void shouldServePrometheusMetrics() {
        given().get("/q/metrics").then()
                .statusCode(200)
                .body(containsString("weldr_raft_is_leader"));
    }
}
