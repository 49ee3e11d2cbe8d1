package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connections to backends are kept alive and reused. */
@QuarkusTest
class KeepAliveTest extends ProxyTestBase {

    @Test
    void shouldReuseBackendConnectionsForSequentialRequests() throws Exception {
        // The backend numbers every connection it accepts (HttpServer.connectionHandler) and
        // notes which ones carried proxied requests; weldr's health checks open connections of
        // their own, one per check, and are left out.
        Set<Integer> proxiedConnections = ConcurrentHashMap.newKeySet();
        TestBackend[] self = new TestBackend[1];
        self[0] = backend(TestBackend.options().raw(request -> {
            proxiedConnections.add(self[0].connectionOf(request));
            request.response().end("ok");
        }));
        addServer(self[0].port());
        RawHttp client = connect();

        int requests = 20;
        for (int i = 0; i < requests; i++) {
            assertEquals(200, client.get("/keep-alive/" + i).status());
        }

        assertTrue(proxiedConnections.size() <= 2,
                requests + " sequential requests reached the backend over " + proxiedConnections.size() + " connections");
        assertTrue(self[0].connectionsAccepted() >= proxiedConnections.size());
    }

    @Test
    void shouldCloseCachedConnectionsToAServerAsSoonAsItLeavesThePool() throws Exception {
        TestBackend backend = backend(TestBackend.options());
        addServer(backend.port());
        // Clients on their own connections land on every event loop: each caches one to the backend.
        for (int i = 0; i < 4; i++) {
            try (RawHttp client = connect()) {
                assertEquals(200, client.get("/cached/" + i).status());
            }
        }
        assertTrue(backend.openConnections() >= 1, "a connection kept for the next request");

        removeServer(backend.port());

        // Well before the 30 s an idle connection is otherwise kept: the server's descriptors come back.
        await("the removed server's cached connections closed", Duration.ofSeconds(5), () -> backend.openConnections() == 0);
    }
}
