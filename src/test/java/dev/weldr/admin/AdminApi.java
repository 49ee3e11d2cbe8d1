package dev.weldr.admin;

import io.restassured.RestAssured;
import io.restassured.response.ValidatableResponse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.containsStringIgnoringCase;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** What every admin API test needs: a leader, an empty pool, and the shape of an error. */
public final class AdminApi {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private AdminApi() {
    }

    /**
     * Waits until this node is ready (the single node has elected itself leader), then removes
     * every server of the pool. The app is shared by all tests of a profile, so each test starts here.
     */
    public static void emptyPool() {
        awaitReady();
        List<Map<String, Object>> servers = given().get("/servers").then().statusCode(200)
                .extract().jsonPath().getList("servers");
        for (Map<String, Object> server : servers) {
            String self = selfLink(server);
            given().delete(self).then().statusCode(204);
        }
        assertEquals(List.of(), pool(), "the pool should be empty");
    }

    /** Waits until this node is ready, then deletes every route and every pool but the default one. */
    static void removeRoutesAndPools() {
        awaitReady();
        List<String> routes = given().get("/routes").then().statusCode(200).extract().jsonPath().getList("routes.name");
        routes.forEach(n -> given().delete("/routes/" + n).then().statusCode(204));
        List<String> pools = given().get("/pools").then().statusCode(200).extract().jsonPath().getList("pools.name");
        pools.stream().filter(n -> !n.equals("default")).forEach(n -> given().delete("/pools/" + n).then().statusCode(204));
    }

    static void awaitReady() {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (given().get("/q/health/ready").statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                fail("the node did not become ready (leader) within " + WAIT);
            }
            pause();
        }
    }

    /** Waits (up to a minute, for a loaded machine) for a condition that the node reaches on its own. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @SuppressWarnings("unchecked")
    private static String selfLink(Map<String, Object> server) {
        for (Map<String, Object> link : (List<Map<String, Object>>) server.get("links")) {
            if ("self".equals(link.get("rel"))) {
                return (String) link.get("href");
            }
        }
        throw new AssertionError("server without a self link: " + server);
    }

    /**
     * The pool as {@code GET /servers} lists it, without each server's {@code state}: the state is
     * this node's observation of the backend, not part of the pool.
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> pool() {
        List<Map<String, Object>> servers = given().get("/servers").then().statusCode(200)
                .extract().jsonPath().getList("servers");
        return servers.stream().map(s -> {
            Map<String, Object> copy = new LinkedHashMap<>(s);
            copy.remove("state");
            return (Map<String, Object>) copy;
        }).toList();
    }

    /**
     * A POST sent with the JDK's client, for what rest-assured cannot send: a chunked body (it
     * buffers streams and sends a Content-Length) or no Content-Type at all.
     */
    static HttpResponse<String> rawPost(String path, HttpRequest.BodyPublisher body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(RestAssured.baseURI + ":" + RestAssured.port + path))
                .timeout(Duration.ofSeconds(30))
                .POST(body);
        if (headers.length > 0) {
            request.headers(headers);
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Adds a server and checks that it was created. */
    static void add(String url) {
        given().contentType("application/json").body(json(url)).post("/servers").then().statusCode(201);
    }

    static String json(String url) {
        return "{\"url\": \"" + url + "\"}";
    }

    /** Checks an error answer: status, JSON content type, exactly {error, message}, no stack trace. */
    static ValidatableResponse assertError(ValidatableResponse response, int status, String code) {
        return response.statusCode(status)
                .contentType(containsString("application/json"))
                .body("$", aMapWithSize(2))
                .body("error", equalTo(code))
                .body("message", allOf(instanceOf(String.class), not(emptyString())))
                .body(noStackTrace());
    }

    /** The text of a Java stack trace, an exception's name or the JSON library's internals never reaches a client. */
    static org.hamcrest.Matcher<String> noStackTrace() {
        return allOf(not(containsString("Exception")), not(containsString("\tat ")), not(containsString("at java.")),
                not(containsString("at dev.weldr")), not(containsString("at io.")), not(containsStringIgnoringCase("jackson")),
                not(containsString("Caused by")));
    }
}
