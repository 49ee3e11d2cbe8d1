package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code weldr.timeout.drain} expiring: the removal of a server waits for this node's requests in
 * flight to it, but no longer than the drain timeout; the request itself is not cut off.
 */
@QuarkusTest
@TestProfile(DrainTimeoutTest.ShortDrain.class)
class DrainTimeoutTest extends ProxyTestBase {

    private static final long DRAIN_MS = 800;

    public static class ShortDrain implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // The backend's answer may take longer than the drain: only the drain may end the wait.
            return Map.of("weldr.timeout.drain", DRAIN_MS + "ms", "weldr.timeout.read", "60s");
        }
    }

    @Test
    void shouldAnswerARemovalAfterTheDrainTimeoutWhileTheRequestStillRuns() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                release.thenRun(() -> backendVertx.runOnContext(v -> response.end("late")))));
        addServer(slow.port());
        RawHttp held = connect();
        held.sendHead("GET /held HTTP/1.1", "Host: weldr.test");
        await("the request to reach the backend", () -> slow.requestCount() == 1);

        long start = System.nanoTime();
        Response removal = given().delete("/servers/127.0.0.1/" + slow.port());
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        try {
            assertEquals(204, removal.statusCode(), removal.asString());
            assertTrue(tookMs >= DRAIN_MS, "the removal waited for the request in flight, up to the drain timeout: " + tookMs + " ms");
            assertFalse(release.isDone());
            assertEquals(404, given().get("/servers/127.0.0.1/" + slow.port()).statusCode(), "the server is gone");
        } finally {
            release.complete(null);
        }
        RawHttp.Response late = held.read(false);
        assertEquals(200, late.status(), "the request outlived the drain and still got its answer");
        assertEquals("late", new String(late.body(), java.nio.charset.StandardCharsets.UTF_8));
    }
}
