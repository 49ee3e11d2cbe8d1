package dev.weldr.admin;

import io.quarkus.test.junit.QuarkusTest;
import dev.weldr.proxy.ProxyServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.weldr.admin.AdminApi.add;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.instanceOf;

/**
 * {@code GET /stats} and {@code GET /stats/detail}: their shape, one detail per server of the pool,
 * and that what the proxy does is counted.
 */
@QuarkusTest
class StatsResourceTest {

    @Inject
    ProxyServer proxy;

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
    void shouldGiveClientAndServerCounters() {
        given().get("/stats").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", aMapWithSize(2))
                .body("client.keySet()", containsInAnyOrder("success", "failed"))
                .body("server.keySet()", containsInAnyOrder("success", "failed"))
                .body("client.success", instanceOf(Number.class))
                .body("client.success.toLong()", greaterThanOrEqualTo(0L))
                .body("client.failed.toLong()", greaterThanOrEqualTo(0L))
                .body("server.success.toLong()", greaterThanOrEqualTo(0L))
                .body("server.failed.toLong()", greaterThanOrEqualTo(0L));
    }

    @Test
    void shouldGiveNoDetailForAnEmptyPool() {
        given().get("/stats/detail").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", empty());
    }

    @Test
    void shouldGiveOneDetailPerServerOfThePool() {
        add(one.url());
        add(two.url());

        given().get("/stats/detail").then()
                .statusCode(200)
                .contentType("application/json")
                .body("$", hasSize(2))
                .body("id", contains("127.0.0.1:" + one.port(), "127.0.0.1:" + two.port()))
                .body("ip", contains("127.0.0.1", "127.0.0.1"))
                .body("port", contains(one.port(), two.port()))
                .body("pool", contains("default", "default"))
                .body("success", everyItem(instanceOf(Number.class)))
                .body("failed", everyItem(instanceOf(Number.class)))
                .body("findAll { it.success < 0 || it.failed < 0 }", empty())
                .body("state", contains("active", "active"))
                .body("ejected", contains(false, false))
                .body("inFlight", contains(0, 0))
                .body("collect { it.keySet() }", everyItem(containsInAnyOrder("id", "ip", "port", "pool", "success", "failed",
                        "state", "ejected", "ejectedUntil", "inFlight", "latency")))
                .body("ejectedUntil", contains(null, null))
                .body("latency.boundsMs", everyItem(contains(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)))
                .body("latency.counts", everyItem(hasSize(14)))
                .body("latency.counts.flatten().sum()", equalTo(0));

        given().contentType("application/json").body("{\"draining\": true}").patch("/servers/127.0.0.1/" + two.port())
                .then().statusCode(200);
        given().get("/stats/detail").then()
                .body("state", contains("active", "draining"));

        given().delete("/servers/127.0.0.1/" + one.port()).then().statusCode(204);

        given().get("/stats/detail").then()
                .statusCode(200)
                .body("id", contains("127.0.0.1:" + two.port()));
    }

    @Test
    void shouldCountARequestForwardedToAServer() {
        add(one.url());
        add(two.url());
        long clientSuccess = counter("client.success");
        long serverSuccess = counter("server.success");

        given().port(proxy.port()).get("/anything").then().statusCode(200).body(equalTo("ok"));

        // The counters are updated as the response ends, so they may trail the client by a moment.
        AdminApi.await("the forwarded request is counted", () -> counter("client.success") == clientSuccess + 1
                && counter("server.success") == serverSuccess + 1);
        given().get("/stats/detail").then()
                .body("success.sum()", equalTo(1))
                .body("failed.sum()", equalTo(0));
        // Timed just after it is counted, on the proxy's thread.
        AdminApi.await("the request is timed, in one bucket", () -> given().get("/stats/detail").then().extract()
                .jsonPath().getInt("latency.counts.flatten().sum()") == 1);
    }

    @Test
    void shouldCountARequestInFlightUntilItsAnswerEnds() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CountDownLatch release = new CountDownLatch(1);
            // /slow: a body that trickles a byte every 100 ms (so no read timeout fires) until released.
            Thread acceptor = new Thread(() -> backend(socket, "/slow", (connection, out) -> {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                while (!release.await(100, TimeUnit.MILLISECONDS)) {
                    out.write('x');
                    out.flush();
                }
            }), "slow-backend");
            acceptor.setDaemon(true);
            acceptor.start();
            add("http://127.0.0.1:" + socket.getLocalPort());
            HttpClient client = HttpClient.newHttpClient();
            CompletableFuture<HttpResponse<Void>> answer = client.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/slow")).build(),
                    HttpResponse.BodyHandlers.discarding());

            AdminApi.await("the request is in flight", () -> inFlight() == 1);
            release.countDown();
            AdminApi.await("the request is no longer in flight", () -> inFlight() == 0);
            answer.handle((r, e) -> null).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldTimeARetriedRequestOnTheServerThatAnsweredFromItsRetry() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // /retried: held 0.6 s (under the test read timeout), then the connection is reset.
            AtomicInteger reset = new AtomicInteger();
            Thread acceptor = new Thread(() -> backend(socket, "/retried", (connection, out) -> {
                reset.incrementAndGet();
                // Behaviour of the backend, not synchronisation: the time the retried request must not carry.
                new CountDownLatch(1).await(600, TimeUnit.MILLISECONDS);
                connection.setSoLinger(true, 0);
            }), "resetting-backend");
            acceptor.setDaemon(true);
            acceptor.start();
            String resetting = "127.0.0.1:" + socket.getLocalPort();
            add("http://" + resetting);
            add(two.url());

            // Whatever server the pool starts with, requests go on until one went to the resetting
            // server first, was held there 0.6 s and reset, and was retried on the other.
            int sent = 0;
            while (reset.get() == 0 && sent < 20) {
                given().port(proxy.port()).get("/retried").then().statusCode(200);
                sent++;
            }
            org.hamcrest.MatcherAssert.assertThat("a request reached the resetting server", reset.get(), greaterThanOrEqualTo(1));

            String answered = "127.0.0.1:" + two.port();
            int expected = sent;
            AdminApi.await("every request is timed on the server that answered", () -> given().get("/stats/detail")
                    .then().extract().jsonPath().getLong("find { it.id == '" + answered + "' }.latency.counts.sum()") == expected);
            var detail = given().get("/stats/detail").then().extract().jsonPath();
            long[] counts = detail.getList("find { it.id == '" + answered + "' }.latency.counts", Long.class)
                    .stream().mapToLong(Long::longValue).toArray();
            java.util.List<Integer> bounds = detail.getList("[0].latency.boundsMs", Integer.class);
            long slow = 0;
            for (int b = bounds.indexOf(500) + 1; b < counts.length; b++) {
                slow += counts[b];
            }
            org.hamcrest.MatcherAssert.assertThat("the 0.6 s spent on the server that reset is not its", slow, equalTo(0L));
            org.hamcrest.MatcherAssert.assertThat("the server that reset answered nothing, so timed nothing",
                    detail.getLong("find { it.id == '" + resetting + "' }.latency.counts.sum()"), equalTo(0L));
        }
    }

    private static int inFlight() {
        return given().get("/stats/detail").then().statusCode(200).extract().jsonPath().getInt("[0].inFlight");
    }

    /** What a {@link #backend} does with a request for its one special path. */
    private interface Special {
        /** Answers (or not) on {@code connection}; the connection ends when this returns. */
        void serve(Socket connection, OutputStream out) throws IOException, InterruptedException;
    }

    /**
     * Answers health checks and every other path at once with "ok"; hands a request for
     * {@code path} to {@code special}. No request here has a body.
     */
    private static void backend(ServerSocket socket, String path, Special special) {
        while (!socket.isClosed()) {
            Socket connection;
            try {
                connection = socket.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> {
                try (connection) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.ISO_8859_1));
                    OutputStream out = connection.getOutputStream();
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        String target = line.split(" ").length > 1 ? line.split(" ")[1] : "";
                        for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                            // the head is read
                        }
                        if (target.equals(path)) {
                            special.serve(connection, out);
                            return;
                        }
                        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the proxy closed the connection: nothing more to serve
                }
            }, "test-backend-connection");
            t.setDaemon(true);
            t.start();
        }
    }

    @Test
    void shouldCountARequestTheProxyAnsweredItselfAsFailed() {
        long clientFailed = counter("client.failed");

        given().port(proxy.port()).get("/").then().statusCode(503);

        AdminApi.await("the refused request is counted", () -> counter("client.failed") == clientFailed + 1);
    }

    private static long counter(String path) {
        return ((Number) given().get("/stats").then().statusCode(200).extract().path(path)).longValue();
    }
}
