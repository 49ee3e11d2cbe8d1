package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weldr as an HTTP/1.1 intermediary (RFC 9110 §7.6): Via, X-Forwarded-*, Host, and hop-by-hop
 * headers removed in both directions. Raw sockets, because client libraries manage Host,
 * Connection and friends themselves.
 */
@QuarkusTest
class HeadersTest extends ProxyTestBase {

    /** Sends {@code GET /headers} with these header lines and returns the request the backend got. */
    private TestBackend.Seen forward(String... headerLines) throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        String[] lines = new String[headerLines.length + 1];
        lines[0] = "GET /headers HTTP/1.1";
        System.arraycopy(headerLines, 0, lines, 1, headerLines.length);
        RawHttp.Response response = connect().sendHead(lines).read(false);
        assertEquals(200, response.status(), response.text());
        assertEquals(1, backend.requestCount());
        return backend.seen().get(0);
    }

    /** Has a backend answer with these extra header lines and returns the response the client got. */
    private RawHttp.Response answerWith(String... nameValuePairs) throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) -> {
            for (int i = 0; i < nameValuePairs.length; i += 2) {
                response.headers().add(nameValuePairs[i], nameValuePairs[i + 1]);
            }
            response.end("ok");
        }));
        addServer(backend.port());
        RawHttp.Response response = connect().get("/headers");
        assertEquals(200, response.status());
        assertEquals("ok", response.text());
        return response;
    }

    // ---- Via --------------------------------------------------------------------------------

    @Test
    void shouldAddViaToTheRequest() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test");
        assertEquals("1.1 weldr", seen.header("via"));
    }

    @Test
    void shouldAppendViaToAnExistingViaOfTheRequest() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test", "Via: 1.0 edge, 1.1 cdn");
        assertEquals("1.0 edge, 1.1 cdn, 1.1 weldr", String.join(", ", seen.headers().getAll("via")));
    }

    @Test
    void shouldKeepEveryViaLineOfTheRequestWhenAppending() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test", "Via: 1.0 edge", "Via: 1.1 cdn");
        assertEquals("1.0 edge, 1.1 cdn, 1.1 weldr", String.join(", ", seen.headers().getAll("via")));
    }

    @Test
    void shouldAddViaToTheResponse() throws Exception {
        RawHttp.Response response = answerWith();
        assertEquals(List.of("1.1 weldr"), response.head().all("via"));
    }

    @Test
    void shouldAppendViaToAnExistingViaOfTheResponse() throws Exception {
        RawHttp.Response response = answerWith("Via", "1.0 origin-cache");
        assertEquals("1.0 origin-cache, 1.1 weldr", String.join(", ", response.head().all("via")));
    }

    // ---- X-Forwarded-* and Host -------------------------------------------------------------

    @Test
    void shouldSetXForwardedForToTheClientAddress() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test");
        assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
    }

    @Test
    void shouldAppendTheClientAddressToAnExistingXForwardedFor() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test", "X-Forwarded-For: 203.0.113.7, 198.51.100.2");
        assertEquals("203.0.113.7, 198.51.100.2, 127.0.0.1", String.join(", ", seen.headers().getAll("x-forwarded-for")));
    }

    @Test
    void shouldKeepEveryXForwardedForLineWhenAppending() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test", "X-Forwarded-For: 203.0.113.7", "X-Forwarded-For: 198.51.100.2");
        assertEquals("203.0.113.7, 198.51.100.2, 127.0.0.1", String.join(", ", seen.headers().getAll("x-forwarded-for")));
    }

    @Test
    void shouldSetXForwardedProtoToHttp() throws Exception {
        TestBackend.Seen seen = forward("Host: weldr.test", "X-Forwarded-Proto: https");
        assertEquals(List.of("http"), seen.headers().getAll("x-forwarded-proto"));
    }

    @Test
    void shouldSetXForwardedHostToTheHostTheClientSent() throws Exception {
        TestBackend.Seen seen = forward("Host: shop.example:8443");
        assertEquals(List.of("shop.example:8443"), seen.headers().getAll("x-forwarded-host"));
    }

    @Test
    void shouldKeepTheHostTheClientSent() throws Exception {
        TestBackend.Seen seen = forward("Host: shop.example:8443");
        assertEquals(List.of("shop.example:8443"), seen.headers().getAll("host"));
    }

    // ---- hop-by-hop -------------------------------------------------------------------------

    @Test
    void shouldRemoveHopByHopHeadersFromTheRequest() throws Exception {
        TestBackend.Seen seen = forward(
                "Host: weldr.test",
                "Connection: close, X-Secret",
                "X-Secret: only for the proxy",
                "Keep-Alive: timeout=5",
                "TE: trailers",
                "Trailer: X-Checksum",
                "Proxy-Authorization: Basic d2VsZHI6c2VjcmV0",
                "X-Kept: yes");

        for (String name : List.of("x-secret", "keep-alive", "te", "trailer", "proxy-authorization")) {
            assertFalse(seen.headers().contains(name), name + " reached the backend: " + seen.headers().getAll(name));
        }
        // The proxy may speak for its own connection, never pass on the client's.
        for (String value : seen.headers().getAll("connection")) {
            assertFalse(value.toLowerCase().contains("x-secret") || value.toLowerCase().contains("close"),
                    "the client's Connection header reached the backend: " + value);
        }
        assertEquals("yes", seen.header("x-kept"), "an end-to-end header was removed");
    }

    @Test
    void shouldRemoveHopByHopHeadersFromTheResponse() throws Exception {
        RawHttp.Response response = answerWith(
                "Connection", "X-Internal",
                "X-Internal", "only for the proxy",
                "Keep-Alive", "timeout=5, max=100",
                "Proxy-Authenticate", "Basic realm=\"backend\"",
                "Upgrade", "h2c",
                "X-Kept", "yes");

        for (String name : List.of("x-internal", "keep-alive", "proxy-authenticate", "upgrade")) {
            assertNull(response.header(name), name + " reached the client: " + response.head().all(name));
        }
        for (String value : response.head().all("connection")) {
            assertFalse(value.toLowerCase().contains("x-internal"), "the backend's Connection header reached the client: " + value);
        }
        assertEquals("yes", response.header("x-kept"), "an end-to-end header was removed");
        assertTrue(response.head().all("via").contains("1.1 weldr"));
    }
}
