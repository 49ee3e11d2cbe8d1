package dev.weldr.admin;

import dev.weldr.tls.LogCapture;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.weldr.admin.AdminApi.assertError;
import static dev.weldr.admin.AdminApi.json;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Named tokens from {@code weldr.admin.tokens-file}, beside {@code weldr.admin.token}: a read
 * token reads and changes nothing, an admin token does everything, the caller is known by the
 * token's name, and the file is read again when it changes, without a restart.
 */
@QuarkusTest
@TestProfile(ScopedTokensTest.WithTokensFile.class)
class ScopedTokensTest {

    // A fixed path: the class is loaded twice (by JUnit and by Quarkus), and both must name the same file.
    static final Path FILE = Path.of("target", "test-tokens", "ScopedTokensTest", "tokens").toAbsolutePath();
    private static final String LEGACY = "s3cret";
    private static final String OPS = "ops-0123456789abcdef";
    private static final String GRAFANA = "grafana-0123456789abcdef";
    private static final String CI = "ci-0123456789abcdef";
    private static final String CONTENT = """
            # tokens of the tests
            ops:admin:%s
            grafana:read:%s
            ci:admin:sha256:%s
            """.formatted(OPS, GRAFANA, HexFormat.of().formatHex(TokenFile.sha256(CI)));

    public static class WithTokensFile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            write(CONTENT);
            return Map.of("weldr.admin.token", LEGACY, "weldr.admin.tokens-file", FILE.toString(),
                    "weldr.admin.tokens-reload-interval", "200ms");
        }
    }

    private static TestBackend backend;
    private static TestBackend other;

    @BeforeAll
    static void startBackends() {
        backend = TestBackend.start();
        other = TestBackend.start();
    }

    @AfterAll
    static void stopBackends() {
        backend.close();
        other.close();
    }

    @BeforeEach
    void startFromTheFileAndAPoolOfOneServer() {
        write(CONTENT);
        AdminApi.await("the tokens of the file are in use", () -> status("GET", "/servers", GRAFANA) == 200
                && status("GET", "/servers", CI) == 200);
        asAdmin(() -> {
            AdminApi.removeRoutesAndPools();
            AdminApi.emptyPool();
            AdminApi.add(backend.url());
            return null;
        });
    }

    @AfterEach
    void forgetTheToken() {
        RestAssured.requestSpecification = null;
    }

    @ParameterizedTest(name = "shouldLetAReadTokenRead: {0}")
    @ValueSource(strings = {"/servers", "/pools", "/pools/default", "/pools/default/servers", "/routes", "/certificates",
            "/stats", "/stats/detail", "/cluster", "/audit", "/events", "/tokens/self"})
    void shouldLetAReadTokenRead(String path) {
        as(GRAFANA).get(path).then().statusCode(200);
        as(GRAFANA).head(path).then().statusCode(200);
    }

    @Test
    void shouldRefuseEveryChangeWithAReadTokenNamingItAndChangeNothing() {
        List<Map<String, Object>> before = asAdmin(AdminApi::pool);

        forbidden(as(GRAFANA).contentType("application/json").body(json(other.url())).post("/servers"), "POST");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"weight\":7}")
                .patch("/servers/127.0.0.1/" + backend.port()), "PATCH");
        forbidden(as(GRAFANA).delete("/servers/127.0.0.1/" + backend.port()), "DELETE");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"name\":\"api\"}").post("/pools"), "POST");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"limits\":{\"retries\":3}}").patch("/pools/default"),
                "PATCH");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"pool\":\"default\"}").put("/routes/all"), "PUT");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"acme\":{\"names\":[\"shop.example\"]}}")
                .put("/certificates/shop"), "PUT");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"peer\":\"127.0.0.1:1\"}").post("/cluster/peers"), "POST");
        forbidden(as(GRAFANA).contentType("application/json").body("{\"peer\":\"127.0.0.1:1\"}").post("/cluster/leader"), "POST");

        assertEquals(before, asAdmin(AdminApi::pool));
        as(GRAFANA).get("/pools/default").then().statusCode(200).body("settings.limits.retries", equalTo(1));
        as(GRAFANA).get("/routes").then().statusCode(200).body("routes", org.hamcrest.Matchers.empty());
        as(GRAFANA).get("/certificates").then().statusCode(200).body("certificates", org.hamcrest.Matchers.empty());
    }

    @ParameterizedTest(name = "shouldLetEveryAdminTokenChangeThePool: {0}")
    @ValueSource(strings = {LEGACY, OPS, CI})
    void shouldLetEveryAdminTokenChangeThePool(String token) {
        as(token).contentType("application/json").body(json(other.url())).post("/servers").then().statusCode(201);
        as(token).delete("/servers/127.0.0.1/" + backend.port()).then().statusCode(204);

        as(GRAFANA).get("/servers").then().statusCode(200).body("servers.url", equalTo(List.of(other.url())));
    }

    @Test
    void shouldRefuseAnUnknownOrMissingTokenWith401() {
        for (String token : List.of("nope-0123456789abcdef", GRAFANA + "x", "sha256:" + HexFormat.of().formatHex(TokenFile.sha256(CI)))) {
            assertError(as(token).get("/servers").then(), 401, "unauthorized");
        }
        assertError(given().get("/servers").then(), 401, "unauthorized");
        assertError(given().get("/events").then(), 401, "unauthorized");
    }

    @Test
    void shouldKnowTheCallerByTheNameOfItsToken() {
        as(LEGACY).get("/stats/caller-for-tests").then().statusCode(200).body(equalTo("admin"));
        as(OPS).post("/stats/caller-for-tests").then().statusCode(200).body(equalTo("ops"));
        as(CI).post("/stats/caller-for-tests").then().statusCode(200).body(equalTo("ci"));
        as(GRAFANA).get("/stats/caller-for-tests").then().statusCode(200).body(equalTo("grafana"));
        forbidden(as(GRAFANA).post("/stats/caller-for-tests"), "POST");
    }

    @Test
    void shouldTellEachTokenItsNameAndScopeAndNoOneWithoutAToken() {
        as(GRAFANA).get("/tokens/self").then().statusCode(200)
                .body("name", equalTo("grafana")).body("scope", equalTo("read"))
                .body("size()", equalTo(2));
        as(OPS).get("/tokens/self").then().statusCode(200).body("name", equalTo("ops")).body("scope", equalTo("admin"));
        as(LEGACY).get("/tokens/self").then().statusCode(200).body("name", equalTo("admin")).body("scope", equalTo("admin"));
        assertError(given().get("/tokens/self").then(), 401, "unauthorized");
        assertError(as("nope-0123456789abcdef").get("/tokens/self").then(), 401, "unauthorized");
    }

    @Test
    void shouldServeTheDashboardWithoutAToken() {
        // The page holds no data: what it shows comes from the API, with the token the user gives it.
        given().get("/ui/").then().statusCode(200).body(containsString("id=\"token-form\""));
        given().get("/ui/ui.js").then().statusCode(200);
        given().get("/ui/ui.css").then().statusCode(200);
    }

    @Test
    void shouldUseAnEditedFileWithoutRestart() {
        String newbie = "newbie-0123456789abcdef";
        try (LogCapture log = LogCapture.of(AdminTokens.class)) {
            write("""
                    ops:admin:%s
                    newbie:read:%s
                    """.formatted(OPS, newbie));

            AdminApi.await("grafana's token stops working and newbie's works",
                    () -> status("GET", "/servers", GRAFANA) == 401 && status("GET", "/servers", newbie) == 200);
            assertEquals(401, status("GET", "/servers", CI));
            assertEquals(200, status("GET", "/servers", OPS));
            assertEquals(200, status("GET", "/servers", LEGACY));
            assertEquals(403, status("DELETE", "/servers/127.0.0.1/" + backend.port(), newbie));
            assertTrue(log.lines().contains("INFO loaded 3 admin tokens from " + FILE + ": admin (admin), ops (admin), newbie (read)"),
                    log.lines().toString());
            assertFalse(log.lines().toString().contains(newbie) || log.lines().toString().contains(OPS), "no secret in the log");
        }
    }

    @Test
    void shouldKeepTheTokensInUseWhenAnEditDoesNotParseAndSayWhyOnce() {
        try (LogCapture log = LogCapture.of(AdminTokens.class)) {
            write(CONTENT + "grafana:admin:another-0123456789abcdef\n");
            AdminApi.await("an error line", () -> errors(log).size() == 1);
            assertEquals("ERROR weldr.admin.tokens-file: " + FILE + " line 5 (token 'grafana'): the name is already given by "
                    + "line 3 (token 'grafana'); the 4 tokens loaded before stay in use", errors(log).get(0));

            // For several reload periods the file stays as it is: the old tokens keep working, and nothing more is said.
            long until = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < until) {
                assertEquals(200, status("GET", "/servers", GRAFANA));
                assertEquals(403, status("POST", "/stats/caller-for-tests", GRAFANA));
                assertEquals(200, status("POST", "/stats/caller-for-tests", CI));
            }
            assertEquals(1, errors(log).size(), log.lines().toString());
            assertFalse(log.lines().toString().contains("another-0123456789abcdef"), "no secret in the log");

            delete();
            AdminApi.await("a second error line", () -> errors(log).size() == 2);
            assertEquals("ERROR weldr.admin.tokens-file: " + FILE + " cannot be read (no such file); "
                    + "the 4 tokens loaded before stay in use", errors(log).get(1));
            assertEquals(200, status("GET", "/servers", GRAFANA));
        }
    }

    private static List<String> errors(LogCapture log) {
        return log.lines().stream().filter(l -> l.startsWith("ERROR")).toList();
    }

    private static void forbidden(io.restassured.response.Response response, String method) {
        assertError(response.then(), 403, "forbidden")
                .body("message", allOf(containsString("'grafana'"), containsString("may only read"), containsString(method)));
    }

    private static int status(String method, String path, String token) {
        return as(token).request(method, path).statusCode();
    }

    private static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    private static <T> T asAdmin(Supplier<T> helper) {
        RestAssured.requestSpecification = given().auth().oauth2(OPS);
        try {
            return helper.get();
        } finally {
            RestAssured.requestSpecification = null;
        }
    }

    private static void write(String content) {
        try {
            Files.createDirectories(FILE.getParent());
            // Replaced whole, as a Kubernetes Secret volume is: never read half-written.
            Path next = FILE.resolveSibling("tokens.next");
            Files.writeString(next, content);
            Files.move(next, FILE, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete() {
        try {
            Files.deleteIfExists(FILE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
