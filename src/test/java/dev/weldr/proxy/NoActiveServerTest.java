package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 503 when no server can take a request, with a short plain-text body. */
@QuarkusTest
class NoActiveServerTest extends ProxyTestBase {

    @Test
    void shouldAnswer503WhenThePoolIsEmpty() throws Exception {
        RawHttp.Response response = connect().get("/anything");

        assertEquals(503, response.status());
        assertShortPlainText(response);
    }

    @Test
    void shouldAnswerAHeadRequestWithTheLengthAndNoBodySoTheConnectionGoesOn() throws Exception {
        try (RawHttp client = connect()) {
            client.sendHead("HEAD /anything HTTP/1.1", "Host: weldr.test");
            RawHttp.Head head = client.read(true).head();
            assertEquals(503, head.status());
            assertTrue(head.contentLength() > 0, "the length a GET's body would have: " + head.headers());

            // A body byte after the HEAD answer would be read here as the start of the next response.
            RawHttp.Response next = client.get("/anything");
            assertEquals(503, next.status());
            assertShortPlainText(next);
        }
    }

    @Test
    void shouldAnswer503WhenTheOnlyServerIsDown() throws Exception {
        // Answers 500 to everything, weldr's health checks included: the checker marks it down.
        TestBackend failing = backend(TestBackend.options()
                .answeringHealthChecksLikeAnyRequest()
                .responder((seen, response) -> response.setStatusCode(500).end("backend error")));
        addServer(failing.port());
        awaitState(failing.port(), "down");
        int seenBefore = proxiedRequests(failing);

        RawHttp.Response response = connect().get("/anything");

        assertEquals(503, response.status(), "a down server must not be tried: " + response.text());
        assertShortPlainText(response);
        assertEquals(seenBefore, proxiedRequests(failing), "the request reached the down server");
    }

    private static int proxiedRequests(TestBackend backend) {
        return (int) backend.seen().stream()
                .filter(s -> !TestBackend.HEALTH_CHECK_AGENT.equals(s.header("user-agent")))
                .count();
    }

    static void assertShortPlainText(RawHttp.Response response) {
        String type = response.header("content-type");
        assertTrue(type != null && type.startsWith("text/plain"), "content type: " + type);
        String text = response.text();
        assertFalse(text.isBlank(), "the body is empty");
        assertTrue(text.length() < 200, "the body is not short: " + text);
    }
}
