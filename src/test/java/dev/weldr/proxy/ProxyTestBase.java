package dev.weldr.proxy;

import dev.weldr.config.WeldrConfig;
import dev.weldr.it.WeldrProcess;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every data-plane test needs. All {@code @QuarkusTest} classes share one running node, so
 * each test starts from an empty pool and stops every backend it started; backends run on a
 * Vert.x instance of their own, so that the system under test and its backends never share an
 * event loop.
 */
abstract class ProxyTestBase {

    /** Generous bound for conditions the node reaches on its own; never reached when things work. */
    static final Duration WAIT = Duration.ofSeconds(20);

    static Vertx backendVertx;

    @Inject
    ProxyServer proxyServer;
    @Inject
    WeldrConfig config;

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    @BeforeAll
    static void startBackendVertx() {
        backendVertx = Vertx.vertx();
    }

    @AfterAll
    static void stopBackendVertx() throws Exception {
        if (backendVertx == null) {
            return;
        }
        backendVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        backendVertx = null;
    }

    private static boolean warmedUp;

    @BeforeEach
    void startFromAnEmptyPool() throws Exception {
        awaitReady();
        emptyPool();
        warmUpOnce();
    }

    /**
     * The first proxied requests of the JVM load and compile the proxy's code path and open its
     * first backend connections, which takes a while. Done once before the first test, so that
     * no test's timing (a timeout measured, a dead server tried before its health checks fail)
     * depends on whether it runs first.
     */
    private void warmUpOnce() throws Exception {
        if (warmedUp) {
            return;
        }
        try (TestBackend backend = TestBackend.ok(backendVertx)) {
            addServer(backend.port());
            // Connected once the pool is ready: a class may run with a short client-head timeout.
            try (RawHttp client = RawHttp.connect(proxyPort())) {
                for (int i = 0; i < 20; i++) {
                    client.get("/warm-up");
                    client.sendHead("POST /warm-up HTTP/1.1", "Host: weldr.test", "Content-Length: 2").send("hi").read(false);
                }
            }
            removeServer(backend.port());
        }
        warmedUp = true;
    }

    /**
     * Closes the test's clients and backends first, and only then empties the pool: a removal
     * waits for the server's requests in flight, up to {@code weldr.timeout.drain} (30 s, as long
     * as the test client's read timeout), so a request the test left under way (a stream whose
     * client does not read) would hold the DELETE for the whole drain and race that timeout.
     */
    @AfterEach
    void stopEverythingThisTestStarted() throws Exception {
        Exception first = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        try {
            await("no request in flight once the test's clients and backends are closed", () -> inFlight().isEmpty());
        } catch (AssertionError e) {
            AssertionError named = new AssertionError(e.getMessage() + "; in flight: " + inFlight());
            if (first != null) {
                named.addSuppressed(first);
            }
            throw named;
        }
        emptyPool();
        if (first != null) {
            throw first;
        }
    }

    /** The servers with requests in flight on this node, as {@code GET /stats/detail} counts them. */
    static Map<String, Integer> inFlight() {
        List<Map<String, Object>> servers = given().get("/stats/detail").then().statusCode(200)
                .extract().jsonPath().getList("$");
        Map<String, Integer> busy = new java.util.TreeMap<>();
        for (Map<String, Object> server : servers) {
            int n = ((Number) server.get("inFlight")).intValue();
            if (n != 0) {
                busy.put(server.get("pool") + "/" + server.get("id"), n);
            }
        }
        return busy;
    }

    /** Closes the resource after the test, in reverse order of registration. */
    <T extends AutoCloseable> T closeLater(T resource) {
        resources.push(resource);
        return resource;
    }

    // ---- the proxy --------------------------------------------------------------------------

    int proxyPort() {
        int port = proxyServer.port();
        if (port <= 0) {
            fail("the proxy does not listen");
        }
        return port;
    }

    int tlsPort() {
        int port = proxyServer.tlsPort();
        if (port <= 0) {
            fail("the HTTPS listener does not listen");
        }
        return port;
    }

    /** A plain socket to the HTTPS listener, for bytes no TLS client library would send. */
    java.net.Socket raw() throws IOException {
        java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), tlsPort());
        s.setSoTimeout(30_000);
        return s;
    }

    /** Everything the server sends until it closes the connection (a reset counts as closed). */
    static byte[] readUntilClosed(java.net.Socket s) throws IOException {
        java.io.InputStream in = s.getInputStream();
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                got.write(buf, 0, n);
            }
        } catch (java.net.SocketTimeoutException e) {
            fail("the server kept the connection open for 30 s");
        } catch (java.net.SocketException e) {
            // reset
        }
        return got.toByteArray();
    }

    /** Deletes every stored certificate: tests that upload some call it after each test. */
    static void removeEveryCertificate() {
        for (String name : given().get("/certificates").then().statusCode(200).extract().jsonPath().<String>getList("certificates.name")) {
            given().delete("/certificates/" + name).then().statusCode(204);
        }
    }

    /** A new client connection to the proxy, closed after the test. */
    RawHttp connect() throws IOException {
        return closeLater(RawHttp.connect(proxyPort()));
    }

    // ---- backends ---------------------------------------------------------------------------

    /** A backend answering {@code 200 ok} to everything, health checks included. */
    TestBackend backend() throws Exception {
        return closeLater(TestBackend.ok(backendVertx));
    }

    TestBackend backend(TestBackend.Options options) throws Exception {
        return closeLater(TestBackend.start(backendVertx, options));
    }

    /** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
    static int deadPort() throws IOException {
        // Not new ServerSocket(0): two calls could be given the same port (a pool refuses the second
        // server as a duplicate), and a port of the ephemeral range can become some outgoing
        // connection's local port meanwhile. freePort never hands out a port twice, and stays below that range.
        return WeldrProcess.freePort();
    }

    // ---- the pool, through the admin API ----------------------------------------------------

    static void addServer(int port) {
        given().contentType("application/json")
                .body("{\"url\":\"http://127.0.0.1:" + port + "\"}")
                .post("/servers")
                .then().statusCode(201);
    }

    static void removeServer(int port) {
        given().delete("/servers/127.0.0.1/" + port).then().statusCode(204);
    }

    static String state(int port) {
        return given().get("/servers/127.0.0.1/" + port).then().statusCode(200)
                .extract().jsonPath().getString("state");
    }

    static void awaitState(int port, String state) {
        await("server 127.0.0.1:" + port + " is " + state, () -> state.equals(state(port)));
    }

    /** Deletes every route and every pool but the default one (tests that make them call this). */
    static void removeRoutesAndExtraPools() {
        io.restassured.path.json.JsonPath routes = given().get("/routes").then().statusCode(200).extract().jsonPath();
        routes.<String>getList("routes.name").forEach(n -> given().delete("/routes/" + n).then().statusCode(204));
        io.restassured.path.json.JsonPath pools = given().get("/pools").then().statusCode(200).extract().jsonPath();
        pools.<String>getList("pools.name").stream().filter(n -> !n.equals("default"))
                .forEach(n -> given().delete("/pools/" + n).then().statusCode(204));
    }

    /** Every test starts with an empty default pool ({@link dev.weldr.admin.AdminApi#emptyPool}). */
    static void emptyPool() {
        dev.weldr.admin.AdminApi.emptyPool();
    }

    /** A counter of one server in {@code GET /stats/detail}: {@code success} or {@code failed}. */
    static long serverCount(String id, String counter) {
        List<Map<String, Object>> servers = given().get("/stats/detail").then().statusCode(200)
                .extract().jsonPath().getList("$");
        for (Map<String, Object> server : servers) {
            if (id.equals(server.get("id"))) {
                return ((Number) server.get(counter)).longValue();
            }
        }
        throw new AssertionError("server " + id + " is not in /stats/detail: " + servers);
    }

    static void awaitReady() {
        await("the node is ready (it elected itself leader)",
                () -> given().get("/q/health/ready").statusCode() == 200);
    }

    // ---- waiting for a condition ------------------------------------------------------------

    static void await(String what, BooleanSupplier condition) {
        await(what, WAIT, condition);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting until " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}
