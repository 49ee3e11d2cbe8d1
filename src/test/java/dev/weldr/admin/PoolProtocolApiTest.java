package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static dev.weldr.admin.AdminApi.assertError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A pool's protocol (http1, h2, h2c) and gRPC health check through the API: stored, shown, and every refusal. */
@QuarkusTest
class PoolProtocolApiTest {

    @BeforeEach
    @AfterEach
    void clean() {
        AdminApi.removeRoutesAndPools();
        AdminApi.emptyPool();
    }

    private static ValidatableResponse post(String path, String json) {
        return given().contentType("application/json").body(json).post(path).then();
    }

    private static ValidatableResponse patch(String path, String json) {
        return given().contentType("application/json").body(json).patch(path).then();
    }

    private static Object pools() {
        return java.util.Arrays.asList(given().get("/pools").then().extract().jsonPath().getList("pools"),
                given().get("/pools/grpc/servers").then().extract().jsonPath().getList("servers.id"));
    }

    @Test
    void shouldShowHttp1AndAnHttpCheckByDefault() {
        given().get("/pools/default").then().statusCode(200)
                .body("settings.protocol", equalTo("http1"))
                .body("settings.healthCheck.mode", equalTo("http"))
                .body("settings.healthCheck.grpcService", nullValue());
    }

    @Test
    void shouldStoreAndShowAProtocolAndAGrpcCheck() {
        post("/pools", "{\"name\":\"grpc\",\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"grpc\"}}").statusCode(201)
                .body("settings.protocol", equalTo("h2c"))
                .body("settings.healthCheck.mode", equalTo("grpc"))
                .body("settings.healthCheck.grpcService", equalTo(""));
        post("/pools/grpc/servers", "{\"url\":\"http://127.0.0.1:50051\"}").statusCode(201);
        patch("/pools/grpc", "{\"healthCheck\":{\"grpcService\":\"my.pkg.Orders\",\"interval\":\"2s\"}}").statusCode(200)
                .body("settings.healthCheck.grpcService", equalTo("my.pkg.Orders"));
        patch("/pools/grpc", "{\"policy\":\"least-requests\"}").statusCode(200)
                .body("settings.protocol", equalTo("h2c"))
                .body("settings.healthCheck.grpcService", equalTo("my.pkg.Orders"));
        given().get("/pools/grpc").then().statusCode(200)
                .body("settings.protocol", equalTo("h2c"))
                .body("settings.healthCheck.mode", equalTo("grpc"))
                .body("settings.healthCheck.interval", equalTo("2000ms"));

        // Back to HTTP: the service goes with the mode; then the protocol can go back to http1.
        patch("/pools/grpc", "{\"healthCheck\":{\"mode\":\"http\"}}").statusCode(200)
                .body("settings.healthCheck.mode", equalTo("http"))
                .body("settings.healthCheck.grpcService", nullValue());
        patch("/pools/grpc", "{\"protocol\":\"http1\"}").statusCode(200).body("settings.protocol", equalTo("http1"));
        patch("/pools/grpc", "{\"protocol\":\"H2C\"}").statusCode(200).body("settings.protocol", equalTo("h2c"));
    }

    @Test
    void shouldTakeH2ForHttpsServers() {
        post("/pools", "{\"name\":\"secure\",\"protocol\":\"h2\"}").statusCode(201).body("settings.protocol", equalTo("h2"));
        post("/pools/secure/servers", "{\"url\":\"https://127.0.0.1:8443\"}").statusCode(201);
        given().get("/pools/secure").then().body("settings.protocol", equalTo("h2"));
    }

    @ParameterizedTest(name = "shouldRefuse {0}")
    @CsvSource(delimiter = '~', value = {
            "{\"name\":\"grpc\",\"protocol\":\"http2\"}~protocol must be http1, h2 or h2c, not 'http2'",
            "{\"name\":\"grpc\",\"protocol\":7}~protocol",
            "{\"name\":\"grpc\",\"healthCheck\":{\"mode\":\"grpc\"}}~healthCheck.mode grpc needs protocol h2 or h2c",
            "{\"name\":\"grpc\",\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"tcp\"}}~healthCheck.mode must be http or grpc",
            "{\"name\":\"grpc\",\"protocol\":\"h2c\",\"healthCheck\":{\"grpcService\":\"a.B\"}}~healthCheck.grpcService goes with healthCheck.mode grpc",
            "{\"name\":\"grpc\",\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"grpc\",\"grpcService\":\"a b\"}}~healthCheck.grpcService must be a gRPC service name"})
    void shouldRefuseABadProtocolOrGrpcCheck(String json, String message) {
        Object before = pools();
        assertError(post("/pools", json), 400, "bad_request").body("message", containsString(message));
        assertEquals(before, pools(), "nothing may change");
    }

    @Test
    void shouldRefuseAServerOrAProtocolTheOtherCannotSpeak() {
        post("/pools", "{\"name\":\"grpc\",\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"grpc\"}}").statusCode(201);
        post("/pools/grpc/servers", "{\"url\":\"http://127.0.0.1:50051\"}").statusCode(201);
        Object before = pools();
        assertError(post("/pools/grpc/servers", "{\"url\":\"https://127.0.0.1:50052\"}"), 400, "bad_request")
                .body("message", equalTo("server https://127.0.0.1:50052: protocol h2c needs http:// servers (cleartext HTTP/2);"
                        + " use h2 for https:// servers"));
        assertError(patch("/pools/grpc", "{\"protocol\":\"h2\"}"), 400, "bad_request")
                .body("message", equalTo("server http://127.0.0.1:50051: protocol h2 needs https:// servers (HTTP/2 over TLS,"
                        + " agreed through ALPN); use h2c for http:// servers"));
        assertError(patch("/pools/grpc", "{\"protocol\":\"http1\"}"), 400, "bad_request")
                .body("message", containsString("healthCheck.mode grpc needs protocol h2 or h2c"));
        assertEquals(before, pools(), "nothing may change");

        post("/servers", "{\"url\":\"http://127.0.0.1:9\"}").statusCode(201);
        assertError(patch("/pools/default", "{\"protocol\":\"h2\"}"), 400, "bad_request")
                .body("message", containsString("server http://127.0.0.1:9: protocol h2 needs https:// servers"));
        given().get("/pools/default").then().body("settings.protocol", equalTo("http1"));
    }
}
