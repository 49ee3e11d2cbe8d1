package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests go to the active servers of the pool in turn. */
@QuarkusTest
class RoundRobinTest extends ProxyTestBase {

    @Test
    void shouldSpreadRequestsEvenlyOverThreeBackends() throws Exception {
        List<TestBackend> backends = List.of(backend(), backend(), backend());
        for (TestBackend b : backends) {
            addServer(b.port());
        }
        RawHttp client = connect();
        int requests = 30;
        for (int i = 0; i < requests; i++) {
            assertEquals(200, client.get("/rr/" + i).status());
        }

        int total = 0;
        for (TestBackend b : backends) {
            int share = b.requestCount();
            total += share;
            assertTrue(Math.abs(share - requests / backends.size()) <= 1,
                    "backend " + b.id() + " got " + share + " of " + requests + " requests");
        }
        assertEquals(requests, total);
    }
}
