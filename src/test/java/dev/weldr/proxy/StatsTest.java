package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code /stats} and {@code /stats/detail} move by exactly what the proxy did. The client
 * counters are updated once the response has been written, which can be a moment after the
 * client has read it: the tests wait for the counters to get there, then check nothing else moved.
 */
@QuarkusTest
class StatsTest extends ProxyTestBase {

    private record Totals(long clientSuccess, long clientFailed, long serverSuccess, long serverFailed) {
        static Totals now() {
            JsonPath json = given().get("/stats").then().statusCode(200).extract().jsonPath();
            return new Totals(json.getLong("client.success"), json.getLong("client.failed"),
                    json.getLong("server.success"), json.getLong("server.failed"));
        }

        Totals minus(Totals before) {
            return new Totals(clientSuccess - before.clientSuccess, clientFailed - before.clientFailed,
                    serverSuccess - before.serverSuccess, serverFailed - before.serverFailed);
        }
    }

    private static Totals awaitDelta(Totals before, Totals expected) {
        await("the client counters of /stats moved by " + expected, () -> {
            Totals delta = Totals.now().minus(before);
            return delta.clientSuccess() >= expected.clientSuccess() && delta.clientFailed() >= expected.clientFailed();
        });
        return Totals.now().minus(before);
    }

    @Test
    void shouldCountEveryAnsweredRequestAsASuccess() throws Exception {
        TestBackend live = backend();
        addServer(live.port());
        RawHttp client = connect();
        Totals before = Totals.now();

        int n = 5;
        for (int i = 0; i < n; i++) {
            assertEquals(200, client.get("/ok/" + i).status());
        }

        assertEquals(new Totals(n, 0, n, 0), awaitDelta(before, new Totals(n, 0, n, 0)));
        assertEquals(n, serverCount(live.id(), "success"));
        assertEquals(0, serverCount(live.id(), "failed"));
    }

    @Test
    void shouldCountEvery502AsAFailure() throws Exception {
        // Resets every proxied request but passes health checks: every request is a 502, the
        // retry finding no other server, and the server stays active throughout.
        ResettingBackend resetting = closeLater(new ResettingBackend());
        addServer(resetting.port());
        RawHttp client = connect();
        Totals before = Totals.now();

        int m = 3;
        for (int i = 0; i < m; i++) {
            assertEquals(502, client.get("/reset/" + i).status());
        }

        assertEquals(new Totals(0, m, 0, m), awaitDelta(before, new Totals(0, m, 0, m)));
        assertEquals(0, serverCount(resetting.id(), "success"));
        assertEquals(m, serverCount(resetting.id(), "failed"));
        assertEquals(m, resetting.seen().size(), "each request reached the server once");
    }

    @Test
    void shouldCountAResponseCutMidBodyAsAFailureOnBothSides() throws Exception {
        // The backend promises 100 bytes, sends 10 and closes: the client gets a broken answer,
        // which is neither the client's success nor the server's.
        TestBackend cutting = backend(TestBackend.options().raw(request -> {
            request.response().putHeader("content-length", "100").write("0123456789");
            request.connection().close();
        }));
        addServer(cutting.port());
        Totals before = Totals.now();

        RawHttp client = connect().readTimeout(java.time.Duration.ofSeconds(10));
        client.sendHead("GET /cut HTTP/1.1", "Host: weldr.test");
        RawHttp.Head head = client.readHead();
        assertEquals(200, head.status());
        byte[] rest = client.in().readAllBytes();
        org.junit.jupiter.api.Assertions.assertTrue(rest.length < 100, "the body was cut: " + rest.length + " bytes");

        assertEquals(new Totals(0, 1, 0, 1), awaitDelta(before, new Totals(0, 1, 0, 1)));
        assertEquals(0, serverCount(cutting.id(), "success"));
        assertEquals(1, serverCount(cutting.id(), "failed"));
    }
}
