package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 502 when a backend refuses the connection or resets it before a response, and the one retry
 * on another server: always when nothing was sent (connect failure), and after a reset only
 * for an idempotent request without a body.
 *
 * A dead port fails weldr's health checks too, and after enough of them the server is marked
 * down (then the proxy answers 503 or skips it): the tests that use one send their requests
 * right after adding it, well within the consecutive failures the checker needs.
 */
@QuarkusTest
class BackendFailureTest extends ProxyTestBase {

    @Test
    void shouldAnswer502WhenTheOnlyServerRefusesConnections() throws Exception {
        RawHttp client = connect();
        addServer(deadPort());

        RawHttp.Response response = client.get("/anything");

        assertEquals(502, response.status());
        NoActiveServerTest.assertShortPlainText(response);
    }

    @Test
    void shouldRetryGetRequestsOnAnotherServerWhenOneRefusesConnections() throws Exception {
        TestBackend live = backend();
        int dead = deadPort();
        RawHttp client = connect();
        addServer(live.port());
        addServer(dead);

        for (int i = 0; i < 6; i++) {
            RawHttp.Response response = client.get("/get/" + i);
            assertEquals(200, response.status(), "request " + i + ": " + response.text());
            assertEquals("ok", response.text());
        }

        assertEquals(6, live.requestCount(), "every request ends on the live server");
        assertTrue(serverCount("127.0.0.1:" + dead, "failed") >= 1, "round-robin never tried the dead server");
    }

    @Test
    void shouldRetryAPostWithABodyOnAnotherServerWhenTheConnectionIsRefused() throws Exception {
        TestBackend live = backend();
        int dead = deadPort();
        RawHttp client = connect();
        addServer(live.port());
        addServer(dead);

        // Two in a row on one connection: round-robin sends one of them to the dead server first.
        for (int i = 0; i < 2; i++) {
            byte[] body = ("post body " + i).getBytes(StandardCharsets.UTF_8);
            client.sendHead("POST /post/" + i + " HTTP/1.1", "Host: weldr.test", "Content-Type: text/plain",
                    "Content-Length: " + body.length).send(body);
            RawHttp.Response response = client.read(false);
            assertEquals(200, response.status(), "POST " + i + ": " + response.text());
        }

        List<TestBackend.Seen> seen = live.seen();
        assertEquals(2, seen.size(), "both POSTs end on the live server");
        for (int i = 0; i < 2; i++) {
            assertEquals("POST", seen.get(i).method().name());
            assertEquals("post body " + i, seen.get(i).body().toString(StandardCharsets.UTF_8));
        }
        assertTrue(serverCount("127.0.0.1:" + dead, "failed") >= 1, "round-robin never tried the dead server");
    }

    @Test
    void shouldRetryAGetOnAnotherServerWhenTheBackendResetsTheConnectionBeforeAnswering() throws Exception {
        ResettingBackend resetting = closeLater(new ResettingBackend());
        TestBackend live = backend();
        addServer(resetting.port());
        addServer(live.port());
        RawHttp client = connect();

        for (int i = 0; i < 4; i++) {
            RawHttp.Response response = client.get("/get/" + i);
            assertEquals(200, response.status(), "request " + i + ": " + response.text());
        }

        assertEquals(4, live.requestCount(), "every request ends on the live server");
        assertFalse(resetting.seen().isEmpty(), "round-robin never tried the resetting server");
    }

    @Test
    void shouldNotRetryAPostWithABodyWhenTheBackendResetsTheConnectionBeforeAnswering() throws Exception {
        ResettingBackend resetting = closeLater(new ResettingBackend());
        TestBackend live = backend();
        addServer(resetting.port());
        addServer(live.port());
        RawHttp client = connect();

        // Round-robin decides which server a POST goes to first: send POSTs until one has reached
        // the resetting server, and check each one's fate.
        boolean resetOnce = false;
        for (int i = 0; i < 8 && !resetOnce; i++) {
            int resetBefore = resetting.seen().size();
            int liveBefore = live.requestCount();
            byte[] body = ("post body " + i).getBytes(StandardCharsets.UTF_8);
            client.sendHead("POST /post/" + i + " HTTP/1.1", "Host: weldr.test", "Content-Length: " + body.length)
                    .send(body);
            RawHttp.Response response = client.read(false);
            if (resetting.seen().size() > resetBefore) {
                resetOnce = true;
                assertEquals(502, response.status(), "a POST that was sent and reset must not be retried");
                NoActiveServerTest.assertShortPlainText(response);
                assertEquals(liveBefore, live.requestCount(), "the reset POST was retried on the live server");
            } else {
                assertEquals(200, response.status(), "POST " + i + " went to the live server: " + response.text());
                assertEquals(liveBefore + 1, live.requestCount());
            }
        }
        assertTrue(resetOnce, "no POST reached the resetting server");
    }

    @Test
    void shouldNotBlameTheServerWhenClientsHangUpBeforeItAnswers() throws Exception {
        // wrk closing its connections at the end of a run, users closing a tab: the backend did
        // nothing wrong, and passive health checking (5 consecutive failures by default) must not
        // eject it. It did, before: weldr's own reset of the abandoned request counted as one.
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                backendVertx.setTimer(300, id -> response.end("late"))));
        addServer(slow.port());
        int hangUps = 8;
        for (int i = 0; i < hangUps; i++) {
            try (RawHttp client = RawHttp.connect(proxyPort())) {
                client.sendHead("GET /slow/" + i + " HTTP/1.1", "Host: weldr.test");
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (slow.requestCount() <= i && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
            }
        }
        assertEquals(hangUps, slow.requestCount(), "every request reached the backend before its client hung up");
        Thread.sleep(500);
        assertEquals("active", state(slow.port()));
        assertEquals(0, serverCount(slow.id(), "failed"));
        assertEquals(200, connect().get("/after").status());
    }
}
