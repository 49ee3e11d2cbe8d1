package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code weldr.proxy.max-connections} (HAProxy's {@code maxconn}), four here: a connection past
 * it is closed as soon as it is accepted and counted, the admin API and health keep answering,
 * and a place freed is taken again.
 */
@QuarkusTest
@TestProfile(ConnectionLimitTest.FourClients.class)
class ConnectionLimitTest extends ProxyTestBase {

    private static final int CAP = 4;

    public static class FourClients implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("weldr.proxy.max-connections", Integer.toString(CAP));
        }
    }

    @Test
    void shouldCloseConnectionsPastTheCapAtOnceAndKeepTheAdminApiAnswering() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        await("no client connection of an earlier test still open", () -> sample("weldr_client_connections") == 0);
        assertEquals(CAP, sample("weldr_client_connections_max"));
        double refusedBefore = sample("weldr_connections_refused_total");
        List<RawHttp> clients = new ArrayList<>();
        for (int i = 0; i < CAP; i++) {
            RawHttp client = connect();
            assertEquals(200, client.get("/" + i).status());
            clients.add(client);
        }

        RawHttp extra = connect().readTimeout(WAIT);

        assertEquals(-1, readOrEnd(extra), "closed at once, without an answer");
        assertEquals(refusedBefore + 1, sample("weldr_connections_refused_total"));
        assertEquals(CAP, sample("weldr_client_connections"));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/servers").then().statusCode(200);
        for (RawHttp client : clients) {
            assertEquals(200, client.get("/still-served").status());
        }

        clients.get(0).close();
        await("the closed connection's place is free", () -> sample("weldr_client_connections") == CAP - 1);
        assertEquals(200, connect().get("/in-its-place").status());
    }

    @Test
    void shouldLeaveHalfOfWhatTheReserveLeavesOfTheOpenFilesLimitForBackendConnections() {
        assertEquals(4, ProxyServer.maxConnections(4, 20_000));
        assertEquals((20_000 - 1024) / 2, ProxyServer.maxConnections(0, 20_000));
        assertEquals((1024 - 256) / 2, ProxyServer.maxConnections(0, 1024));
        assertEquals((4096 - 1024) / 2, ProxyServer.maxConnections(0, -1), "an unknown limit counts as 4,096");
    }

    /** The value of a sample without labels in {@code /q/metrics}. */
    private static double sample(String name) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        if (!m.find()) {
            throw new AssertionError(name + " is not in /q/metrics");
        }
        return Double.parseDouble(m.group(1));
    }

    private static int readOrEnd(RawHttp client) throws IOException {
        try {
            return client.in().read();
        } catch (SocketException reset) {
            return -1;
        }
    }
}
